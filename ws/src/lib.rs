//! `use_websocket` for [Leptos]: a component holds a live WebSocket for as
//! long as it is mounted, and nothing leaks or is lost when the network,
//! the server or the component goes away.
//!
//! - Opens on mount (or on `open()` with `immediate(false)`), closes on
//!   unmount; handlers are owned and detached, never leaked.
//! - Reconnects after any close the app did not ask for, with full-jitter
//!   exponential backoff, one retry timer at a time, a connect timeout and a
//!   close-code policy; retries at once when the network comes back or the
//!   tab becomes visible.
//! - `send` while not connected queues in order (bounded, optional time limit)
//!   and flushes after the handshake frames on the next open; `try_send` sends
//!   now or tells you it did not, for apps that keep their own outbox.
//! - Heartbeats detect dead connections; metrics count everything.
//! - Generic over a [`Codec`]: JSON (default), text or bytes, or your own.
//! - `share(true)` lets components on one page share one socket;
//!   `share_across_tabs(true)` one socket per browser (the `tabs` feature).
//! - Falls back to Server-Sent Events or long-polling when no WebSocket gets
//!   through (the `fallback` feature).
//! - Inert outside the browser (server-side rendering), never a panic.
//!
//! All decisions are made by the pure [`driver::Driver`] (no `web_sys`),
//! unit-tested natively with a fake clock; the browser layer only carries
//! them out.
//!
//! # Quick start
//! ```no_run
//! use leptos::prelude::*;
//! use tether_ws::{use_websocket, Incoming};
//!
//! #[derive(serde::Serialize)]
//! struct Say { text: String }
//! #[derive(serde::Deserialize, Clone)]
//! struct Heard { text: String }
//!
//! #[component]
//! fn Talk() -> impl IntoView {
//!     // Relative URLs resolve against the page: this is ws(s)://<host>/ws.
//!     let ws = use_websocket::<Say, Heard>("/ws");
//!     let send = ws.send.clone();
//!     view! {
//!         <p>{move || ws.state.get().to_string()}</p>
//!         <button on:click=move |_| { let _ = send(&Say { text: "hi".into() }); }>"Say hi"</button>
//!         <p>{move || match ws.message.get() {
//!             Some(Incoming::Message(m)) => m.text,
//!             Some(Incoming::Undecodable { error, .. }) => format!("unreadable: {error}"),
//!             None => String::new(),
//!         }}</p>
//!     }
//! }
//! ```
//!
//! # Cargo features
//! Both are on by default; an app that uses neither turns them off
//! (`default-features = false`) and its wasm carries none of their code or
//! dependencies.
//! - `tabs`: the options `share_across_tabs` and `tabs_key`, and the
//!   `tabs` module (BroadcastChannel, Web Locks,
//!   postcard). Without it `metrics.role` is always `standalone`.
//! - `fallback`: the HTTP fallback (SSE or long-poll down, POST up) with its
//!   options (`fallback`, `fallback_deadlines`, `probe_backoff`,
//!   `remember_fallback`) and the `fallback` and `emulated` modules (base64,
//!   `fetch`, `EventSource`). Without it the hook only ever uses WebSocket,
//!   as with `fallback(false)`: `transport` is always `WebSocket` and the
//!   registry's fallback counters stay 0.
//!
//! [Leptos]: https://leptos.dev

#![warn(missing_docs)]
// docs.rs (all features) labels what each feature brings.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod backoff;
mod browser;
pub mod close_code;
pub mod codec;
pub mod config;
pub mod driver;
#[cfg(feature = "fallback")]
pub mod emulated;
mod error;
#[cfg(feature = "fallback")]
pub mod fallback;
mod inert;
pub mod metrics;
pub mod options;
pub mod queue;
pub mod state;
#[cfg(feature = "tabs")]
pub mod tabs;
pub mod url;

pub use browser::registry;
pub use browser::{live_shared, now_ms};
pub use codec::{BinaryCodec, Codec, Frame, Incoming, JsonCodec, TextCodec};
pub use config::CloseAction;
pub use error::WsError;
pub use metrics::{Metrics, Role, Transport};
pub use options::UseWebSocketOptions;
pub use queue::QueueFull;
pub use state::ConnState;

