//! Numbering and acknowledgement in both directions, endpoints and JSON.

use super::*;
use crate::backoff::SplitMix64;
use proptest::prelude::*;

fn t(s: &str) -> Frame {
    Frame::Text(s.into())
}

#[test]
fn endpoints_live_under_the_websocket_path() {
    let e = Endpoints::new("ws://127.0.0.1:8080/ws").unwrap();
    assert_eq!(e.url("session", &[]), "http://127.0.0.1:8080/ws/session");
    assert_eq!(
        e.url("sse", &[("session", "a b"), ("after", "7")]),
        "http://127.0.0.1:8080/ws/sse?session=a%20b&after=7"
    );
    let e = Endpoints::new("wss://h/app/ws/?v=1#x").unwrap();
    assert_eq!(e.url("poll", &[("after", "0")]), "https://h/app/ws/poll?v=1&after=0");
    assert!(Endpoints::new("ftp://h/ws").is_err());
    assert!(Endpoints::new("/ws").is_err());
}

#[test]
fn one_post_in_flight_in_order_and_a_failed_post_is_retried_with_the_same_numbers() {
    let mut up = Upstream::new();
    let mut rng = SplitMix64(1);
    assert_eq!(up.push(t("a")), Ok(1));
    assert_eq!(up.push(t("b")), Ok(2));
    let p = up.next_post().unwrap();
    assert_eq!(p, Post { seq: 1, frames: vec![t("a"), t("b")] });
    assert_eq!(up.push(t("c")), Ok(3));
    assert_eq!(up.next_post(), None, "one POST at a time");
    let (delay, n) = up.failed(&mut rng);
    assert!((0.0..=250.0).contains(&delay) && n == 1);
    assert_eq!(up.next_post().unwrap(), Post { seq: 1, frames: vec![t("a"), t("b")] }, "the same POST again");
    up.failed(&mut rng);
    let (delay, n) = up.failed(&mut rng);
    assert!(n == 3 && delay <= 1_000.0);
    assert_eq!(up.next_post().unwrap().seq, 1);
    up.accepted(2);
    assert_eq!(up.next_post().unwrap(), Post { seq: 3, frames: vec![t("c")] });
    up.accepted(3);
    assert!(up.idle());
    assert_eq!(up.next_post(), None);
}

#[test]
fn a_partly_accepted_post_resumes_after_the_last_accepted() {
    let mut up = Upstream::new();
    for s in ["a", "b", "c"] {
        up.push(t(s)).unwrap();
    }
    up.next_post();
    up.accepted(1);
    assert_eq!(up.next_post().unwrap(), Post { seq: 2, frames: vec![t("b"), t("c")] });
}

#[test]
fn batches_are_bounded_and_a_big_frame_goes_alone() {
    let mut up = Upstream::new();
    for i in 0..100 {
        up.push(t(&i.to_string())).unwrap();
    }
    assert_eq!(up.next_post().unwrap().frames.len(), MAX_BATCH_FRAMES);
    let mut up = Upstream::new();
    up.push(Frame::Text("x".repeat(MAX_BATCH_BYTES + 1))).unwrap();
    up.push(t("small")).unwrap();
    assert_eq!(up.next_post().unwrap().frames.len(), 1);
}

#[test]
fn the_upstream_is_bounded_and_hands_over_what_was_not_accepted() {
    let mut up = Upstream::new();
    for i in 0..UPSTREAM_CAPACITY {
        up.push(t(&i.to_string())).unwrap();
    }
    assert_eq!(up.push(t("one too many")), Err(UpstreamFull));
    up.next_post();
    up.accepted(10);
    let rest = up.take_unaccepted();
    assert_eq!(rest.len(), UPSTREAM_CAPACITY - 10);
    assert_eq!(rest[0], t("10"));
    assert!(up.idle());
}

#[test]
fn downstream_drops_what_it_already_processed() {
    let mut down = Downstream::default();
    assert_eq!(down.after(), 0);
    assert!(down.accept(1) && down.accept(2));
    assert!(!down.accept(2) && !down.accept(1), "a replay after a lost response");
    assert!(down.accept(3));
    assert_eq!(down.after(), 3);
}

