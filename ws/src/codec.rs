//! Turning messages into WebSocket frames and back.
//!
//! The hook is generic over a [`Codec`] so an app can speak JSON, plain text or
//! raw bytes without the hook knowing its protocol. A frame that does not
//! decode is never a panic and never silently skipped: it reaches the app as
//! [`Incoming::Undecodable`] with the reason, and is counted in the metrics.

use serde::{Serialize, de::DeserializeOwned};
use std::fmt;

/// One WebSocket data frame, as sent or received.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Frame {
    /// A text frame (always valid UTF-8: the browser checks it).
    Text(String),
    /// A binary frame (an `ArrayBuffer` in the browser).
    Binary(Vec<u8>),
}

impl Frame {
    /// Payload size in bytes, for metrics.
    pub fn len(&self) -> usize {
        match self {
            Frame::Text(t) => t.len(),
            Frame::Binary(b) => b.len(),
        }
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<&str> for Frame {
    fn from(s: &str) -> Self {
        Frame::Text(s.to_owned())
    }
}

/// Encodes outgoing messages (`Tx`) and decodes incoming ones (`Rx`).
///
/// Implement it for your own wire format; [`JsonCodec`] (the default),
/// [`TextCodec`] and [`BinaryCodec`] ship with the crate.
pub trait Codec<Tx, Rx>: 'static {
    /// Why a message could not be encoded or a frame decoded. Shown to the
    /// app in [`crate::WsError`] through its `Display`.
    type Error: fmt::Display;

    /// Turn a message into a frame. Called once per `send`.
    fn encode(&self, msg: &Tx) -> Result<Frame, Self::Error>;

    /// Turn a received frame into a message. Called once per frame, even when
    /// several components share the connection.
    fn decode(&self, frame: &Frame) -> Result<Rx, Self::Error>;

    /// Decode a frame the hook no longer needs, handing it back on failure.
    /// The hook calls this for every inbound frame; a codec that can take
    /// the frame's buffer as it is (text as `String`) overrides it to save a
    /// copy per message. The default borrows and calls [`Codec::decode`].
    fn decode_owned(&self, frame: Frame) -> Result<Rx, (Self::Error, Frame)> {
        self.decode(&frame).map_err(|e| (e, frame))
    }
}

/// One inbound frame as the app sees it.
#[derive(Clone, Debug, PartialEq)]
pub enum Incoming<Rx> {
    /// Decoded by the codec.
    Message(Rx),
    /// The codec refused it: the frame as received and the reason. Counted in
    /// `Metrics::malformed_in` and reported in the `error` signal.
    Undecodable {
        /// The frame exactly as it arrived.
        frame: Frame,
        /// The codec's error, as text.
        error: String,
    },
}

/// JSON through serde_json, in text frames. Binary frames holding JSON are
/// accepted too. The default codec.
#[derive(Clone, Copy, Debug, Default)]
pub struct JsonCodec;

impl<Tx: Serialize, Rx: DeserializeOwned> Codec<Tx, Rx> for JsonCodec {
    type Error = serde_json::Error;

    fn encode(&self, msg: &Tx) -> Result<Frame, Self::Error> {
        serde_json::to_string(msg).map(Frame::Text)
    }

    fn decode(&self, frame: &Frame) -> Result<Rx, Self::Error> {
        // One reader for both kinds of frame: `from_slice` would compile the
        // whole `Rx` decoder a second time (the app's wasm: 28.7 KB raw).
        let text = match frame {
            Frame::Text(t) => t.as_str(),
            Frame::Binary(b) => std::str::from_utf8(b)
                .map_err(|_| <serde_json::Error as serde::de::Error>::custom("binary frame is not valid UTF-8"))?,
        };
        serde_json::from_str(text)
    }
}

/// Why [`TextCodec`] or [`BinaryCodec`] refused a frame.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum RawCodecError {
    /// A binary frame that is not UTF-8 where text was expected.
    #[error("binary frame of {0} bytes is not valid UTF-8 text")]
    NotUtf8(usize),
}

/// Plain `String`s in text frames. A binary frame is accepted when it is
/// valid UTF-8.
#[derive(Clone, Copy, Debug, Default)]
pub struct TextCodec;

impl Codec<String, String> for TextCodec {
    type Error = RawCodecError;

    fn encode(&self, msg: &String) -> Result<Frame, Self::Error> {
        Ok(Frame::Text(msg.clone()))
    }

    fn decode(&self, frame: &Frame) -> Result<String, Self::Error> {
        match frame {
            Frame::Text(t) => Ok(t.clone()),
            Frame::Binary(b) => String::from_utf8(b.clone()).map_err(|_| RawCodecError::NotUtf8(b.len())),
        }
    }

