//! A fallback remembered for the tab's session: where an attempt starts,
//! and when a fallback that broke gives way to WebSocket and is forgotten.

use super::*;

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
fn a_remembered_fallback_that_broke_goes_back_to_websocket_and_is_forgotten_once_it_works() {
    // Long-polling remembered, then /ws/poll breaks while WebSocket works:
    // the attempt goes round to WebSocket, whose first frame clears the
    // memory.
    let mut s = sel(FallbackConfig::default(), Some(LongPoll));
    let first = s.begin();
    assert_eq!(first.transport, LongPoll);
    assert!(first.deadline_ms.is_some(), "not last in this attempt: it has a deadline");
    assert_eq!(s.failed_with(false), AfterFailure::Try(Attempt { transport: WebSocket, deadline_ms: Some(3_000.0) }));
    assert_eq!(s.first_frame(), Some(Remember::Forget), "WebSocket works: the broken fallback is forgotten");
    assert_eq!(s.transport(), WebSocket);
}

#[test]
fn long_polling_has_a_deadline_whenever_websocket_follows_it() {
    // Begun on SSE: SSE, long-polling, WebSocket. A poll that hangs must
    // not keep WebSocket waiting for the driver's whole connect timeout.
    let mut s = sel(FallbackConfig::default(), Some(Sse));
    assert_eq!(s.begin(), Attempt { transport: Sse, deadline_ms: Some(5_000.0) });
    assert_eq!(s.failed(), AfterFailure::Try(Attempt { transport: LongPoll, deadline_ms: Some(5_000.0) }));
    assert!(matches!(s.failed(), AfterFailure::Try(Attempt { transport: WebSocket, deadline_ms: Some(_) })));
    assert_eq!(s.failed(), AfterFailure::Lost, "SSE, where it began, is not tried twice");
    // Begun on WebSocket, long-polling is last: the connect timeout applies.
    let mut s = sel(FallbackConfig::default(), None);
    s.begin();
    s.failed();
    assert_eq!(s.failed(), AfterFailure::Try(Attempt { transport: LongPoll, deadline_ms: None }));
}

#[test]
fn a_server_restarting_refuses_everything_and_the_memory_holds_until_websocket_works() {
    // SSE remembered; the server is down: SSE, long-polling and WebSocket
    // all fail. Only a first frame ever decides what to remember, so
    // nothing is forgotten yet: a reload would still start on SSE.
    let mut s = sel(FallbackConfig::default(), Some(Sse));
    assert_eq!(s.begin().transport, Sse);
    assert!(matches!(s.failed_with(false), AfterFailure::Try(Attempt { transport: LongPoll, .. })));
    assert!(matches!(s.failed_with(false), AfterFailure::Try(Attempt { transport: WebSocket, .. })));
    assert_eq!(s.failed_with(false), AfterFailure::Lost);
    // Back up: the next attempt tries WebSocket first, and its first frame
    // clears the memory.
    assert_eq!(s.begin().transport, WebSocket);
    assert_eq!(s.opened(true), None);
    assert_eq!(s.first_frame(), Some(Remember::Forget));
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
    assert_eq!(s.first_frame(), Some(Remember::Forget));
    // Not remembering: nothing to clear, but WebSocket is tried all the same.
    let mut s = sel(FallbackConfig { remember: false, ..FallbackConfig::default() }, None);
    s.begin();
    s.failed();
    s.first_frame();
    s.lost();
    assert_eq!(s.begin().transport, Sse);
    assert!(matches!(s.failed(), AfterFailure::Try(Attempt { transport: LongPoll, .. })));
    assert_eq!(s.failed(), AfterFailure::Try(Attempt { transport: WebSocket, deadline_ms: Some(3_000.0) }));
    assert_eq!(s.first_frame(), Some(Remember::Nothing), "not remembering: nothing to clear");
}
