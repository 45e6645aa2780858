//! Property tests of the client-frame decoder: whatever arrives, decoding
//! never panics and every refusal is a specific, bounded error; every valid
//! message survives encoding and decoding unchanged.
//!
//! Case counts are small so this runs in a couple of seconds in `make test`;
//! the long search is the cargo-fuzz target in fuzz/.

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use tether_protocol::{ClientMsg, Cursor, DecodeError, MAX_DETAIL_CHARS, MAX_FRAME_BYTES};

fn config() -> ProptestConfig {
    ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() }
}

/// Whether serde_json can read `text` as a JSON value: the decoder's
/// meaning of "JSON" (strict strings, nesting up to 128).
fn is_json(text: &str) -> bool {
    serde_json::from_str::<Value>(text).is_ok()
}

/// The decoder's contract for any text: no panic; an error names its kind,
/// says something, and stays short; "not JSON" exactly when it is not.
fn check_text(text: &str) -> Result<(), TestCaseError> {
    let result = ClientMsg::decode(text);
    let is_json = is_json(text);
    match &result {
        Ok(msg) => {
            prop_assert!(is_json, "accepted non-JSON {text:?}");
            let again = serde_json::to_string(msg).unwrap();
            prop_assert_eq!(&ClientMsg::decode(&again), &Ok(msg.clone()), "re-encoded as {}", again);
        }
        Err(DecodeError::NotJson(detail)) => {
            prop_assert!(!is_json, "valid JSON called not JSON: {text:?}: {detail}");
            check_detail(detail)?;
        }
        Err(DecodeError::NotAMessage(detail)) => {
            prop_assert!(is_json, "non-JSON called a bad message: {text:?}");
            check_detail(detail)?;
        }
        Err(e) => prop_assert!(false, "{e:?} for {} bytes of text", text.len()),
    }
    let message = result.err().map(|e| e.to_string()).unwrap_or_default();
    prop_assert!(message.chars().count() <= MAX_DETAIL_CHARS + 60, "long error: {message}");
    Ok(())
}

fn check_detail(detail: &str) -> Result<(), TestCaseError> {
    prop_assert!(!detail.trim().is_empty(), "empty detail");
    prop_assert!(detail.chars().count() <= MAX_DETAIL_CHARS + 1, "detail too long: {detail}");
    Ok(())
}

/// Any JSON value up to a modest depth (below serde_json's nesting limit).
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(6, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".{0,8}", inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const TYPES: &[&str] = &["hello", "join", "leave", "post", "ping", "welcome", "Hello", ""];
const FIELDS: &[&str] = &["nick", "room", "since", "id", "body", "nonce", "epoch", "seq", "type", "extra"];

/// Objects that look like client frames: a known (or near) `type` and a mix
/// of real field names with arbitrary values, so decoding goes past the tag.
fn frame_like() -> impl Strategy<Value = Value> {
    let field = (prop::sample::select(FIELDS), json_value());
    (prop::sample::select(TYPES), prop::collection::vec(field, 0..5)).prop_map(|(t, fields)| {
        let mut m = Map::new();
        m.insert("type".into(), json!(t));
        for (k, v) in fields {
            m.insert(k.into(), v);
        }
        Value::Object(m)
    })
}

fn client_msg() -> impl Strategy<Value = ClientMsg> {
    let s = || any::<String>();
    let cursor = (s(), any::<u64>()).prop_map(|(epoch, seq)| Cursor { epoch, seq });
    prop_oneof![
        s().prop_map(|nick| ClientMsg::Hello { nick }),
        (s(), prop::option::of(cursor)).prop_map(|(room, since)| ClientMsg::Join { room, since }),
        s().prop_map(|room| ClientMsg::Leave { room }),
        (s(), s(), s()).prop_map(|(room, id, body)| ClientMsg::Post { room, id, body }),
        any::<u64>().prop_map(|nonce| ClientMsg::Ping { nonce }),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic_and_get_a_specific_error(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        match std::str::from_utf8(&bytes) {
            Ok(text) => {
                check_text(text)?;
                prop_assert_eq!(ClientMsg::decode_bytes(&bytes), ClientMsg::decode(text));
            }
            Err(_) => prop_assert_eq!(ClientMsg::decode_bytes(&bytes), Err(DecodeError::NotText)),
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        check_text(&text)?;
    }

    #[test]
    fn json_alphabet_soup_never_panics(text in r#"[\[\]{}":, 0-9a-z.eE+\\-]{0,64}"#) {
        check_text(&text)?;
    }

    #[test]
    fn any_json_is_a_message_or_not_a_message_never_unparsed(v in json_value()) {
        let text = v.to_string();
        check_text(&text)?;
        prop_assert!(!matches!(ClientMsg::decode(&text), Err(DecodeError::NotJson(_))), "{}", text);
    }

    #[test]
    fn frame_like_objects_decode_or_say_what_is_wrong(v in frame_like()) {
        let text = v.to_string();
        check_text(&text)?;
        if let Err(e) = ClientMsg::decode(&text) {
            prop_assert!(matches!(e, DecodeError::NotAMessage(_)), "{:?} for {}", e, text);
        }
    }

    #[test]
    fn valid_messages_round_trip(msg in client_msg()) {
        let text = serde_json::to_string(&msg).unwrap();
        prop_assert_eq!(ClientMsg::decode(&text), Ok(msg.clone()));
        prop_assert_eq!(ClientMsg::decode_bytes(text.as_bytes()), Ok(msg));
    }
}

#[test]
fn oversize_frames_are_refused_by_size_before_parsing() {
    let text = format!(r#"{{"type":"hello","nick":"{}"}}"#, "a".repeat(MAX_FRAME_BYTES));
    assert_eq!(ClientMsg::decode(&text), Err(DecodeError::TooBig(text.len())));
    assert_eq!(ClientMsg::decode_bytes(text.as_bytes()), Err(DecodeError::TooBig(text.len())));
}

#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    for open in ["[", "{\"a\":"] {
        let depth = MAX_FRAME_BYTES / open.len() - 64;
        let text = format!(r#"{{"type":"ping","nonce":1,"x":{}"#, open.repeat(depth));
        let err = ClientMsg::decode(&text).unwrap_err();
        assert!(matches!(err, DecodeError::NotJson(ref d) if d.contains("recursion limit")), "{err:?}");
    }
}

#[test]
fn an_unknown_type_is_named_but_not_echoed_in_full() {
    let text = format!(r#"{{"type":"{}"}}"#, "x".repeat(10_000));
    let err = ClientMsg::decode(&text).unwrap_err();
    let DecodeError::NotAMessage(detail) = &err else { panic!("{err:?}") };
    assert!(detail.starts_with("unknown variant `xxx"), "{detail}");
    assert_eq!(detail.chars().count(), MAX_DETAIL_CHARS + 1, "truncated with an ellipsis");
}

/// Found by the fuzzer (fuzz/README.md): a lone surrogate escape made the
/// same defect "not a message" or "not JSON" depending on the `type`.
#[test]
fn a_lone_surrogate_escape_is_not_json_whatever_the_type() {
    for text in [
        r#"{"type":"Uost","body":"hi \ude00"}"#,
        r#"{"type":"hello","nick":"\ude00"}"#,
        r#"{"type":"post","room":"r","id":"x","body":"\ud83d"}"#,
    ] {
        let err = ClientMsg::decode(text).unwrap_err();
        assert!(matches!(err, DecodeError::NotJson(_)), "{text}: {err:?}");
    }
    assert!(ClientMsg::decode(r#"{"type":"hello","nick":"\ud83d\ude00"}"#).is_ok(), "a proper pair is fine");
}