#[test]
fn wire_json_round_trips() {
    assert_eq!(send_body(&[t("hi \"x\""), Frame::Binary(vec![0, 255])]), r#"["hi \"x\"",{"b":"AP8="}]"#);
    let r: PollReply = serde_json::from_str(r#"{"frames":[{"n":7,"t":"a"},{"n":8,"b":"AP8="}],"close":null}"#).unwrap();
    assert_eq!(r.frames[0].frame(), Ok(t("a")));
    assert_eq!(r.frames[1].frame(), Ok(Frame::Binary(vec![0, 255])));
    assert!(r.close.is_none());
    let r: PollReply = serde_json::from_str(r#"{"frames":[],"close":{"code":1001,"reason":"bye"}}"#).unwrap();
    assert_eq!(r.close, Some(CloseInfo { code: 1001, reason: "bye".into() }));
    assert!(WireFrame { n: 1, t: None, b: None }.frame().is_err());
    assert!(decode_binary("!!").is_err());
    let s: SessionStarted = serde_json::from_str(r#"{"session":"abc","poll_ms":25000,"idle_ms":60000}"#).unwrap();
    assert_eq!(s.session, "abc");
    assert_eq!(accepted(r#"{"accepted":12}"#), Some(12));
}

#[test]
fn statuses_say_whether_to_retry_or_close() {
    let e = WireError::from_status(404, r#"{"error":"unknown_session","message":"no such session"}"#);
    assert_eq!(e, WireError::Closed(1006, "session lost (no such session)".into()));
    assert!(matches!(WireError::from_status(410, ""), WireError::Closed(1006, _)));
    assert_eq!(
        WireError::from_status(413, r#"{"error":"too_large","message":"frame over 16384 bytes"}"#),
        WireError::Closed(1009, "frame over 16384 bytes".into())
    );
    assert!(matches!(WireError::from_status(429, "{}"), WireError::Retry(_)));
    assert!(matches!(WireError::from_status(503, "oops"), WireError::Retry(m) if m == "oops"));
    assert!(matches!(WireError::from_status(409, "{}"), WireError::Closed(1002, _)));
}

proptest! {
    /// Whatever mix of sends, lost and answered POSTs: the server (modelled
    /// as "skip what is at or below the last accepted") processes every
    /// frame exactly once, in order.
    #[test]
    fn every_frame_reaches_the_server_once_in_order(ops in proptest::collection::vec(0u8..4, 1..200), seed: u64) {
        let mut up = Upstream::new();
        let mut rng = SplitMix64(seed);
        let mut server: Vec<Frame> = Vec::new();
        let mut last = 0u64;
        let mut sent = 0u32;
        let deliver = |p: &Post, server: &mut Vec<Frame>, last: &mut u64| {
            prop_assert!(p.seq <= *last + 1, "no gap");
            for (i, f) in p.frames.iter().enumerate() {
                let n = p.seq + i as u64;
                if n > *last {
                    server.push(f.clone());
                    *last = n;
                }
            }
            Ok(())
        };
        for op in ops {
            match op {
                0 => { up.push(t(&sent.to_string())).unwrap(); sent += 1; }
                1 => if let Some(p) = up.next_post() { deliver(&p, &mut server, &mut last)?; up.accepted(last); },
                // Processed, but the answer was lost.
                2 => if let Some(p) = up.next_post() { deliver(&p, &mut server, &mut last)?; up.failed(&mut rng); },
                // Lost on the way.
                _ => if up.next_post().is_some() { up.failed(&mut rng); },
            }
        }
        while let Some(p) = up.next_post() {
            deliver(&p, &mut server, &mut last)?;
            up.accepted(last);
        }
        let want: Vec<Frame> = (0..sent).map(|i| t(&i.to_string())).collect();
        prop_assert_eq!(server, want);
    }
}

#[test]
fn a_stream_that_never_worked_is_not_attached_again() {
    let mut r = Reattach::new(3);
    assert_eq!(r.broke(), None, "broken before any frame or heartbeat: the next transport, at once");
    assert!(!r.ever_alive());
}

#[test]
fn a_stream_that_worked_is_attached_again_a_bounded_number_of_times_in_a_row() {
    let mut r = Reattach::new(3);
    r.alive();
    assert_eq!((r.broke(), r.broke(), r.broke(), r.broke()), (Some(250), Some(500), Some(1_000), None));
    let mut r = Reattach::new(3);
    r.alive();
    r.broke();
    r.broke();
    r.alive();
    assert_eq!(r.broke(), Some(250), "a sign of life starts the count over");
    assert!(r.ever_alive());
}
