//! Timings of emulated sessions (the HTTP fallback), as flags so tests can
//! shorten them; flattened into [`crate::Limits`].

use clap::Args;

pub const DEFAULT_SESSION_IDLE_MS: u64 = 60_000;
pub const DEFAULT_POLL_HOLD_MS: u64 = 25_000;
pub const DEFAULT_SSE_PING_MS: u64 = 15_000;
pub const DEFAULT_SESSION_BURST: u32 = 30;
pub const DEFAULT_SESSION_RATE: f64 = 5.0;

#[derive(Args, Debug, Clone, PartialEq)]
pub struct EmulatedLimits {
    /// An emulated session with no stream attached, no poll and no send for
    /// this long expires (later requests get 410 `expired_session`).
    #[arg(long, env = "TETHER_SESSION_IDLE_MS", default_value_t = DEFAULT_SESSION_IDLE_MS)]
    pub session_idle_ms: u64,
    /// How long a long-poll is held when no frame is waiting.
    #[arg(long, env = "TETHER_POLL_HOLD_MS", default_value_t = DEFAULT_POLL_HOLD_MS)]
    pub poll_hold_ms: u64,
    /// How often an idle SSE stream gets a `ping` event (liveness, and keeps
    /// proxies from timing the response out).
    #[arg(long, env = "TETHER_SSE_PING_MS", default_value_t = DEFAULT_SSE_PING_MS)]
    pub sse_ping_ms: u64,
    /// Emulated sessions one IP address may start at once (429 `rate_limited` past it)...
    #[arg(long, env = "TETHER_SESSION_BURST", default_value_t = DEFAULT_SESSION_BURST)]
    pub session_burst: u32,
    /// ...and then per second.
    #[arg(long, env = "TETHER_SESSION_RATE", default_value_t = DEFAULT_SESSION_RATE)]
    pub session_rate: f64,
}

impl Default for EmulatedLimits {
    fn default() -> Self {
        Self {
            session_idle_ms: DEFAULT_SESSION_IDLE_MS,
            poll_hold_ms: DEFAULT_POLL_HOLD_MS,
            sse_ping_ms: DEFAULT_SSE_PING_MS,
            session_burst: DEFAULT_SESSION_BURST,
            session_rate: DEFAULT_SESSION_RATE,
        }
    }
}
