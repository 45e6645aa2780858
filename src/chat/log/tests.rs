//! The room log's ordering, matching and indexing rules.

use super::*;

fn msg(seq: u64, id: &str, author: &str) -> ChatMessage {
    ChatMessage { room: "r".into(), seq, id: id.into(), author: author.into(), body: format!("b{seq}"), ts_ms: 0 }
}

fn view(l: &RoomLog) -> Vec<(String, Option<u64>, &'static str)> {
    l.entries().iter().map(|e| (e.id.clone(), e.seq, e.status.name())).collect()
}

#[test]
fn orders_by_seq_and_drops_duplicates() {
    let mut l = RoomLog::default();
    l.joined("e".into(), false, vec![msg(1, "a", "bob"), msg(3, "c", "bob")], "me");
    assert!(l.apply(msg(2, "b", "bob"), "me"));
    assert!(!l.apply(msg(3, "c", "bob"), "me"), "same seq twice");
    let ids: Vec<_> = l.entries().iter().map(|e| e.seq.unwrap()).collect();
    assert_eq!(ids, [1, 2, 3]);
    assert_eq!(l.cursor(), Some(Cursor { epoch: "e".into(), seq: 3 }));
}

#[test]
fn own_message_is_shown_once_whatever_the_order_of_ack_and_broadcast() {
    for ack_first in [true, false] {
        let mut l = RoomLog::default();
        l.joined("e".into(), false, vec![msg(1, "x", "bob")], "me");
        l.add_own("mine".into(), "me".into(), "hi".into(), Status::Queued, 0.0);
        l.mark_all(Status::Queued, Status::Sent);
        assert_eq!(l.pending().count(), 1);
        if ack_first {
            l.ack("mine", 2);
            l.apply(msg(2, "mine", "me"), "me");
        } else {
            l.apply(msg(2, "mine", "me"), "me");
            l.ack("mine", 2);
        }
        assert_eq!(view(&l), [("x".into(), Some(1), "delivered"), ("mine".into(), Some(2), "acked")]);
        assert_eq!(l.pending().count(), 0);
    }
}

#[test]
fn pending_own_messages_stay_after_stored_ones() {
    let mut l = RoomLog::default();
    l.joined("e".into(), false, vec![], "me");
    l.add_own("p".into(), "me".into(), "pending".into(), Status::Sent, 0.0);
    l.apply(msg(1, "o", "bob"), "me");
    assert_eq!(view(&l), [("o".into(), Some(1), "delivered"), ("p".into(), None, "sent")]);
    l.fail("p", "too long".into());
    assert_eq!(l.get("p").unwrap().status, Status::Failed);
    assert_eq!(l.get("p").unwrap().error.as_deref(), Some("too long"));
}

#[test]
fn an_unrecovered_join_replaces_the_view_but_keeps_pending_posts() {
    let mut l = RoomLog::default();
    l.joined("e1".into(), false, vec![msg(1, "a", "bob"), msg(2, "b", "bob")], "me");
    l.add_own("p".into(), "me".into(), "x".into(), Status::Sent, 0.0);
    l.joined("e2".into(), false, vec![msg(1, "z", "bob")], "me");
    assert_eq!(view(&l), [("z".into(), Some(1), "delivered"), ("p".into(), None, "sent")]);
    // A recovered join appends without losing anything.
    l.joined("e2".into(), true, vec![msg(2, "y", "bob")], "me");
    assert_eq!(l.entries().len(), 3);
}

#[test]
fn older_pages_go_in_front_one_request_at_a_time() {
    let mut l = RoomLog::default();
    l.joined("e".into(), false, vec![msg(5, "e5", "bob"), msg(6, "e6", "bob")], "me");
    assert_eq!(l.begin_older(), None, "nothing older until the server says so");
    l.set_has_older(true);
    assert_eq!(l.begin_older(), Some(5));
    assert_eq!(l.begin_older(), None, "one request at a time");
    l.older(vec![msg(3, "e3", "bob"), msg(4, "e4", "bob")], false, "me");
    assert_eq!(l.entries().iter().map(|e| e.seq.unwrap()).collect::<Vec<_>>(), [3, 4, 5, 6]);
    assert!(!l.has_older());
    assert_eq!(l.begin_older(), None, "reached the start");
}

