//! The selector's rules with a seeded random source.

use super::*;
use crate::backoff::SplitMix64;
use Transport::*;
use proptest::prelude::*;

fn sel(cfg: FallbackConfig, remembered: Option<Transport>) -> Selector {
    Selector::new(cfg, remembered, Box::new(SplitMix64(7)))
}

#[test]
fn websocket_first_then_sse_then_long_poll_then_lost() {
    let mut s = sel(FallbackConfig::default(), None);
    assert_eq!(s.begin(), Attempt { transport: WebSocket, deadline_ms: Some(3_000.0) });
    assert_eq!(s.failed(), AfterFailure::Try(Attempt { transport: Sse, deadline_ms: Some(5_000.0) }));
    assert_eq!(s.failed(), AfterFailure::Try(Attempt { transport: LongPoll, deadline_ms: None }));
    assert_eq!(s.failed(), AfterFailure::Lost);
    assert_eq!(s.transport(), LongPoll);
    // The next attempt starts over: nothing worked yet.
    assert_eq!(s.begin().transport, WebSocket);
}

#[test]
fn open_is_not_enough_the_first_frame_decides() {
    let mut s = sel(FallbackConfig::default(), None);
    s.begin();
    assert_eq!(s.opened(true), None, "an open socket that said hello is not working yet");
    assert!(!s.verified());
    // The black hole: open, then the deadline passes with nothing.
    assert!(matches!(s.failed(), AfterFailure::Try(Attempt { transport: Sse, .. })));
    assert_eq!(s.opened(true), None);
    assert_eq!(s.first_frame(), Some(Remember::Keep(Sse)));
    assert_eq!(s.first_frame(), None, "only the first frame decides");
    assert!(s.verified() && s.on_fallback());
    assert_eq!(s.failed(), AfterFailure::Lost, "a working transport never falls back by itself");
}

#[test]
fn nothing_said_means_open_counts() {
    let mut s = sel(FallbackConfig::default(), None);
    s.begin();
    assert_eq!(s.opened(false), Some(Remember::Forget));
    assert!(s.verified() && !s.on_fallback());
}

#[test]
fn disabled_means_websocket_only_and_open_counts() {
    let cfg = FallbackConfig { enabled: false, ..FallbackConfig::default() };
    let mut s = sel(cfg, Some(LongPoll));
    assert_eq!(s.begin(), Attempt { transport: WebSocket, deadline_ms: None }, "nothing remembered is used");
    assert_eq!(s.opened(true), Some(Remember::Nothing));
    s.lost();
    s.begin();
    assert_eq!(s.failed(), AfterFailure::Lost);
    assert_eq!(s.next_probe_ms(), None);
    assert_eq!(s.probe(), None);
}

#[test]
fn a_remembered_fallback_is_where_the_next_page_starts() {
    let mut s = sel(FallbackConfig::default(), Some(Sse));
    assert_eq!(s.begin().transport, Sse);
    let no_memory = FallbackConfig { remember: false, ..FallbackConfig::default() };
    let mut s = sel(no_memory, Some(Sse));
    assert_eq!(s.begin().transport, WebSocket);
    s.failed();
    assert_eq!(s.first_frame(), Some(Remember::Nothing), "not remembering: nothing to store");
}

#[test]
fn after_a_drop_the_next_attempt_starts_where_it_worked() {
    let mut s = sel(FallbackConfig::default(), None);
    s.begin();
    s.failed();
    s.failed();
    s.first_frame();
    assert_eq!(s.transport(), LongPoll);
    s.lost();
    assert_eq!(s.begin().transport, LongPoll, "no deadlines paid again on every reconnect");
}

#[test]
fn probes_back_off_from_the_first_delay_to_the_cap_and_reset_on_success() {
    let cfg = FallbackConfig { probe_first_ms: 30_000.0, probe_max_ms: 600_000.0, ..FallbackConfig::default() };
    let mut s = sel(cfg, Some(Sse));
    s.begin();
    assert_eq!(s.next_probe_ms(), None, "not working yet: nothing to probe from");
    s.first_frame();
    let mut ceilings = Vec::new();
    for _ in 0..8 {
        let d = s.next_probe_ms().expect("on a fallback");
        let a = s.probe().expect("a probe");
        assert_eq!(a, Attempt { transport: WebSocket, deadline_ms: Some(3_000.0) });
        assert_eq!(s.probe(), None, "one probe at a time");
        assert_eq!(s.next_probe_ms(), None, "no timer while probing");
        s.probe_failed();
        ceilings.push(d);
    }
    assert!((15_000.0..=30_000.0).contains(&ceilings[0]), "{ceilings:?}");
    assert!((30_000.0..=60_000.0).contains(&ceilings[1]), "{ceilings:?}");
    assert!(ceilings.iter().all(|d| *d <= 600_000.0), "{ceilings:?}");
    assert!(ceilings[7] >= 300_000.0, "capped at 10 min: {ceilings:?}");
    s.probe();
    assert_eq!(s.probe_succeeded(), Remember::Forget);
    assert_eq!(s.transport(), WebSocket);
    assert!(!s.on_fallback() && s.verified());
    assert_eq!(s.next_probe_ms(), None, "back on WebSocket: no more probes");
    s.lost();
    assert_eq!(s.begin().transport, WebSocket, "the next reconnect starts with WebSocket");
}

