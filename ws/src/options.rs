//! Options for [`crate::use_websocket_with_options`], shaped like leptos-use:
//! a struct with `Default` and a builder method per field, each saying its
//! default.

use crate::codec::{Codec, Incoming, JsonCodec};
use crate::config::DriverConfig;
use crate::error::WsError;
#[cfg(feature = "fallback")]
use crate::fallback::FallbackConfig;
use std::rc::Rc;

mod driver;

/// Called with every inbound frame, in order.
pub type OnMessage<Rx> = Rc<dyn Fn(&Incoming<Rx>)>;
/// Called when a socket closes: code, reason, whether the close was clean.
pub type OnClose = Rc<dyn Fn(u16, &str, bool)>;
/// Called with every error the hook reports.
pub type OnError = Rc<dyn Fn(&WsError)>;
/// Recognises a pong and returns its nonce.
pub type PongFn<Rx> = Rc<dyn Fn(&Rx) -> Option<u64>>;
/// Builds the ping for a nonce.
pub type PingFn<Tx> = Rc<dyn Fn(u64) -> Tx>;

/// How the hook behaves. `C` is the [`Codec`]; JSON unless set with
/// [`UseWebSocketOptions::codec`].
pub struct UseWebSocketOptions<Tx, Rx, C = JsonCodec> {
    pub(crate) driver: DriverConfig,
    #[cfg(feature = "fallback")]
    pub(crate) fallback: FallbackConfig,
    pub(crate) immediate: bool,
    pub(crate) share: bool,
    #[cfg(feature = "tabs")]
    pub(crate) across_tabs: bool,
    #[cfg(feature = "tabs")]
    pub(crate) tabs_key: String,
    pub(crate) protocols: Vec<String>,
    pub(crate) codec: C,
    pub(crate) handshake: Rc<dyn Fn() -> Vec<Tx>>,
    pub(crate) on_open: Rc<dyn Fn()>,
    pub(crate) on_message: OnMessage<Rx>,
    pub(crate) on_close: OnClose,
    pub(crate) on_error: OnError,
    pub(crate) ping: Option<PingFn<Tx>>,
    pub(crate) pong: Option<PongFn<Rx>>,
}

impl<Tx: 'static, Rx: 'static> Default for UseWebSocketOptions<Tx, Rx, JsonCodec> {
    fn default() -> Self {
        Self::with_codec(JsonCodec)
    }
}

impl<Tx: 'static, Rx: 'static, C> UseWebSocketOptions<Tx, Rx, C> {
    /// Defaults with another codec, e.g. `UseWebSocketOptions::with_codec(TextCodec)`.
    pub fn with_codec(codec: C) -> Self {
        Self {
            driver: DriverConfig::default(),
            #[cfg(feature = "fallback")]
            fallback: FallbackConfig::default(),
            immediate: true,
            share: false,
            #[cfg(feature = "tabs")]
            across_tabs: false,
            #[cfg(feature = "tabs")]
            tabs_key: String::new(),
            protocols: Vec::new(),
            codec,
            handshake: Rc::new(Vec::new),
            on_open: Rc::new(|| {}),
            on_message: Rc::new(|_| {}),
            on_close: Rc::new(|_, _, _| {}),
            on_error: Rc::new(|_| {}),
            ping: None,
            pong: None,
        }
    }
}

impl<Tx, Rx, C> UseWebSocketOptions<Tx, Rx, C> {
    /// Use another codec (see [`crate::TextCodec`], [`crate::BinaryCodec`]).
    /// Default [`JsonCodec`]. Keeps every other option except the heartbeat's
    /// ping and pong, whose types stay the same, so they are kept too.
    pub fn codec<C2: Codec<Tx, Rx>>(self, codec: C2) -> UseWebSocketOptions<Tx, Rx, C2> {
        UseWebSocketOptions {
            driver: self.driver,
            #[cfg(feature = "fallback")]
            fallback: self.fallback,
            immediate: self.immediate,
            share: self.share,
            #[cfg(feature = "tabs")]
            across_tabs: self.across_tabs,
            #[cfg(feature = "tabs")]
            tabs_key: self.tabs_key,
            protocols: self.protocols,
            codec,
            handshake: self.handshake,
            on_open: self.on_open,
            on_message: self.on_message,
            on_close: self.on_close,
            on_error: self.on_error,
            ping: self.ping,
            pong: self.pong,
        }
    }

    /// Connect as soon as the hook mounts. Default `true`; with `false`,
    /// nothing happens until `open()`.
    pub fn immediate(mut self, yes: bool) -> Self {
        self.immediate = yes;
        self
    }

    /// Share one socket between every component on the page that uses the
    /// same URL and the same message and codec types: reference-counted, the
    /// last to unmount closes it. Each subscriber receives every frame and its
    /// own handshake frames are sent on every (re)connection, and at once when
    /// it mounts while the socket is open (before anything it sends); the connection
    /// settings (backoff, heartbeat, timeouts, queue, protocols) are those of
    /// the first subscriber. `open`, `close` and `reconnect_now` act on the
    /// shared connection. Default `false`: one socket per hook.
    pub fn share(mut self, yes: bool) -> Self {
        self.share = yes;
        self
    }

