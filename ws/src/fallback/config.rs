//! The fallback's settings (pure, so the selector is built and tested
//! natively) and the hook options that set them.

use crate::options::UseWebSocketOptions;

/// When and how the hook falls back from WebSocket to the emulated connection
/// (SSE + POST, then long-polling + POST), and how it probes its way back.
#[derive(Clone, Debug, PartialEq)]
pub struct FallbackConfig {
    /// Whether to fall back at all. Default `true`; `false` keeps the hook on
    /// WebSocket only, as without this feature.
    pub enabled: bool,
    /// A WebSocket that has sent no frame this long after it was created is
    /// given up for SSE. Default 3 000 ms; once WebSocket has worked on the
    /// page, three times that (see `WS_DEADLINE_FACTOR_AFTER_IT_WORKED`).
    pub ws_deadline_ms: f64,
    /// An SSE stream that has delivered no frame this long after the session
    /// was requested is given up for long-polling. Default 5 000 ms.
    pub sse_deadline_ms: f64,
    /// The first background WebSocket probe while on a fallback comes this
    /// long after the fallback started working. Default 30 000 ms.
    pub probe_first_ms: f64,
    /// Probes back off (doubling, with jitter) up to this. Default 600 000 ms.
    pub probe_max_ms: f64,
    /// Remember a fallback per URL for the tab's session (sessionStorage), so
    /// a reload does not pay the deadlines again. Default `true`.
    pub remember: bool,
    /// How many times in a row a broken SSE stream or poll is re-attached
    /// before the connection counts as lost. Default 3. Only once something
    /// arrived on it: one that breaks before that ends at once, and the next
    /// transport is tried.
    pub reattach_limit: u32,
}

impl Default for FallbackConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            ws_deadline_ms: 3_000.0,
            sse_deadline_ms: 5_000.0,
            probe_first_ms: 30_000.0,
            probe_max_ms: 600_000.0,
            remember: true,
            reattach_limit: 3,
        }
    }
}

impl<Tx, Rx, C> UseWebSocketOptions<Tx, Rx, C> {
    /// Fall back to Server-Sent Events + POST, then to long-polling + POST,
    /// when a WebSocket does not get through (a proxy strips `Upgrade`,
    /// accepts it and passes nothing, or buffers streams). The server must
    /// speak Tether's emulated connection (see the crate README) under the
    /// WebSocket URL's path. Default `true`. With `false` the hook only ever
    /// uses WebSocket.
    ///
    /// This option and the three below need the `fallback` feature (on by
    /// default); without it the hook is as with `false`.
    ///
    /// A transport counts as working once the server's first frame arrives,
    /// so the server should answer the handshake frames (or speak first);
    /// with no handshake frames the hook cannot tell and takes an open
    /// WebSocket as working.
    pub fn fallback(mut self, yes: bool) -> Self {
        self.fallback.enabled = yes;
        self
    }

    /// How long each transport may take to deliver its first frame before
    /// the next one is tried. Defaults: 3 000 ms for WebSocket, 5 000 ms for
    /// SSE. An error or close before the first frame falls back at once.
    pub fn fallback_deadlines(mut self, ws_ms: u32, sse_ms: u32) -> Self {
        self.fallback.ws_deadline_ms = ws_ms as f64;
        self.fallback.sse_deadline_ms = sse_ms as f64;
        self
    }

    /// While on a fallback the hook probes WebSocket in the background (and
    /// at once when the network comes back or the tab becomes visible): the
    /// first probe after `first_ms`, then doubling with jitter up to
    /// `max_ms`. Defaults 30 000 ms and 600 000 ms.
    pub fn probe_backoff(mut self, first_ms: u32, max_ms: u32) -> Self {
        self.fallback.probe_first_ms = first_ms as f64;
        self.fallback.probe_max_ms = max_ms as f64;
        self
    }

    /// Remember a fallback per URL for the tab's session (sessionStorage), so
    /// a reload starts on the transport that worked. Default `true`.
    pub fn remember_fallback(mut self, yes: bool) -> Self {
        self.fallback.remember = yes;
        self
    }
}
