//! Backoff, max attempts, uptime reset, timeouts, heartbeats, close-code
//! policy, offline and hidden pages.

use super::*;
use crate::config::CloseAction;
use crate::state::ConnState;

#[test]
fn gives_up_after_max_attempts_and_reconnect_now_starts_over() {
    let mut h = Harness::new(DriverConfig { max_attempts: Some(3), ..quiet() }, 6);
    h.d.open(0.0);
    h.pump();
    for _ in 0..3 {
        h.dropped(1006); // never opens: unreachable server
        h.advance(4_000.0); // past the retry (ceilings 0.5, 1, 2 s), before the connect timeout
        assert_eq!(h.state(), &ConnState::Connecting);
    }
    h.dropped(1006);
    assert!(matches!(h.state(), ConnState::Failed { reason } if reason.contains("3")));
    assert!(!h.timers.contains_key(&TimerKind::Reconnect));
    h.advance(120_000.0);
    assert!(matches!(h.state(), ConnState::Failed { .. }), "no timer left behind");
    h.d.open(h.now); // the reconnect-now button
    h.pump();
    assert_eq!(h.state(), &ConnState::Connecting);
    h.dropped(1006);
    assert!(matches!(h.state(), ConnState::Reconnecting { attempt: 1, .. }), "fresh count");
}

#[test]
fn attempt_counter_resets_only_after_min_uptime() {
    let mut h = Harness::new(quiet(), 7);
    h.d.open(0.0);
    h.pump();
    for expected in 1..=3 {
        h.opened();
        h.advance(1_000.0); // open but not for long: a flapping server
        h.dropped(1006);
        assert!(matches!(h.state(), ConnState::Reconnecting { attempt, .. } if *attempt == expected));
        h.advance(4_000.0);
    }
    h.opened();
    h.advance(5_000.0);
    h.dropped(1006);
    assert!(matches!(h.state(), ConnState::Reconnecting { attempt: 1, .. }));
}

#[test]
fn slow_handshake_is_abandoned_and_retried() {
    let mut h = Harness::new(quiet(), 8);
    h.d.open(0.0);
    h.advance(10_000.0);
    assert!(h.log.contains(&Cmd::Abandon { code: 4001, reason: "connect timeout" }));
    assert!(matches!(h.state(), ConnState::Reconnecting { attempt: 1, .. }));
    assert_eq!(h.d.metrics().connect_timeouts, 1);
}

#[test]
fn missing_pong_writes_the_connection_off_within_interval_plus_timeout() {
    let hb = HeartbeatConfig { interval_ms: 1_000.0, timeout_ms: 500.0 };
    let mut h = Harness::connected(DriverConfig { heartbeat: Some(hb), ..quiet() }, 9);
    h.advance(1_000.0);
    assert!(h.log.contains(&Cmd::Ping { nonce: 1 }));
    h.advance(100.0);
    h.d.on_frame(10);
    h.d.on_pong(1, h.now);
    assert_eq!(h.d.metrics().rtt_ms.last, Some(100.0));
    h.advance(1_000.0); // now 2100; the second ping went at 2000, never answered
    assert!(h.state().is_open());
    h.advance(399.0);
    assert!(h.state().is_open());
    h.advance(1.0);
    assert!(h.log.contains(&Cmd::Abandon { code: 4000, reason: "heartbeat timeout" }));
    assert!(matches!(h.state(), ConnState::Reconnecting { .. }));
    assert_eq!(h.d.metrics().heartbeat_timeouts, 1);
}

#[test]
fn close_codes_follow_the_policy() {
    for (code, want) in [
        (1008u16, "failed"),
        (1003, "failed"),
        (4403, "failed"),
        (1000, "reconnecting"),
        (1001, "reconnecting"),
        (1012, "reconnecting"),
    ] {
        let mut h = Harness::connected(quiet(), 10);
        h.dropped(code);
        assert_eq!(h.state().name(), want, "code {code}");
    }
    let cfg = DriverConfig {
        close_policy: std::rc::Rc::new(|code, _| if code == 1001 { CloseAction::Fail } else { CloseAction::Reconnect }),
        ..quiet()
    };
    let mut h = Harness::connected(cfg, 11);
    h.dropped(1001);
    assert_eq!(h.state().name(), "failed", "custom policy wins");
    let cfg = DriverConfig { close_policy: std::rc::Rc::new(|_, _| CloseAction::Stay), ..quiet() };
    let mut h = Harness::connected(cfg, 12);
    h.dropped(1000);
    assert_eq!(h.state().name(), "closed", "a policy may choose to stay closed");
}