use leptos::prelude::*;
use serde::{Serialize, de::DeserializeOwned};
use std::sync::Arc;

/// A command: `open`, `close`, `reconnect_now`. `Send + Sync` so it can be
/// moved into any event handler or reactive closure.
pub type Command = Arc<dyn Fn() + Send + Sync>;
/// `send` / `try_send`: the result says whether the message was accepted.
pub type SendFn<Tx> = Arc<dyn Fn(&Tx) -> Result<(), WsError> + Send + Sync>;

/// What the hook gives a component: read-only signals and commands.
pub struct UseWebSocketReturn<Tx: 'static, Rx: Send + Sync + 'static> {
    /// Where the connection is (`idle`, `connecting`, `open`, `reconnecting`
    /// with the attempt and retry time, `closing`, `closed`, `failed` with why).
    pub state: Signal<ConnState>,
    /// The latest inbound frame. A signal keeps only the last of a burst:
    /// use the `on_message` option to see every frame.
    pub message: Signal<Option<Incoming<Rx>>>,
    /// The latest error worth showing: bad URL, full queue, expired queued
    /// messages, an unreadable frame.
    pub error: Signal<Option<WsError>>,
    /// Counters: connects, drops, frames and bytes, queue, RTT, ...
    pub metrics: Signal<Metrics>,
    /// The transport carrying the connection: `WebSocket`, or a fallback
    /// (`Sse`, `LongPoll`) when no WebSocket gets through (the `fallback`
    /// option and feature). The same as `metrics.transport`.
    pub transport: Signal<Transport>,
    /// Send now if open, else queue in order. Errs when the queue is full or
    /// the component is gone; nothing is dropped silently.
    pub send: SendFn<Tx>,
    /// Send now if open, else return [`WsError::NotOpen`]; never queues. For
    /// apps that keep their own outbox and resend it in the handshake, so a
    /// message cannot leave twice.
    pub try_send: SendFn<Tx>,
    /// Connect now (if not already) and re-enable automatic reconnection.
    pub open: Command,
    /// Close with 1000 and stay closed until `open`; cancels a pending retry.
    pub close: Command,
    /// Retry at once with a fresh backoff (the same as `open`).
    pub reconnect_now: Command,
}

impl<Tx: 'static, Rx: Send + Sync + 'static> Clone for UseWebSocketReturn<Tx, Rx> {
    fn clone(&self) -> Self {
        Self {
            state: self.state,
            message: self.message,
            error: self.error,
            metrics: self.metrics,
            transport: self.transport,
            send: self.send.clone(),
            try_send: self.try_send.clone(),
            open: self.open.clone(),
            close: self.close.clone(),
            reconnect_now: self.reconnect_now.clone(),
        }
    }
}

/// A JSON WebSocket with the default options. `url` may be absolute
/// (`ws:`, `wss:`, `http:`, `https:`) or relative to the page (`/ws`, `ws`).
pub fn use_websocket<Tx, Rx>(url: impl Into<Signal<String>>) -> UseWebSocketReturn<Tx, Rx>
where
    Tx: Serialize + 'static,
    Rx: DeserializeOwned + Clone + Send + Sync + 'static,
{
    use_websocket_with_options(url, UseWebSocketOptions::default())
}

/// A WebSocket with options (and the options' codec). When `url` changes, an
/// open connection moves to the new URL; an invalid one closes it and is
/// reported in `error` until the URL is fixed.
pub fn use_websocket_with_options<Tx, Rx, C>(
    url: impl Into<Signal<String>>,
    options: UseWebSocketOptions<Tx, Rx, C>,
) -> UseWebSocketReturn<Tx, Rx>
where
    Tx: 'static,
    Rx: Clone + Send + Sync + 'static,
    C: Codec<Tx, Rx> + Clone,
{
    let url: Signal<String> = url.into();
    if !in_browser() {
        return inert::use_websocket();
    }
    browser::use_websocket(url, options)
}

/// Whether the browser APIs the hook needs are there. Checked before any
/// `web_sys` call: on a native target those calls would panic.
fn in_browser() -> bool {
    cfg!(target_arch = "wasm32") && web_sys::window().is_some()
}