    /// One socket per browser rather than per tab: same-origin tabs (and
    /// components) that use the same URL, `tabs_key` and types share it.
    /// One tab leads and holds the socket (a Web Lock decides); the others
    /// follow: their `send` goes to the leader and every frame it receives
    /// reaches them in order, their handshake frames are sent on every
    /// (re)connection of the leader's socket, their `state` and `metrics`
    /// mirror it (`metrics.role` says which they are). When the leader's tab
    /// closes, a follower takes over within moments and resends what the old
    /// leader had not transmitted; a leader that stops responding (its page
    /// hung) is replaced after about 5 s of silence. Without Web Locks or
    /// BroadcastChannel each tab keeps its own socket and
    /// `metrics.tabs_fallback` says why. A follower's `try_send` succeeds
    /// while the leader's socket is open; should the leader go away before
    /// transmitting it, the new leader sends it. Across such a change a frame
    /// the old leader transmitted but could not acknowledge (it crashed in
    /// between) may be sent twice: use ids the server deduplicates. Settings
    /// come from the tab that leads. Implies `share(true)` within the page.
    /// Default `false`. Needs the `tabs` feature (on by default).
    #[cfg(feature = "tabs")]
    pub fn share_across_tabs(mut self, yes: bool) -> Self {
        self.across_tabs = yes;
        self
    }

    /// What else, besides the URL and types, must match for tabs to share a
    /// socket: for example the user the handshake authenticates as. Default
    /// empty. Needs the `tabs` feature (on by default).
    #[cfg(feature = "tabs")]
    pub fn tabs_key(mut self, key: impl Into<String>) -> Self {
        self.tabs_key = key.into();
        self
    }

    /// Subprotocols offered in the handshake (`Sec-WebSocket-Protocol`).
    /// Default: none.
    pub fn protocols(mut self, protocols: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.protocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// Frames sent first on every (re)connection, before anything queued:
    /// the place for authentication, subscriptions and resume cursors. Called
    /// at each open, after the move to `open` is accepted, so it can read
    /// current state and mark things as sent. With the `fallback` option on
    /// (the default, with the `fallback` feature) it is first called as soon as a transport opens, while
    /// still `connecting` (the server's answer is what proves the transport
    /// works), then again at `open`, when only frames not already sent go
    /// out; it is also called for a background WebSocket probe. Default: none.
    pub fn handshake(mut self, f: impl Fn() -> Vec<Tx> + 'static) -> Self {
        self.handshake = Rc::new(f);
        self
    }

    /// Called once per connection when it opens, after the handshake frames
    /// went out. Default: nothing.
    pub fn on_open(mut self, f: impl Fn() + 'static) -> Self {
        self.on_open = Rc::new(f);
        self
    }

    /// Called for every inbound frame, in order. Frames are handed over in
    /// batches, in a task queued behind the frames already waiting (up to
    /// 1,000 per task; an event in between hands over all before it): a
    /// burst's frames are passed here back to back, so a signal they update
    /// renders once per batch. `on_open` and `on_close` come after the
    /// frames that arrived before their event. Never re-entered: a command
    /// called from here (`close`, `reconnect_now`) lets the rest of the batch
    /// follow once this returns (after the old socket's `on_close`, if the
    /// command replaced it). Frames not handed over yet are dropped when
    /// the URL changes (they are the old URL's) or the hook unmounts. Unlike
    /// the `message` signal (which only holds the newest of a batch), this
    /// never skips a frame. Default: nothing.
    pub fn on_message(mut self, f: impl Fn(&Incoming<Rx>) + 'static) -> Self {
        self.on_message = Rc::new(f);
        self
    }

    /// Called once per socket when it ends, with the close code, reason and
    /// whether the close handshake completed. A socket the hook writes off
    /// (timeouts) reports the hook's own code with `was_clean == false`. Not
    /// called on unmount. Default: nothing.
    pub fn on_close(mut self, f: impl Fn(u16, &str, bool) + 'static) -> Self {
        self.on_close = Rc::new(f);
        self
    }

    /// Called with every error: those in the `error` signal, and connection
    /// errors the browser reports (which carry no detail; a close follows).
    /// Default: nothing.
    pub fn on_error(mut self, f: impl Fn(&WsError) + 'static) -> Self {
        self.on_error = Rc::new(f);
        self
    }

    /// Whether tabs share one socket (never without the `tabs` feature).
    #[cfg(feature = "tabs")]
    pub(crate) fn across_tabs(&self) -> bool {
        self.across_tabs
    }

    #[cfg(not(feature = "tabs"))]
    pub(crate) fn across_tabs(&self) -> bool {
        false
    }
}
