//! Fuzzes the decoding of a client frame (`ClientMsg::decode_bytes`, which
//! accepts exactly what the server's session parses). Beyond "no panic", it checks
//! the decoder's contract: a refusal names the right kind of error, and what
//! is accepted re-encodes to a frame that decodes to the same message.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tether_protocol::{ClientMsg, DecodeError, MAX_DETAIL_CHARS, MAX_FRAME_BYTES};

fuzz_target!(|data: &[u8]| {
    let result = ClientMsg::decode_bytes(data);
    let text = std::str::from_utf8(data);
    let is_json = text.is_ok_and(|t| serde_json::from_str::<serde_json::Value>(t).is_ok());
    match &result {
        Ok(msg) => {
            assert!(is_json, "accepted a frame that is not JSON");
            let again = serde_json::to_string(msg).expect("a message always encodes");
            assert_eq!(ClientMsg::decode(&again).as_ref(), Ok(msg), "round trip through {again}");
        }
        Err(DecodeError::TooBig(n)) => assert!(*n == data.len() && *n > MAX_FRAME_BYTES),
        Err(DecodeError::NotText) => assert!(text.is_err(), "valid UTF-8 called not text"),
        Err(DecodeError::NotJson(detail)) => {
            assert!(!is_json, "valid JSON called not JSON");
            assert!(!detail.is_empty() && detail.chars().count() <= MAX_DETAIL_CHARS + 1);
        }
        Err(DecodeError::NotAMessage(detail)) => {
            assert!(is_json, "not JSON called a bad message");
            assert!(!detail.is_empty() && detail.chars().count() <= MAX_DETAIL_CHARS + 1);
        }
    }
});
