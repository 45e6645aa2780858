//! Page-wide counts that let a test (or a curious developer) prove nothing
//! leaks: sockets the hook created that have not closed yet, hook instances
//! not yet disposed, and events that reached a disposed hook (always 0 unless
//! a handler was left attached).
//!
//! Only counters and flags: the registry never holds a socket, so it cannot
//! keep one alive, and it costs nothing when nobody reads it. A socket is
//! counted as closed by its own `close` listener (added with `{ once: true }`
//! and freed by JS once it has run), which still hears the close after the
//! hook has detached its own handlers.

use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{AddEventListenerOptions, WebSocket};

thread_local! {
    static SOCKETS: Cell<u32> = const { Cell::new(0) };
    static HELD: Cell<u32> = const { Cell::new(0) };
    static HOOKS: Cell<u32> = const { Cell::new(0) };
    static LATE: Cell<u32> = const { Cell::new(0) };
    static EVENT_SOURCES: Cell<u32> = const { Cell::new(0) };
    static POLLS: Cell<u32> = const { Cell::new(0) };
    static SESSIONS: Cell<u32> = const { Cell::new(0) };
}

fn bump(c: &'static std::thread::LocalKey<Cell<u32>>, up: bool) {
    c.with(|c| c.set(if up { c.get() + 1 } else { c.get().saturating_sub(1) }));
}

/// One socket as the registry sees it, shared by the socket's owner and its
/// `close` listener. A socket the owner has let go of (detached and asked to
/// close) is no longer *held*: it may take a while to finish closing, and
/// that is not a leak.
#[derive(Default)]
pub(crate) struct SocketMark {
    closed: Cell<bool>,
    released: Cell<bool>,
}

impl SocketMark {
    /// The owner let go of the socket. Idempotent.
    pub fn release(&self) {
        if !self.released.replace(true) && !self.closed.get() {
            bump(&HELD, false);
        }
    }

    fn closed(&self) {
        bump(&SOCKETS, false);
        if !self.closed.replace(true) && !self.released.get() {
            bump(&HELD, false);
        }
    }
}

pub(crate) fn socket_created(ws: &WebSocket) -> Rc<SocketMark> {
    bump(&SOCKETS, true);
    bump(&HELD, true);
    let mark = Rc::new(SocketMark::default());
    let m = mark.clone();
    // `once_into_js` + `{ once: true }`: run at most once, then freed by JS.
    let f = Closure::once_into_js(move || m.closed());
    let opts = AddEventListenerOptions::new();
    opts.set_once(true);
    let _ = ws.add_event_listener_with_callback_and_add_event_listener_options("close", f.unchecked_ref(), &opts);
    mark
}

/// Sockets created by the hook that it has neither let go of (detached and
/// asked to close) nor seen closed: each belongs to a live hook. The debug
/// build's leak check warns when there are more than [`live_hooks`].
pub fn held_sockets() -> u32 {
    HELD.with(Cell::get)
}

/// Sockets created by the hook whose `close` event has not fired yet.
pub fn live_sockets() -> u32 {
    SOCKETS.with(Cell::get)
}

pub(crate) fn hook_created() {
    bump(&HOOKS, true);
}

pub(crate) fn hook_disposed() {
    bump(&HOOKS, false);
    #[cfg(debug_assertions)]
    check_soon();
}

/// Debug builds: a little after a hook goes away, warn if more sockets are
/// held than hooks could own. Sockets let go of and still closing are not
/// counted: under churn (a component mounted and unmounted many times) some
/// always are, and counting them made this warn falsely after most unmounts
/// of an open hook.
#[cfg(debug_assertions)]
fn check_soon() {
    /// A disposed hook lets go of its socket at once; the wait leaves room
    /// for a subscriber's shared socket to follow when its last one goes.
    const AFTER_MS: i32 = 4_000;
    let Some(window) = web_sys::window() else { return };
    // `once_into_js`: freed by JS after it runs, never leaked.
    let check = Closure::once_into_js(|| {
        let (held, hooks) = (held_sockets(), live_hooks());
        if held > hooks {
            web_sys::console::warn_1(
                &format!("use_websocket: {held} sockets held but {hooks} live hooks: a socket may have leaked").into(),
            );
        }
    });
    let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(check.unchecked_ref(), AFTER_MS);
}

/// Hook instances (subscribers, in shared mode) not yet disposed.
pub fn live_hooks() -> u32 {
    HOOKS.with(Cell::get)
}

pub(crate) fn late_event() {
    bump(&LATE, true);
}

/// Events that reached a disposed hook. Always 0 unless something is wrong.
pub fn late_events() -> u32 {
    LATE.with(Cell::get)
}

#[cfg(feature = "fallback")]
pub(crate) fn event_source(open: bool) {
    bump(&EVENT_SOURCES, open);
}

/// `EventSource`s the hook opened (SSE fallback) and has not closed yet.
/// Always 0 without the `fallback` feature.
pub fn live_event_sources() -> u32 {
    EVENT_SOURCES.with(Cell::get)
}

#[cfg(feature = "fallback")]
pub(crate) fn poll_loop(running: bool) {
    bump(&POLLS, running);
}

/// Long-poll loops (fallback) still running: each is a `fetch` in flight or
/// about to be made. Aborted and ended when the connection closes. Always 0
/// without the `fallback` feature.
pub fn live_polls() -> u32 {
    POLLS.with(Cell::get)
}

#[cfg(feature = "fallback")]
pub(crate) fn session(open: bool) {
    bump(&SESSIONS, open);
}

/// Emulated (HTTP fallback) sessions the hook started and has not ended
/// (closed with `DELETE`, or ended by the server). Always 0 without the
/// `fallback` feature.
pub fn live_sessions() -> u32 {
    SESSIONS.with(Cell::get)
}

/// Define `window[name]` with `liveSockets()`, `liveHooks()`,
/// `lateEvents()`, `liveEventSources()`, `livePolls()` and `liveSessions()`
/// for tests and debugging. The functions are handed to the
/// JS garbage collector (`into_js_value`), not leaked. Calling it again with
/// the same name replaces the object; doing nothing more, it costs nothing.
pub fn expose_on_window(name: &str) {
    let Some(window) = web_sys::window() else { return };
    let obj = js_sys::Object::new();
    let f = |f: fn() -> u32| Closure::<dyn Fn() -> u32>::new(f).into_js_value();
    for (key, fun) in [
        ("liveSockets", f(live_sockets)),
        ("liveHooks", f(live_hooks)),
        ("lateEvents", f(late_events)),
        ("liveEventSources", f(live_event_sources)),
        ("livePolls", f(live_polls)),
        ("liveSessions", f(live_sessions)),
    ] {
        let _ = js_sys::Reflect::set(&obj, &JsValue::from_str(key), &fun);
    }
    let _ = js_sys::Reflect::set(window.unchecked_ref(), &JsValue::from_str(name), &obj);
}