#[test]
fn a_lost_connection_ends_the_probe() {
    let mut s = sel(FallbackConfig::default(), Some(LongPoll));
    s.begin();
    s.first_frame();
    assert!(s.probe().is_some());
    s.lost();
    assert!(!s.probing());
    assert_eq!(s.probe(), None, "nothing to probe from until working again");
}

#[derive(Clone, Debug)]
enum Ev {
    Begin,
    Opened(bool),
    Frame,
    Failed,
    Lost,
    Probe,
    ProbeFailed,
    ProbeOk,
}

fn ev() -> impl Strategy<Value = Ev> {
    prop_oneof![
        Just(Ev::Begin),
        any::<bool>().prop_map(Ev::Opened),
        Just(Ev::Frame),
        Just(Ev::Failed),
        Just(Ev::Lost),
        Just(Ev::Probe),
        Just(Ev::ProbeFailed),
        Just(Ev::ProbeOk),
    ]
}

proptest! {
    /// Whatever happens: failures only ever move forward in the order (round
    /// to WebSocket once, after an attempt begun on a fallback), a
    /// working transport is never abandoned by `failed`, probes are always
    /// WebSocket within the bounds, and with fallback off it is always
    /// WebSocket.
    #[test]
    fn any_sequence_keeps_the_rules(evs in proptest::collection::vec(ev(), 0..60), enabled: bool, seed: u64) {
        let cfg = FallbackConfig { enabled, probe_first_ms: 1_000.0, probe_max_ms: 8_000.0, ..FallbackConfig::default() };
        let mut s = Selector::new(cfg, Some(Sse), Box::new(SplitMix64(seed)));
        let rank = |t: Transport| t as u8;
        for e in evs {
            let before = s.transport();
            match e {
                Ev::Begin => { s.begin(); }
                Ev::Opened(spoke) => { s.opened(spoke); }
                Ev::Frame => { s.first_frame(); }
                Ev::Failed => {
                    let was_verified = s.verified();
                    match s.failed() {
                        AfterFailure::Try(a) => {
                            prop_assert!(!was_verified);
                            // Forward in the order, or round to WebSocket
                            // from the last when the attempt began on a fallback.
                            let wrapped = before == LongPoll && a.transport == WebSocket;
                            prop_assert!(wrapped || rank(a.transport) == rank(before) + 1);
                        }
                        AfterFailure::Lost => prop_assert_eq!(s.transport(), before),
                    }
                }
                Ev::Lost => s.lost(),
                Ev::Probe => {
                    if let Some(d) = s.next_probe_ms() {
                        prop_assert!((500.0..=8_000.0).contains(&d), "{}", d);
                    }
                    if let Some(a) = s.probe() {
                        prop_assert_eq!(a.transport, WebSocket);
                        prop_assert!(before != WebSocket && s.verified());
                    }
                }
                Ev::ProbeFailed => {
                    s.probe_failed();
                }
                Ev::ProbeOk => {
                    if s.probing() {
                        s.probe_succeeded();
                        prop_assert_eq!(s.transport(), WebSocket);
                    }
                }
            }
            if !enabled {
                prop_assert_eq!(s.transport(), WebSocket);
            }
        }
    }
}

#[test]
fn a_refused_connection_is_not_a_broken_network_the_fallback_is_rechecked_at_once() {
    // The server restarting: WebSocket is refused, SSE gets through once it
    // is back. Nothing is remembered and WebSocket is probed at once.
    let mut s = sel(FallbackConfig::default(), None);
    s.begin();
    assert!(matches!(s.failed_with(false), AfterFailure::Try(Attempt { transport: Sse, .. })));
    assert_eq!(s.first_frame(), Some(Remember::Nothing), "a refused connection says nothing about the network");
    assert!(s.recheck_now());
    assert!(s.probe().is_some());
    assert!(!s.recheck_now(), "one probe");
    assert_eq!(s.probe_succeeded(), Remember::Forget);
    assert_eq!(s.begin().transport, WebSocket);
}

#[test]
fn a_fast_failure_confirmed_by_a_failed_probe_is_remembered() {
    // A proxy that refuses the upgrade fails just as fast: the probe fails
    // too, and then the fallback is remembered.
    let mut s = sel(FallbackConfig::default(), None);
    s.begin();
    s.failed_with(false);
    assert_eq!(s.first_frame(), Some(Remember::Nothing));
    assert!(s.probe().is_some());
    assert_eq!(s.probe_failed(), Remember::Keep(Sse));
    assert!(!s.recheck_now());
    assert_eq!(s.probe_failed(), Remember::Nothing, "confirmed once");
}

#[test]
fn a_black_hole_is_remembered_at_once() {
    let mut s = sel(FallbackConfig::default(), None);
    s.begin();
    s.failed_with(true);
    assert_eq!(s.first_frame(), Some(Remember::Keep(Sse)));
    assert!(!s.recheck_now());
}

