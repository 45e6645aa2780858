//! Opening, sending in order, closing, URL changes, late events.

use super::*;
use crate::state::ConnState;

#[test]
fn open_connects_then_sends_handshake_before_queued_frames_in_order() {
    let mut h = Harness::new(quiet(), 1);
    h.d.send("early-1".into(), h.now).unwrap();
    h.d.open(0.0);
    let cmds = h.pump();
    assert_eq!(cmds.iter().filter(|c| matches!(c, Cmd::Connect { .. })).count(), 1);
    assert_eq!(h.state(), &ConnState::Connecting);
    assert!(h.timers.contains_key(&TimerKind::ConnectTimeout));
    h.d.send("early-2".into(), h.now).unwrap();
    assert_eq!(h.d.metrics().queued, 2);
    let cmds = h.opened();
    assert_eq!(transmits(&cmds), ["hello", "early-1", "early-2"]);
    assert!(!h.timers.contains_key(&TimerKind::ConnectTimeout));
    assert_eq!(h.d.metrics().queued, 0);
    h.d.send("live".into(), h.now).unwrap();
    assert_eq!(transmits(&h.pump()), ["live"]);
}

#[test]
fn a_full_queue_refuses_and_counts_but_keeps_what_it_has() {
    let mut h = Harness::new(DriverConfig { queue_capacity: 2, ..quiet() }, 1);
    h.d.send("a".into(), h.now).unwrap();
    h.d.send("b".into(), h.now).unwrap();
    assert_eq!(h.d.send("c".into(), h.now), Err(QueueFull { capacity: 2 }));
    assert_eq!(h.d.metrics().queue_rejected, 1);
    h.d.open(0.0);
    h.pump();
    assert_eq!(transmits(&h.opened()), ["hello", "a", "b"]);
}

#[test]
fn untransmitted_frames_go_back_in_order_ahead_of_later_sends() {
    let mut h = Harness::connected(quiet(), 1);
    h.d.untransmitted(vec![("x".into(), 0.0), ("y".into(), 0.0)]);
    h.d.send("z".into(), h.now).unwrap();
    h.dropped(1006);
    h.advance(1_000.0);
    assert_eq!(h.state(), &ConnState::Connecting);
    assert_eq!(transmits(&h.opened()), ["hello", "x", "y", "z"]);
}

#[test]
fn an_unexpected_drop_schedules_exactly_one_retry_even_if_reported_twice() {
    let mut h = Harness::connected(quiet(), 3);
    let first = h.dropped(1006);
    let second = h.dropped(1006); // onerror + onclose, or a duplicate event
    let sets = |c: &[Cmd]| count(c, |c| matches!(c, Cmd::SetTimer { kind: TimerKind::Reconnect, .. }));
    assert_eq!(sets(&first) + sets(&second), 1);
    let ConnState::Reconnecting { attempt: 1, retry_at_ms: Some(at) } = h.state().clone() else {
        panic!("{:?}", h.state())
    };
    assert!((0.0..=500.0).contains(&at), "first retry within base: {at}");
    h.advance(500.0);
    assert_eq!(h.state(), &ConnState::Connecting);
    assert_eq!(h.d.metrics().invalid_transitions, 0);
}

#[test]
fn close_cancels_a_pending_retry_and_open_reenables_reconnection() {
    let mut h = Harness::connected(quiet(), 4);
    h.dropped(1006);
    assert!(h.timers.contains_key(&TimerKind::Reconnect));
    h.d.close(h.now);
    h.pump();
    assert!(!h.timers.contains_key(&TimerKind::Reconnect), "pending retry cancelled");
    assert!(matches!(h.state(), ConnState::Closed { code: 1000, .. }));
    // Even a retry timer that somehow still fired must not reconnect.
    h.d.on_timer(TimerKind::Reconnect, h.now);
    assert!(count(&h.pump(), |c| matches!(c, Cmd::Connect { .. })) == 0);
    h.advance(60_000.0);
    assert!(matches!(h.state(), ConnState::Closed { .. }));

    h.d.open(h.now);
    h.pump();
    h.opened();
    h.dropped(1001);
    assert!(matches!(h.state(), ConnState::Reconnecting { attempt: 1, .. }), "auto-reconnect is back on");
}

#[test]
fn closing_an_open_socket_waits_for_the_close_and_never_sticks() {
    let mut h = Harness::connected(quiet(), 5);
    h.d.close(h.now);
    let cmds = h.pump();
    assert!(cmds.contains(&Cmd::Close { code: 1000, reason: "closed by client" }));
    assert_eq!(h.state(), &ConnState::Closing);
    h.d.on_close(1000, "bye".into(), h.now);
    h.pump();
    assert_eq!(h.state(), &ConnState::Closed { code: 1000, reason: "bye".into() });

    // A peer that never finishes the close handshake.
    h.d.open(h.now);
    h.pump();
    h.opened();
    h.d.close(h.now);
    h.advance(3_000.0);
    assert!(matches!(h.state(), ConnState::Closed { .. }));
    assert!(h.log.iter().any(|c| matches!(c, Cmd::Abandon { .. })));
}

