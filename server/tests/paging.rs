//! History comes in pages that fit in one frame, however large the stored
//! messages: no frame the server sends exceeds MAX_FRAME_BYTES.

mod common;

use common::frames::{join, joined, post_ok};
use common::{Client, TestServer};
use tether_protocol::{ClientMsg, Cursor, ErrorCode, MAX_BODY_CHARS, MAX_FRAME_BYTES, ServerMsg};

const TOTAL: u64 = 30;

/// Receives one frame, checking its size on the wire.
async fn recv_sized(c: &mut Client) -> ServerMsg {
    let text = c.recv_text().await;
    assert!(text.len() <= MAX_FRAME_BYTES, "a {} byte frame exceeds MAX_FRAME_BYTES", text.len());
    serde_json::from_str(&text).expect("server json")
}

#[tokio::test]
async fn joins_and_history_pages_cover_everything_once_in_frames_within_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("t.db")).await;
    let mut a = Client::hello(&server.ws_url(), "writer").await;
    let (epoch, _, _) = joined(&mut a, "big", None).await;
    // Maximal bodies: 4000 four-byte characters, ~16 KB each.
    let body = "\u{10348}".repeat(MAX_BODY_CHARS);
    for i in 1..=TOTAL {
        post_ok(&mut a, "big", &format!("m{i}"), &body).await;
    }

    let mut b = Client::hello(&server.ws_url(), "reader").await;
    b.send(&join("big", None)).await;
    let (mut seqs, mut has_older) = match recv_sized(&mut b).await {
        ServerMsg::Joined { recovered: false, history, has_older, .. } => {
            (history.iter().map(|m| m.seq).collect::<Vec<_>>(), has_older)
        }
        other => panic!("expected joined, got {other:?}"),
    };
    assert_eq!(seqs.last(), Some(&TOTAL), "the newest page");
    assert!(seqs.len() < TOTAL as usize && has_older, "one page only, and it says there is more");
    let mut pages = 1;
    while has_older {
        let before = seqs[0];
        b.send(&ClientMsg::History { room: "big".into(), before }).await;
        match recv_sized(&mut b).await {
            ServerMsg::History { room, before: echoed, messages, has_older: more } => {
                assert_eq!((room.as_str(), echoed), ("big", before));
                assert!(!messages.is_empty());
                assert!(messages.iter().all(|m| m.body == body));
                let mut page: Vec<u64> = messages.iter().map(|m| m.seq).collect();
                page.append(&mut seqs);
                seqs = page;
                has_older = more;
            }
            other => panic!("expected history, got {other:?}"),
        }
        pages += 1;
        assert!(pages <= TOTAL, "paging must make progress");
    }
    assert_eq!(seqs, (1..=TOTAL).collect::<Vec<_>>(), "every message exactly once, in order");

    // A cursor whose gap does not fit in a frame gets the newest page instead.
    b.send(&join("big", Some(Cursor { epoch: epoch.clone(), seq: 1 }))).await;
    assert!(matches!(recv_sized(&mut b).await, ServerMsg::Joined { recovered: false, has_older: true, .. }));
    // A small gap is replayed exactly.
    b.send(&join("big", Some(Cursor { epoch, seq: TOTAL - 2 }))).await;
    match recv_sized(&mut b).await {
        ServerMsg::Joined { recovered: true, history, .. } => {
            assert_eq!(history.iter().map(|m| m.seq).collect::<Vec<_>>(), [TOTAL - 1, TOTAL]);
        }
        other => panic!("expected a recovered join, got {other:?}"),
    }
    // History of a room one is not in is refused.
    b.send(&ClientMsg::History { room: "elsewhere".into(), before: 10 }).await;
    assert!(matches!(b.recv().await, ServerMsg::Error { code: ErrorCode::NotJoined, .. }));
    server.stop().await;
}
