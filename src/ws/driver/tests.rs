//! The driver's rules, checked with a fake clock and a seeded random source.
//! `Harness` plays the glue: it keeps at most one timer per kind (as the glue
//! does) and fires them as time advances.

use super::*;
use crate::ws::backoff::SplitMix64;
use crate::ws::config::HeartbeatConfig;
use std::collections::HashMap;

pub(crate) struct Harness {
    pub d: Driver,
    pub now: f64,
    pub timers: HashMap<TimerKind, f64>,
    /// Everything the driver asked for, in order.
    pub log: Vec<Cmd>,
}

impl Harness {
    pub fn new(cfg: DriverConfig, seed: u64) -> Self {
        let mut d = Driver::new(cfg, Box::new(SplitMix64(seed)));
        d.set_url(Ok("ws://x/ws".into()), 0.0);
        Self { d, now: 0.0, timers: HashMap::new(), log: Vec::new() }
    }

    /// Apply pending commands to the fake timer table and return them.
    pub fn pump(&mut self) -> Vec<Cmd> {
        let cmds = self.d.take_commands();
        for c in &cmds {
            match c {
                Cmd::SetTimer { kind, delay_ms } => {
                    self.timers.insert(*kind, self.now + delay_ms);
                }
                Cmd::CancelTimer(kind) => {
                    self.timers.remove(kind);
                }
                _ => {}
            }
        }
        self.log.extend(cmds.iter().cloned());
        cmds
    }

    /// Move the clock, firing due timers in time order.
    pub fn advance(&mut self, ms: f64) {
        let until = self.now + ms;
        loop {
            self.pump();
            let next = self
                .timers
                .iter()
                .filter(|(_, t)| **t <= until)
                .min_by(|a, b| a.1.total_cmp(b.1))
                .map(|(k, t)| (*k, *t));
            let Some((kind, at)) = next else { break };
            self.timers.remove(&kind);
            self.now = at;
            self.d.on_timer(kind, at);
        }
        self.now = until;
        self.pump();
    }

    pub fn state(&self) -> &ConnState {
        self.d.state()
    }

    pub fn opened(&mut self) -> Vec<Cmd> {
        self.d.on_open(self.now, vec!["hello".into()]);
        self.pump()
    }

    pub fn dropped(&mut self, code: u16) -> Vec<Cmd> {
        self.d.on_close(code, String::new(), self.now);
        self.pump()
    }
}

fn quiet() -> DriverConfig {
    DriverConfig { heartbeat: None, ..DriverConfig::default() }
}

fn transmits(cmds: &[Cmd]) -> Vec<String> {
    cmds.iter().filter_map(|c| if let Cmd::Transmit(f) = c { Some(f.clone()) } else { None }).collect()
}

fn count(cmds: &[Cmd], f: impl Fn(&Cmd) -> bool) -> usize {
    cmds.iter().filter(|c| f(c)).count()
}

#[test]
fn open_connects_then_sends_handshake_before_queued_frames_in_order() {
    let mut h = Harness::new(quiet(), 1);
    h.d.send("early-1".into()).unwrap();
    h.d.open(0.0);
    let cmds = h.pump();
    assert_eq!(cmds.iter().filter(|c| matches!(c, Cmd::Connect { .. })).count(), 1);
    assert_eq!(h.state(), &ConnState::Connecting);
    assert!(h.timers.contains_key(&TimerKind::ConnectTimeout));
    h.d.send("early-2".into()).unwrap();
    assert_eq!(h.d.metrics().queued, 2);
    let cmds = h.opened();
    assert_eq!(transmits(&cmds), ["hello", "early-1", "early-2"]);
    assert!(!h.timers.contains_key(&TimerKind::ConnectTimeout));
    assert_eq!(h.d.metrics().queued, 0);
    h.d.send("live".into()).unwrap();
    assert_eq!(transmits(&h.pump()), ["live"]);
}