#[test]
fn bad_url_fails_cleanly_and_a_good_one_recovers() {
    let mut h = Harness::new(quiet(), 14);
    h.d.set_url(Err("invalid URL \"nope\"".into()), 0.0);
    h.d.open(0.0);
    h.pump();
    assert!(matches!(h.state(), ConnState::Failed { reason } if reason.contains("nope")));
    h.d.set_url(Ok("ws://ok/ws".into()), 0.0);
    let cmds = h.pump();
    assert!(cmds.contains(&Cmd::Connect { url: "ws://ok/ws".into() }));
    // The glue could not construct the socket after all.
    h.d.connect_failed("SyntaxError".into());
    h.pump();
    assert!(matches!(h.state(), ConnState::Failed { .. }));
    assert!(!h.timers.contains_key(&TimerKind::ConnectTimeout));
}

#[test]
fn url_change_moves_an_open_connection() {
    let mut h = Harness::connected(quiet(), 15);
    h.d.set_url(Ok("ws://other/ws".into()), 1.0);
    let cmds = h.pump();
    assert!(cmds.contains(&Cmd::Connect { url: "ws://other/ws".into() }));
    assert_eq!(h.state(), &ConnState::Connecting);
}

#[test]
fn late_events_from_a_finished_connection_change_nothing() {
    let mut h = Harness::new(quiet(), 16);
    h.d.open(0.0);
    h.pump();
    h.d.close(0.0);
    h.d.on_close(1006, String::new(), 0.0);
    h.pump();
    h.d.on_close(1006, String::new(), 0.0); // duplicate
    h.d.on_open(0.0); // impossible: counted, not applied
    h.pump();
    assert!(matches!(h.state(), ConnState::Closed { .. }));
    assert_eq!(h.d.metrics().invalid_transitions, 1);
    assert!(h.log.iter().any(|c| matches!(c, Cmd::Warn(w) if w.contains("closed -> open"))));
}

#[test]
fn the_handshake_happens_only_after_open_is_accepted() {
    let mut h = Harness::new(quiet(), 17);
    h.d.open(0.0);
    h.pump();
    h.d.close(0.0); // closing: an open event now is refused
    h.pump();
    h.d.on_open(0.0);
    let cmds = h.pump();
    assert!(!cmds.contains(&Cmd::Handshake), "no handshake for a refused open: {cmds:?}");
    assert!(transmits(&cmds).is_empty());
    let mut h = Harness::new(quiet(), 17);
    h.d.send("queued".into(), 0.0).unwrap();
    h.d.open(0.0);
    h.pump();
    assert_eq!(transmits(&h.opened()), ["hello", "queued"], "handshake first, then the queue");
}

#[test]
fn an_invalid_url_closes_the_open_socket_and_the_same_url_changes_nothing() {
    let mut h = Harness::connected(quiet(), 18);
    h.d.set_url(Ok("ws://x/ws".into()), h.now);
    assert!(h.pump().is_empty(), "same URL: no reconnect");
    h.d.set_url(Err("bad".into()), h.now);
    let cmds = h.pump();
    assert!(cmds.iter().any(|c| matches!(c, Cmd::Abandon { .. })), "old socket dropped: {cmds:?}");
    assert!(matches!(h.state(), ConnState::Failed { .. }));
    h.d.set_url(Ok("ws://y/ws".into()), h.now);
    h.pump();
    assert_eq!(h.state(), &ConnState::Connecting, "a fixed URL connects again");
}

#[test]
fn try_send_never_queues_so_nothing_can_leave_twice() {
    let mut h = Harness::new(quiet(), 19);
    assert_eq!(h.d.try_send("early".into()), Err(NotOpen));
    h.d.open(0.0);
    h.pump();
    assert_eq!(transmits(&h.opened()), ["hello"], "nothing was queued");
    assert!(h.d.try_send("now".into()).is_ok());
    let cmds = h.pump();
    assert!(matches!(&cmds[..], [Cmd::Transmit { queued_at: None, .. }]), "{cmds:?}");
    // The socket was already closing under it: the glue hands it back as
    // not transmitted, and it is not requeued.
    h.d.not_transmitted(&"now".into());
    h.dropped(1006);
    h.advance(1_000.0);
    assert_eq!(transmits(&h.opened()), ["hello"], "the app's outbox resends it, the hook does not");
}

#[test]
fn queued_frames_older_than_the_ttl_are_dropped_and_reported() {
    let mut h = Harness::new(DriverConfig { queue_ttl_ms: Some(1_000.0), ..quiet() }, 20);
    h.d.send("old".into(), 0.0).unwrap();
    h.now = 1_500.0;
    h.d.send("fresh".into(), h.now).unwrap();
    h.d.open(h.now);
    h.pump();
    let cmds = h.opened();
    assert_eq!(transmits(&cmds), ["hello", "fresh"]);
    assert!(cmds.contains(&Cmd::Expired(1)));
    assert_eq!(h.d.metrics().queue_expired, 1);
}
