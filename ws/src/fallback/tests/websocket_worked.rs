//! Once WebSocket has worked on the page: retries before falling back, and
//! longer deadlines.

use super::*;

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