#[test]
fn a_full_queue_refuses_and_counts_but_keeps_what_it_has() {
    let mut h = Harness::new(DriverConfig { queue_capacity: 2, ..quiet() }, 1);
    h.d.send("a".into()).unwrap();
    h.d.send("b".into()).unwrap();
    assert_eq!(h.d.send("c".into()), Err(QueueFull { capacity: 2 }));
    assert_eq!(h.d.metrics().queue_rejected, 1);
    h.d.open(0.0);
    h.pump();
    assert_eq!(transmits(&h.opened()), ["hello", "a", "b"]);
}

#[test]
fn untransmitted_frames_go_back_in_order_ahead_of_later_sends() {
    let mut h = Harness::new(quiet(), 1);
    h.d.open(0.0);
    h.pump();
    h.opened();
    h.d.untransmitted(vec!["x".into(), "y".into()]);
    h.d.send("z".into()).unwrap();
    h.dropped(1006);
    h.advance(1_000.0);
    assert_eq!(h.state(), &ConnState::Connecting);
    assert_eq!(transmits(&h.opened()), ["hello", "x", "y", "z"]);
}

#[test]
fn an_unexpected_drop_schedules_exactly_one_retry_even_if_reported_twice() {
    let mut h = Harness::new(quiet(), 3);
    h.d.open(0.0);
    h.pump();
    h.opened();
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
    let mut h = Harness::new(quiet(), 4);
    h.d.open(0.0);
    h.pump();
    h.opened();
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
    let mut h = Harness::new(quiet(), 5);
    h.d.open(0.0);
    h.pump();
    h.opened();
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
    let mut h = Harness::new(DriverConfig { heartbeat: Some(hb), ..quiet() }, 9);
    h.d.open(0.0);
    h.pump();
    h.opened();
    h.advance(1_000.0);
    assert!(h.log.contains(&Cmd::Ping { nonce: 1 }));
    h.advance(100.0);
    h.d.on_frame(10);
    h.d.on_pong(1, h.now);
    assert_eq!(h.d.metrics().last_rtt_ms, Some(100.0));
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
        (1000, "closed"),
        (1001, "reconnecting"),
        (1012, "reconnecting"),
    ] {
        let mut h = Harness::new(quiet(), 10);
        h.d.open(0.0);
        h.pump();
        h.opened();
        h.dropped(code);
        assert_eq!(h.state().name(), want, "code {code}");
    }
    let cfg = DriverConfig {
        close_policy: std::rc::Rc::new(|code, _| if code == 1001 { CloseAction::Fail } else { CloseAction::Reconnect }),
        ..quiet()
    };
    let mut h = Harness::new(cfg, 11);
    h.d.open(0.0);
    h.pump();
    h.opened();
    h.dropped(1001);
    assert_eq!(h.state().name(), "failed", "custom policy wins");
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
fn hidden_page_pauses_retries_but_never_closes_an_open_socket() {
    let mut h = Harness::new(quiet(), 13);
    h.d.open(0.0);
    h.pump();
    h.opened();
    h.d.set_visible(false, h.now);
    assert!(!h.pump().iter().any(|c| matches!(c, Cmd::Close { .. } | Cmd::Abandon { .. })));
    assert!(h.state().is_open());
    h.dropped(1006);
    assert!(matches!(h.state(), ConnState::Reconnecting { retry_at_ms: None, .. }));
    h.advance(120_000.0);
    assert!(matches!(h.state(), ConnState::Reconnecting { .. }));
    h.d.set_visible(true, h.now);
    h.pump();
    assert_eq!(h.state(), &ConnState::Connecting);
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
    let mut h = Harness::new(quiet(), 15);
    h.d.open(0.0);
    h.pump();
    h.opened();
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
    h.d.on_open(0.0, vec![]); // impossible: counted, not applied
    h.pump();
    assert!(matches!(h.state(), ConnState::Closed { .. }));
    assert_eq!(h.d.metrics().invalid_transitions, 1);
    assert!(h.log.iter().any(|c| matches!(c, Cmd::Warn(w) if w.contains("closed -> open"))));
}
