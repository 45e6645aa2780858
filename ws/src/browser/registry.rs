//! Page-wide counts that let a test (or a curious developer) prove nothing
//! leaks: sockets the hook created that have not closed yet, hook instances
//! not yet disposed, and events that reached a disposed hook (always 0 unless
//! a handler was left attached).
//!
//! Only counters: the registry never holds a socket, so it cannot keep one
//! alive, and it costs nothing when nobody reads it. A socket is counted as
//! closed by one page-wide `close` listener (added once per socket with
//! `{ once: true }`, so the browser drops it after it fires), which still
//! hears the close after the hook has detached its own handlers.

use std::cell::{Cell, OnceCell};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{AddEventListenerOptions, WebSocket};

thread_local! {
    static SOCKETS: Cell<u32> = const { Cell::new(0) };
    static HOOKS: Cell<u32> = const { Cell::new(0) };
    static LATE: Cell<u32> = const { Cell::new(0) };
    static EVENT_SOURCES: Cell<u32> = const { Cell::new(0) };
    static POLLS: Cell<u32> = const { Cell::new(0) };
    static SESSIONS: Cell<u32> = const { Cell::new(0) };
    static ON_CLOSE: OnceCell<JsValue> = const { OnceCell::new() };
}

fn bump(c: &'static std::thread::LocalKey<Cell<u32>>, up: bool) {
    c.with(|c| c.set(if up { c.get() + 1 } else { c.get().saturating_sub(1) }));
}

pub(crate) fn socket_created(ws: &WebSocket) {
    bump(&SOCKETS, true);
    ON_CLOSE.with(|f| {
        let f = f.get_or_init(|| Closure::<dyn Fn()>::new(|| bump(&SOCKETS, false)).into_js_value());
        let opts = AddEventListenerOptions::new();
        opts.set_once(true);
        let _ = ws.add_event_listener_with_callback_and_add_event_listener_options("close", f.unchecked_ref(), &opts);
    });
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

/// Debug builds: a little after a hook goes away (its socket has had time
/// to finish closing), warn if more sockets are alive than hooks could own.
#[cfg(debug_assertions)]
fn check_soon() {
    /// Longer than the driver's close timeout (3 s), so a socket that is
    /// still closing normally is not reported.
    const AFTER_MS: i32 = 4_000;
    let Some(window) = web_sys::window() else { return };
    // `once_into_js`: freed by JS after it runs, never leaked.
    let check = Closure::once_into_js(|| {
        let (sockets, hooks) = (live_sockets(), live_hooks());
        if sockets > hooks {
            web_sys::console::warn_1(
                &format!("use_websocket: {sockets} live sockets but {hooks} live hooks: a socket may have leaked")
                    .into(),
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
