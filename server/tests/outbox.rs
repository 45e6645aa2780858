//! A connection's outgoing queue on its own: what a broadcast sees when the
//! reader is gone, slow or waiting, and how the writer learns the end.

use std::time::Duration;

use axum::extract::ws::{Message, Utf8Bytes};
use prometheus_client::metrics::counter::Counter;
use tether_protocol::close_code;
use tether_server::outbox::{Ending, OUTBOX_FRAMES, Outbox};

fn frame(text: &str) -> Utf8Bytes {
    Utf8Bytes::from(text.to_owned())
}

fn text(m: Option<Message>) -> Option<String> {
    match m {
        Some(Message::Text(t)) => Some(t.as_str().to_owned()),
        _ => None,
    }
}

#[tokio::test]
async fn frames_arrive_in_order_and_a_waiting_writer_is_woken() {
    let (outbox, mut rx) = Outbox::new(1, 1 << 20, Counter::default());
    let reader = tokio::spawn(async move { (text(rx.recv().await), text(rx.recv().await), rx) });
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(outbox.push_frame(frame("one")));
    assert!(outbox.push_frame(frame("two")));
    let (a, b, _rx) = tokio::time::timeout(Duration::from_secs(5), reader).await.expect("writer woken").unwrap();
    assert_eq!((a.as_deref(), b.as_deref()), (Some("one"), Some("two")));
    assert_eq!(outbox.queued_bytes(), 0, "taken frames leave the byte budget");
}

#[tokio::test]
async fn a_gone_writer_refuses_frames_without_calling_it_slow() {
    let slow = Counter::default();
    let (outbox, rx) = Outbox::new(1, 1 << 20, slow.clone());
    assert!(outbox.push_frame(frame("queued before the end")));
    drop(rx);
    assert!(!outbox.push_frame(frame("after")), "a broadcast must see the member is gone");
    assert_eq!(outbox.queued_bytes(), 0, "frames dropped with the writer, and a refused one, take no budget");
    assert!(!outbox.closer.is_ended());
    assert_eq!(slow.get(), 0);
}

#[tokio::test]
async fn the_writer_sees_the_end_once_every_handle_is_dropped() {
    let (outbox, mut rx) = Outbox::new(1, 1 << 20, Counter::default());
    let member = outbox.clone();
    assert!(member.push_frame(frame("last")));
    drop(outbox);
    let waiting = tokio::spawn(async move { (text(rx.recv().await), rx.recv().await.is_none()) });
    tokio::time::sleep(Duration::from_millis(20)).await;
    drop(member);
    let (last, ended) = tokio::time::timeout(Duration::from_secs(5), waiting).await.expect("writer woken").unwrap();
    assert_eq!(last.as_deref(), Some("last"), "queued frames still come out first");
    assert!(ended);
}

#[tokio::test]
async fn too_many_frames_close_the_connection_with_1013() {
    let slow = Counter::default();
    let (outbox, _rx) = Outbox::new(1, 1 << 20, slow.clone());
    for _ in 0..OUTBOX_FRAMES {
        assert!(outbox.push_frame(frame("x")));
    }
    assert!(!outbox.push_frame(frame("x")));
    assert_eq!(
        outbox.closer.ending(),
        Some(&Ending::Close { code: close_code::TRY_AGAIN_LATER, reason: "too slow, reconnect" })
    );
    assert_eq!(slow.get(), 1);
}

#[tokio::test]
async fn too_many_bytes_close_the_connection_with_1013() {
    let (outbox, _rx) = Outbox::new(1, 10, Counter::default());
    assert!(outbox.push_frame(frame("0123456789")));
    assert!(!outbox.push_frame(frame("a")));
    assert!(matches!(outbox.closer.ending(), Some(Ending::Close { code: close_code::TRY_AGAIN_LATER, .. })));
}

#[tokio::test]
async fn the_closer_wakes_waiters_and_answers_late_ones_at_once() {
    let (outbox, _rx) = Outbox::new(1, 1 << 20, Counter::default());
    let closer = outbox.closer.clone();
    let waiting = tokio::spawn(async move { closer.ended().await });
    tokio::time::sleep(Duration::from_millis(20)).await;
    outbox.closer.end(Ending::PeerGone);
    outbox.closer.end(Ending::Abort);
    tokio::time::timeout(Duration::from_secs(5), waiting).await.expect("waiter woken").unwrap();
    tokio::time::timeout(Duration::from_secs(5), outbox.closer.ended()).await.expect("already ended");
    assert_eq!(outbox.closer.ending(), Some(&Ending::PeerGone), "the first reason wins");
}
