//! Frames to and from JSON. A frame that does not decode is not an error the
//! app can ignore by accident: it arrives as [`Incoming::Raw`] with the text
//! and the reason, and is counted in the metrics.

use serde::{Serialize, de::DeserializeOwned};

/// One inbound frame.
#[derive(Clone, Debug, PartialEq)]
pub enum Incoming<Rx> {
    Typed(Rx),
    /// Not valid JSON of the expected type (or a binary frame): kept as-is.
    Raw {
        text: String,
        error: String,
    },
}

pub fn decode<Rx: DeserializeOwned>(text: &str) -> Incoming<Rx> {
    match serde_json::from_str(text) {
        Ok(rx) => Incoming::Typed(rx),
        Err(e) => Incoming::Raw { text: text.to_owned(), error: e.to_string() },
    }
}

pub fn encode<Tx: Serialize>(tx: &Tx) -> Result<String, serde_json::Error> {
    serde_json::to_string(tx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tether_protocol::ServerMsg;

    #[test]
    fn valid_frames_are_typed_and_invalid_ones_keep_their_text() {
        assert_eq!(decode::<ServerMsg>(r#"{"type":"pong","nonce":3}"#), Incoming::Typed(ServerMsg::Pong { nonce: 3 }));
        for bad in ["not json", r#"{"type":"pong"}"#, ""] {
            match decode::<ServerMsg>(bad) {
                Incoming::Raw { text, error } => {
                    assert_eq!(text, bad);
                    assert!(!error.is_empty());
                }
                other => panic!("{bad:?} decoded as {other:?}"),
            }
        }
    }
}
