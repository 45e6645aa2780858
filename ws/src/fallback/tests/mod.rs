//! The selector's rules with a seeded random source: the order of the
//! transports and what counts as working here; memory, probes, WebSocket
//! after it worked and any sequence of events in the submodules.

use super::*;
use crate::backoff::SplitMix64;
use Transport::*;

mod memory;
mod probe;
mod props;
mod websocket_worked;

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