#[test]
fn after_websocket_worked_failures_retry_websocket_before_falling_back() {
    // A server restart: WebSocket worked, then fails at once, or (Firefox
    // holding sockets to a host that just failed) opens too late. Retry it
    // (the driver backs off) a few times before trying SSE.
    for timed_out in [false, true] {
        let mut s = sel(FallbackConfig::default(), None);
        s.begin();
        assert!(s.first_frame().is_some());
        s.lost();
        for _ in 1..crate::fallback::WS_FAILURES_BEFORE_FALLBACK {
            assert_eq!(s.begin().transport, WebSocket);
            assert_eq!(s.failed_with(timed_out), AfterFailure::Lost, "retry WebSocket first");
        }
        assert_eq!(s.begin().transport, WebSocket);
        assert!(matches!(s.failed_with(timed_out), AfterFailure::Try(Attempt { transport: Sse, .. })));
    }
    // Working again resets the count.
    let mut s = sel(FallbackConfig::default(), None);
    s.begin();
    s.first_frame();
    s.lost();
    s.begin();
    assert_eq!(s.failed_with(true), AfterFailure::Lost);
    s.begin();
    s.first_frame();
    s.lost();
    s.begin();
    assert_eq!(s.failed_with(true), AfterFailure::Lost, "the count started over");
}

#[test]
fn after_websocket_worked_its_attempts_and_probes_wait_longer() {
    let cfg = FallbackConfig::default();
    let long = Some(cfg.ws_deadline_ms * crate::fallback::WS_DEADLINE_FACTOR_AFTER_IT_WORKED);
    let mut s = sel(cfg.clone(), None);
    assert_eq!(s.begin().deadline_ms, Some(cfg.ws_deadline_ms), "a first visit falls back quickly");
    s.first_frame();
    s.lost();
    assert_eq!(s.begin().deadline_ms, long);
    // On a fallback reached after it worked, the probe waits as long.
    for _ in 0..crate::fallback::WS_FAILURES_BEFORE_FALLBACK {
        s.begin();
        s.failed_with(false);
    }
    s.opened(true);
    s.first_frame();
    assert!(s.on_fallback());
    assert_eq!(s.probe().and_then(|a| a.deadline_ms), long);
}

#[test]
fn a_remembered_fallback_that_broke_goes_back_to_websocket_and_is_forgotten() {
    // Long-polling remembered, then /ws/poll breaks while WebSocket works:
    // the attempt goes round to WebSocket and the memory is cleared.
    let mut s = sel(FallbackConfig::default(), Some(LongPoll));
    let first = s.begin();
    assert_eq!(first.transport, LongPoll);
    assert!(first.deadline_ms.is_some(), "not last in this attempt: it has a deadline");
    assert_eq!(s.take_remember(), Remember::Nothing);
    assert_eq!(s.failed_with(false), AfterFailure::Try(Attempt { transport: WebSocket, deadline_ms: Some(3_000.0) }));
    assert_eq!(s.take_remember(), Remember::Forget, "the broken fallback is forgotten");
    assert_eq!(s.take_remember(), Remember::Nothing, "once");
    assert_eq!(s.first_frame(), Some(Remember::Forget));
    assert_eq!(s.transport(), WebSocket);
    // Everything broken: each transport once, then lost; the next attempt
    // starts with WebSocket.
    let mut s = sel(FallbackConfig::default(), Some(Sse));
    assert_eq!(s.begin().transport, Sse);
    assert!(matches!(s.failed(), AfterFailure::Try(Attempt { transport: LongPoll, deadline_ms: None })));
    assert_eq!(s.take_remember(), Remember::Forget);
    assert!(matches!(s.failed(), AfterFailure::Try(Attempt { transport: WebSocket, .. })));
    assert_eq!(s.failed(), AfterFailure::Lost, "SSE, where it began, is not tried twice");
    assert_eq!(s.begin().transport, WebSocket);
}

#[test]
fn a_fallback_that_worked_and_then_broke_goes_back_to_websocket() {
    let mut s = sel(FallbackConfig::default(), None);
    s.begin();
    s.failed();
    s.failed();
    assert_eq!(s.first_frame(), Some(Remember::Keep(LongPoll)));
    s.lost();
    assert_eq!(s.begin().transport, LongPoll);
    assert!(matches!(s.failed(), AfterFailure::Try(Attempt { transport: WebSocket, .. })));
    assert_eq!(s.take_remember(), Remember::Forget);
    // Not remembering: nothing to clear, but WebSocket is tried all the same.
    let mut s = sel(FallbackConfig { remember: false, ..FallbackConfig::default() }, None);
    s.begin();
    s.failed();
    s.first_frame();
    s.lost();
    assert_eq!(s.begin().transport, Sse);
    assert!(matches!(s.failed(), AfterFailure::Try(Attempt { transport: LongPoll, .. })));
    assert_eq!(s.take_remember(), Remember::Nothing);
    assert_eq!(s.failed(), AfterFailure::Try(Attempt { transport: WebSocket, deadline_ms: Some(3_000.0) }));
}
