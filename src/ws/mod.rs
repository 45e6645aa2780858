//! `use_websocket`: a Leptos hook that holds one live WebSocket connection
//! for as long as its component is mounted.
//!
//! Opens on mount, moves when the URL signal changes, reconnects with
//! jittered backoff, queues sends until open, detects dead connections with
//! heartbeats, and on unmount detaches everything and closes the socket.
//! Decisions are made by the pure [`driver::Driver`]; this module and
//! [`glue`] only connect it to the browser and to signals.

pub mod backoff;
pub mod codec;
pub mod config;
pub mod driver;
mod glue;
pub mod metrics;
pub mod options;
pub mod queue;
pub mod registry;
mod socket;
pub mod state;
pub mod storm;

pub use codec::Incoming;
pub use config::CloseAction;
pub use glue::now_ms;
pub use metrics::Metrics;
pub use options::UseWebSocketOptions;
pub use queue::QueueFull;
pub use state::ConnState;

use leptos::prelude::*;
use send_wrapper::SendWrapper;
use serde::{Serialize, de::DeserializeOwned};
use std::sync::Arc;

/// What can go wrong, as the user should hear it.
#[derive(thiserror::Error, Debug, Clone, PartialEq)]
pub enum WsError {
    #[error("invalid WebSocket URL {0}")]
    InvalidUrl(String),
    #[error(transparent)]
    QueueFull(#[from] QueueFull),
    #[error("could not encode the message: {0}")]
    Encode(String),
    #[error("the server sent a frame that could not be read: {0}")]
    Malformed(String),
    #[error("the connection was closed with its component")]
    Disposed,
}

/// Commands are `Arc<dyn Fn>` so they can be cloned into any event handler
/// or signal closure (Leptos requires `Send + Sync` there).
pub type Command = Arc<dyn Fn() + Send + Sync>;
pub type SendFn<Tx> = Arc<dyn Fn(&Tx) -> Result<(), WsError> + Send + Sync>;

/// Read-only signals for state, closures for commands.
pub struct UseWebSocketReturn<Tx: 'static, Rx: Send + Sync + 'static> {
    pub state: Signal<ConnState>,
    /// The latest inbound frame. Use `on_message` in the options to see every
    /// frame; a signal only keeps the last of a burst.
    pub message: Signal<Option<Incoming<Rx>>>,
    /// The latest error (bad URL, full queue, unreadable frame).
    pub error: Signal<Option<WsError>>,
    pub metrics: Signal<Metrics>,
    /// Send now if open, else queue in order. Errors when the queue is full
    /// or the hook is disposed; nothing is dropped silently.
    pub send: SendFn<Tx>,
    /// Connect and re-enable automatic reconnection.
    pub open: Command,
    /// Close with 1000 and stay closed until `open`.
    pub close: Command,
    /// Retry immediately with a fresh backoff (same as `open`).
    pub reconnect_now: Command,
}

pub fn use_websocket<Tx, Rx>(url: impl Into<Signal<String>>) -> UseWebSocketReturn<Tx, Rx>
where
    Tx: Serialize + 'static,
    Rx: DeserializeOwned + Clone + Send + Sync + 'static,
{
    use_websocket_with_options(url, UseWebSocketOptions::default())
}

pub fn use_websocket_with_options<Tx, Rx>(
    url: impl Into<Signal<String>>,
    options: UseWebSocketOptions<Tx, Rx>,
) -> UseWebSocketReturn<Tx, Rx>
where
    Tx: Serialize + 'static,
    Rx: DeserializeOwned + Clone + Send + Sync + 'static,
{
    registry::install_debug_api();
    let url: Signal<String> = url.into();
    let sig = glue::Signals {
        state: RwSignal::new(ConnState::Idle),
        message: RwSignal::new(None),
        error: RwSignal::new(None),
        metrics: RwSignal::new(Metrics::default()),
    };
    let (state, message, error, metrics) = (sig.state, sig.message, sig.error, sig.metrics);
    let inner = SendWrapper::new(glue::Inner::new(options, sig));

    let fx = inner.clone();
    Effect::new(move |first: Option<()>| {
        let u = url.get();
        let parsed = check_url(&u).map_err(|e| {
            fx.sig.error.set(Some(e.clone()));
            e.to_string()
        });
        let open = first.is_none() && fx.immediate();
        fx.step(|d, now| {
            d.set_url(parsed, now);
            if open {
                d.open(now);
            }
        });
    });

    let c = inner.clone();
    on_cleanup(move || c.dispose());

    let command = |f: fn(&mut driver::Driver, f64)| -> Command {
        let i = inner.clone();
        Arc::new(move || i.step(f))
    };
    let s = inner.clone();
    UseWebSocketReturn {
        state: state.read_only().into(),
        message: message.read_only().into(),
        error: error.read_only().into(),
        metrics: metrics.read_only().into(),
        send: Arc::new(move |tx| s.send(tx)),
        open: command(|d, now| d.open(now)),
        close: command(|d, now| d.close(now)),
        reconnect_now: command(|d, now| d.open(now)),
    }
}

/// A URL the hook can use: absolute `ws:` or `wss:`. Checked before the
/// browser sees it so the error says what is wrong instead of "SyntaxError".
pub fn check_url(url: &str) -> Result<String, WsError> {
    let bad = |why: &str| Err(WsError::InvalidUrl(format!("{url:?}: {why}")));
    let Some((scheme, rest)) = url.split_once("://") else { return bad("not an absolute URL") };
    if !matches!(scheme.to_ascii_lowercase().as_str(), "ws" | "wss") {
        return bad("scheme must be ws or wss");
    }
    if rest.is_empty() || rest.starts_with('/') || url.chars().any(char::is_whitespace) {
        return bad("missing host or contains spaces");
    }
    Ok(url.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_before_use() {
        assert!(check_url("ws://127.0.0.1:8080/ws").is_ok());
        assert!(check_url("WSS://example.com").is_ok());
        for bad in ["", "127.0.0.1:8080", "http://x/ws", "ws:///ws", "ws://a b"] {
            assert!(matches!(check_url(bad), Err(WsError::InvalidUrl(_))), "{bad:?}");
        }
    }
}