    fn decode_owned(&self, frame: Frame) -> Result<String, (Self::Error, Frame)> {
        match frame {
            Frame::Text(t) => Ok(t),
            Frame::Binary(b) => String::from_utf8(b).map_err(|e| {
                let b = e.into_bytes();
                (RawCodecError::NotUtf8(b.len()), Frame::Binary(b))
            }),
        }
    }
}

/// Raw bytes in binary frames; a text frame arrives as its UTF-8 bytes.
#[derive(Clone, Copy, Debug, Default)]
pub struct BinaryCodec;

impl Codec<Vec<u8>, Vec<u8>> for BinaryCodec {
    type Error = RawCodecError;

    fn encode(&self, msg: &Vec<u8>) -> Result<Frame, Self::Error> {
        Ok(Frame::Binary(msg.clone()))
    }

    fn decode(&self, frame: &Frame) -> Result<Vec<u8>, Self::Error> {
        Ok(match frame {
            Frame::Text(t) => t.as_bytes().to_vec(),
            Frame::Binary(b) => b.clone(),
        })
    }

    fn decode_owned(&self, frame: Frame) -> Result<Vec<u8>, (Self::Error, Frame)> {
        Ok(match frame {
            Frame::Text(t) => t.into_bytes(),
            Frame::Binary(b) => b,
        })
    }
}

/// Decode with `codec`, keeping an undecodable frame and its reason.
pub(crate) fn decode<Tx, Rx, C: Codec<Tx, Rx>>(codec: &C, frame: Frame) -> Incoming<Rx> {
    match codec.decode_owned(frame) {
        Ok(rx) => Incoming::Message(rx),
        Err((e, frame)) => Incoming::Undecodable { error: e.to_string(), frame },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
    #[serde(tag = "type", rename_all = "snake_case")]
    enum Msg {
        Pong { nonce: u64 },
    }

    #[test]
    fn json_round_trips_and_reports_what_it_cannot_read() {
        let f = Codec::<Msg, Msg>::encode(&JsonCodec, &Msg::Pong { nonce: 3 }).unwrap();
        assert_eq!(f, Frame::Text(r#"{"type":"pong","nonce":3}"#.into()));
        assert_eq!(decode::<Msg, Msg, _>(&JsonCodec, f), Incoming::Message(Msg::Pong { nonce: 3 }));
        let bin = Frame::Binary(br#"{"type":"pong","nonce":4}"#.to_vec());
        assert_eq!(decode::<Msg, Msg, _>(&JsonCodec, bin), Incoming::Message(Msg::Pong { nonce: 4 }));
        let not_utf8 = Frame::Binary(b"{\"type\":\"pong\",\"x\":\"\xff\",\"nonce\":5}".to_vec());
        match decode::<Msg, Msg, _>(&JsonCodec, not_utf8.clone()) {
            Incoming::Undecodable { frame, error } => {
                assert_eq!(frame, not_utf8);
                assert_eq!(error, "binary frame is not valid UTF-8");
            }
            other => panic!("a binary frame that is not UTF-8 decoded as {other:?}"),
        }
        for bad in ["not json", r#"{"type":"pong"}"#, ""] {
            match decode::<Msg, Msg, _>(&JsonCodec, bad.into()) {
                Incoming::Undecodable { frame, error } => {
                    assert_eq!(frame, Frame::Text(bad.into()));
                    assert!(!error.is_empty());
                }
                other => panic!("{bad:?} decoded as {other:?}"),
            }
        }
    }

    #[test]
    fn text_codec_accepts_utf8_binary_and_names_the_problem_otherwise() {
        assert_eq!(TextCodec.encode(&"hi".to_owned()), Ok(Frame::Text("hi".into())));
        assert_eq!(decode::<String, String, _>(&TextCodec, "hi".into()), Incoming::Message("hi".into()));
        assert_eq!(
            decode::<String, String, _>(&TextCodec, Frame::Binary(b"ok".to_vec())),
            Incoming::Message("ok".into())
        );
        let bad = Frame::Binary(vec![0xff, 0xfe]);
        assert_eq!(
            decode::<String, String, _>(&TextCodec, bad.clone()),
            Incoming::Undecodable { frame: bad, error: "binary frame of 2 bytes is not valid UTF-8 text".into() }
        );
    }

    #[test]
    fn binary_codec_keeps_bytes_exactly() {
        let bytes = vec![0u8, 1, 2, 255];
        let f = BinaryCodec.encode(&bytes).unwrap();
        assert_eq!(f, Frame::Binary(bytes.clone()));
        assert_eq!(f.len(), 4);
        assert_eq!(decode::<Vec<u8>, Vec<u8>, _>(&BinaryCodec, f), Incoming::Message(bytes));
        assert_eq!(decode::<Vec<u8>, Vec<u8>, _>(&BinaryCodec, "é".into()), Incoming::Message(vec![0xc3, 0xa9]));
    }
}