#[test]
fn a_rate_limited_message_waits_with_its_reason_and_later_ones_wait_behind_it() {
    let mut l = RoomLog::default();
    l.add_own("a".into(), "me".into(), "1".into(), Status::Sent, 0.0);
    l.add_own("b".into(), "me".into(), "2".into(), Status::Sent, 0.0);
    l.wait("a", "sending too fast; retry in 0.2 s".into());
    l.hold("b");
    assert_eq!(view(&l), [("a".into(), None, "queued"), ("b".into(), None, "queued")]);
    assert_eq!(l.get("a").unwrap().error.as_deref(), Some("sending too fast; retry in 0.2 s"));
    assert_eq!(l.get("b").unwrap().error, None, "held, not refused");
    l.mark_sent("a");
    assert_eq!((l.get("a").unwrap().status, l.get("a").unwrap().error.clone()), (Status::Sent, None));
    l.ack("a", 1);
    l.fail("b", "x".into());
    l.wait("b", "y".into());
    assert_eq!(l.get("b").unwrap().status, Status::Failed, "a failed message stays failed");
}

#[test]
fn old_pending_messages_expire_and_retry_keeps_the_id() {
    let mut l = RoomLog::default();
    l.add_own("old".into(), "me".into(), "x".into(), Status::Sent, 1_000.0);
    l.add_own("new".into(), "me".into(), "y".into(), Status::Queued, 9_000.0);
    l.add_own("old".into(), "me".into(), "dup".into(), Status::Queued, 9_000.0);
    assert_eq!(l.entries().len(), 2, "restoring an id twice adds nothing");
    assert_eq!(l.expire(10_000.0, 5_000.0), 1);
    assert_eq!(l.get("old").unwrap().status, Status::Failed);
    assert_eq!(l.get("new").unwrap().status, Status::Queued);
    assert_eq!(l.pending().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["new"], "failed ones are not resent");
    assert_eq!(l.unstored().count(), 2, "but they are kept, for a reload and a retry");
    assert_eq!(l.retry("old", Status::Sent, 10_000.0).as_deref(), Some("x"));
    assert_eq!(l.get("old").unwrap().status, Status::Sent);
    assert_eq!(l.retry("new", Status::Sent, 0.0), None, "only failed messages are retried");
    assert_eq!(l.expire(10_001.0, 5_000.0), 0, "fresh deadline");
}

#[test]
fn indexes_stay_true_through_acks_broadcasts_and_older_pages() {
    let mut l = RoomLog::default();
    l.joined("e".into(), false, (100..200).map(|s| msg(s, &format!("m{s}"), "bob")).collect(), "me");
    l.add_own("p1".into(), "me".into(), "x".into(), Status::Sent, 0.0);
    l.add_own("p2".into(), "me".into(), "y".into(), Status::Sent, 0.0);
    l.take_changed();
    // Broadcast of p2 first, then p1's ack, then p1's broadcast again.
    assert!(l.apply(msg(200, "p2", "me"), "me"));
    l.ack("p1", 201);
    assert!(!l.apply(msg(201, "p1", "me"), "me"));
    assert_eq!(l.take_changed(), ["p1".to_owned(), "p2".to_owned()].into(), "only rows changed in place");
    l.set_has_older(true);
    assert_eq!(l.begin_older(), Some(100));
    l.older((90..100).map(|s| msg(s, &format!("m{s}"), "bob")).collect(), true, "me");
    // A page overlapping what we hold goes in message by message.
    l.older((85..95).map(|s| msg(s, &format!("m{s}"), "bob")).collect(), false, "me");
    let seqs: Vec<u64> = l.entries().iter().map(|e| e.seq.unwrap()).collect();
    assert_eq!(seqs, (85..=201).collect::<Vec<_>>());
    for e in l.entries() {
        assert_eq!(l.get(&e.id).map(|g| g.seq), Some(e.seq), "{}", e.id);
    }
    assert_eq!(l.cursor().unwrap().seq, 201);
    assert_eq!(l.newest(2).iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["p2", "p1"]);
    assert_eq!(l.unstored().count(), 0);
}

#[test]
fn the_outbox_revision_moves_only_when_unstored_messages_change() {
    let mut l = RoomLog::default();
    l.joined("e".into(), false, vec![], "me");
    let r0 = l.outbox_rev();
    l.apply(msg(1, "o", "bob"), "me");
    assert_eq!(l.outbox_rev(), r0, "someone else's message changes nothing to persist");
    l.add_own("p".into(), "me".into(), "x".into(), Status::Sent, 0.0);
    let r1 = l.outbox_rev();
    assert!(r1 > r0);
    l.ack("p", 2);
    assert!(l.outbox_rev() > r1, "stored: no longer pending");
}
