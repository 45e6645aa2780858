//! Fitting history into one frame: no frame the server sends may exceed
//! [`MAX_FRAME_BYTES`], however large the stored messages are.

use tether_protocol::{ChatMessage, MAX_FRAME_BYTES};

fn encoded_len(m: &ChatMessage) -> usize {
    serde_json::to_string(m).map_or(MAX_FRAME_BYTES, |s| s.len())
}

/// How many of `msgs` (oldest first), counted from the newest, fit in a frame
/// whose fixed part (the frame with an empty list) is `envelope` bytes.
fn newest_fitting(msgs: &[ChatMessage], envelope: usize) -> usize {
    let mut total = envelope;
    let mut n = 0;
    for m in msgs.iter().rev() {
        // A comma between elements.
        let add = encoded_len(m) + usize::from(n > 0);
        if total + add > MAX_FRAME_BYTES {
            break;
        }
        total += add;
        n += 1;
    }
    n
}

/// Keeps the newest messages that fit; returns them and whether any were cut.
pub fn keep_newest(mut msgs: Vec<ChatMessage>, envelope: usize) -> (Vec<ChatMessage>, bool) {
    let n = newest_fitting(&msgs, envelope);
    let cut = msgs.len() - n;
    msgs.drain(..cut);
    (msgs, cut > 0)
}

/// Whether all of `msgs` fit in one frame.
pub fn all_fit(msgs: &[ChatMessage], envelope: usize) -> bool {
    newest_fitting(msgs, envelope) == msgs.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tether_protocol::{MAX_BODY_CHARS, ServerMsg};

    fn msg(seq: u64, body: &str) -> ChatMessage {
        ChatMessage { room: "r".into(), seq, id: format!("id-{seq}"), author: "a".into(), body: body.into(), ts_ms: 1 }
    }

    #[test]
    fn the_kept_page_is_the_newest_and_its_frame_fits() {
        let big = "\u{10348}".repeat(MAX_BODY_CHARS);
        let msgs: Vec<_> = (1..=20).map(|s| msg(s, &big)).collect();
        let frame = |history| ServerMsg::History { room: "r".into(), before: 21, messages: history, has_older: true };
        let envelope = serde_json::to_string(&frame(vec![])).unwrap().len();
        let (kept, cut) = keep_newest(msgs.clone(), envelope);
        assert!(cut && !kept.is_empty());
        assert_eq!(kept.last().unwrap().seq, 20);
        let len = serde_json::to_string(&frame(kept.clone())).unwrap().len();
        assert!(len <= MAX_FRAME_BYTES, "{len}");
        // One more would not have fitted.
        let one_more = msgs[20 - kept.len() - 1..].to_vec();
        assert!(serde_json::to_string(&frame(one_more)).unwrap().len() > MAX_FRAME_BYTES);
        assert!(!all_fit(&msgs, envelope));
        assert!(all_fit(&msgs[..1], envelope));
    }
}