#[test]
fn offline_pauses_retries_and_online_retries_at_once_with_fresh_backoff() {
    let mut h = Harness::new(quiet(), 12);
    h.d.open(0.0);
    h.pump();
    for _ in 0..4 {
        h.dropped(1006);
        h.advance(60_000.0);
    }
    h.d.set_online(false, h.now);
    h.dropped(1006);
    assert!(matches!(h.state(), ConnState::Reconnecting { retry_at_ms: None, .. }));
    h.advance(600_000.0);
    assert!(matches!(h.state(), ConnState::Reconnecting { retry_at_ms: None, .. }), "no retries offline");
    h.d.set_online(true, h.now);
    h.pump();
    assert_eq!(h.state(), &ConnState::Connecting, "immediately");
    h.dropped(1006);
    assert!(matches!(h.state(), ConnState::Reconnecting { attempt: 1, .. }), "fresh backoff");
}

#[test]
fn a_hidden_page_keeps_reconnecting_and_becoming_visible_retries_at_once() {
    let mut h = Harness::connected(quiet(), 13);
    h.d.set_visible(false, h.now);
    assert!(!h.pump().iter().any(|c| matches!(c, Cmd::Close { .. } | Cmd::Abandon { .. })));
    assert!(h.state().is_open(), "hidden is no reason to close");
    h.dropped(1006);
    assert!(
        matches!(h.state(), ConnState::Reconnecting { retry_at_ms: Some(_), .. }),
        "a background tab keeps retrying: {:?}",
        h.state()
    );
    h.advance(500.0);
    assert_eq!(h.state(), &ConnState::Connecting, "the retry fired while hidden");
    h.dropped(1006);
    h.dropped(1006);
    h.advance(1.0);
    let ConnState::Reconnecting { retry_at_ms: Some(at), .. } = h.state().clone() else { panic!("{:?}", h.state()) };
    if at > h.now {
        h.d.set_visible(true, h.now);
        h.pump();
        assert_eq!(h.state(), &ConnState::Connecting, "visible again: retry now, not at {at}");
    }
    let before = h.d.metrics().connects;
    h.d.set_visible(true, h.now);
    h.pump();
    assert_eq!(h.d.metrics().connects, before, "visible while already visible changes nothing");
}

#[test]
fn a_close_nobody_asked_for_reconnects_whatever_its_code() {
    for code in [1000, 1001, 1006, 1011, 1013, 4000] {
        let mut h = Harness::connected(DriverConfig::default(), 20);
        h.d.on_close(code, "idle timeout".into(), h.now);
        h.pump();
        assert!(matches!(h.state(), ConnState::Reconnecting { .. }), "{code}: {:?}", h.state());
        let ConnState::Reconnecting { retry_at_ms: Some(at), .. } = h.state().clone() else { unreachable!() };
        h.advance(at - h.now);
        assert_eq!(h.state(), &ConnState::Connecting, "{code}: retried");
    }
    for code in [1003, 1008, 4401, 4403] {
        let mut h = Harness::connected(DriverConfig::default(), 21);
        h.dropped(code);
        assert!(matches!(h.state(), ConnState::Failed { .. }), "{code} is terminal: {:?}", h.state());
    }
}

#[test]
fn metrics_tell_the_story_of_the_connection_in_bounded_space() {
    let mut h = Harness::connected(quiet(), 30);
    assert_eq!(h.d.metrics().state.as_str(), "open");
    assert_eq!(h.d.metrics().open_since_ms, Some(0.0));
    h.now = 1_000.0;
    h.dropped(1006);
    let m = h.d.metrics().clone();
    assert_eq!((m.state.as_str(), m.attempt, m.open_since_ms), ("reconnecting", 1, None));
    let ConnState::Reconnecting { retry_at_ms: Some(at), .. } = h.state().clone() else { unreachable!() };
    h.advance(at - h.now + 20.0);
    h.opened();
    let m = h.d.metrics().clone();
    assert_eq!(m.reconnect_ms.last, Some(at + 20.0 - 1_000.0), "from the drop to open again");
    assert_eq!(m.attempt, 0);
    let names: Vec<_> = m.history.iter().map(|c| c.state).collect();
    assert_eq!(names, ["connecting", "open", "reconnecting", "connecting", "open"]);
    assert_eq!(m.history[2].at_ms, 1_000.0);
    for _ in 0..200 {
        h.dropped(1006);
        h.d.open(h.now);
        h.pump();
        h.opened();
    }
    assert_eq!(h.d.metrics().history.len(), crate::metrics::HISTORY_LEN, "the history is bounded");
    // The app's own close is not a drop: reopening later is not counted as a reconnect time.
    let count = h.d.metrics().reconnect_ms.count;
    h.d.close(h.now);
    h.pump();
    h.d.on_close(1000, String::new(), h.now);
    h.now += 60_000.0;
    h.d.open(h.now);
    h.pump();
    h.opened();
    assert_eq!(h.d.metrics().reconnect_ms.count, count);
}
