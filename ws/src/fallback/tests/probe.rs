//! Probing WebSocket from a working fallback: backoff, one at a time, and
//! what a fast failure (a refused connection) or a black hole leads to.

use super::*;

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
