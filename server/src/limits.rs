//! Every limit that keeps one client from hurting the others, with safe
//! defaults; each is a flag and an environment variable (README, "Limits").

use clap::Args;

pub const DEFAULT_OUTBOX_BYTES: usize = 4 * 1024 * 1024;
pub const DEFAULT_POST_RATE: f64 = 5.0;
pub const DEFAULT_POST_BURST: u32 = 30;
pub const DEFAULT_POST_STRIKES: u32 = 50;
pub const DEFAULT_JOIN_RATE: f64 = 2.0;
pub const DEFAULT_JOIN_BURST: u32 = 20;
pub const DEFAULT_ROOMS_CREATED_PER_CONN: u32 = 20;
pub const DEFAULT_MAX_ROOMS: usize = 10_000;
pub const DEFAULT_ROOMS_JOINED_PER_CONN: usize = 50;
pub const DEFAULT_CONNS_PER_IP: usize = 64;
pub const DEFAULT_MAX_CONNS: usize = 10_000;
pub const DEFAULT_HELLO_TIMEOUT_MS: u64 = 5_000;
pub const DEFAULT_PING_INTERVAL_MS: u64 = 20_000;
pub const DEFAULT_IDLE_TIMEOUT_MS: u64 = 60_000;
pub const DEFAULT_HEADER_TIMEOUT_MS: u64 = 10_000;

#[derive(Args, Debug, Clone, PartialEq)]
pub struct Limits {
    /// Bytes of frames one connection may have queued; past it the client
    /// is closed with 1013 (it reconnects and resumes from its cursor).
    #[arg(long, env = "TETHER_OUTBOX_BYTES", default_value_t = DEFAULT_OUTBOX_BYTES)]
    pub outbox_bytes: usize,
    /// Posts per second one connection may sustain (token bucket refill).
    #[arg(long, env = "TETHER_POST_RATE", default_value_t = DEFAULT_POST_RATE)]
    pub post_rate: f64,
    /// Posts one connection may send in a burst.
    #[arg(long, env = "TETHER_POST_BURST", default_value_t = DEFAULT_POST_BURST)]
    pub post_burst: u32,
    /// Rate-limited posts, more than a second into a run of refusals, after
    /// which the connection is closed (1008).
    #[arg(long, env = "TETHER_POST_STRIKES", default_value_t = DEFAULT_POST_STRIKES)]
    pub post_strikes: u32,
    /// Joins (and history requests) per second one connection may sustain.
    #[arg(long, env = "TETHER_JOIN_RATE", default_value_t = DEFAULT_JOIN_RATE)]
    pub join_rate: f64,
    /// Joins (and history requests) one connection may send in a burst.
    #[arg(long, env = "TETHER_JOIN_BURST", default_value_t = DEFAULT_JOIN_BURST)]
    pub join_burst: u32,
    /// Rooms one connection may create.
    #[arg(long, env = "TETHER_ROOMS_CREATED_PER_CONN", default_value_t = DEFAULT_ROOMS_CREATED_PER_CONN)]
    pub rooms_created_per_conn: u32,
    /// Rooms the server holds in total; past it no room can be created.
    #[arg(long, env = "TETHER_MAX_ROOMS", default_value_t = DEFAULT_MAX_ROOMS)]
    pub max_rooms: usize,
    /// Rooms one connection may be in at once.
    #[arg(long, env = "TETHER_ROOMS_JOINED_PER_CONN", default_value_t = DEFAULT_ROOMS_JOINED_PER_CONN)]
    pub rooms_joined_per_conn: usize,
    /// WebSocket connections open at once from one IP address (429 past it).
    #[arg(long, env = "TETHER_CONNS_PER_IP", default_value_t = DEFAULT_CONNS_PER_IP)]
    pub conns_per_ip: usize,
    /// WebSocket connections open at once in total (503 past it).
    #[arg(long, env = "TETHER_MAX_CONNS", default_value_t = DEFAULT_MAX_CONNS)]
    pub max_conns: usize,
    /// A connection that has not said hello after this long is closed (1008).
    #[arg(long, env = "TETHER_HELLO_TIMEOUT_MS", default_value_t = DEFAULT_HELLO_TIMEOUT_MS)]
    pub hello_timeout_ms: u64,
    /// How often the server pings each connection.
    #[arg(long, env = "TETHER_PING_INTERVAL_MS", default_value_t = DEFAULT_PING_INTERVAL_MS)]
    pub ping_interval_ms: u64,
    /// A peer heard nothing from (no frame, no pong) for this long is closed (4000).
    #[arg(long, env = "TETHER_IDLE_TIMEOUT_MS", default_value_t = DEFAULT_IDLE_TIMEOUT_MS)]
    pub idle_timeout_ms: u64,
    /// An HTTP request whose headers take longer than this is dropped.
    #[arg(long, env = "TETHER_HEADER_TIMEOUT_MS", default_value_t = DEFAULT_HEADER_TIMEOUT_MS)]
    pub header_timeout_ms: u64,
    #[command(flatten)]
    pub emulated: crate::emulated::EmulatedLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            outbox_bytes: DEFAULT_OUTBOX_BYTES,
            post_rate: DEFAULT_POST_RATE,
            post_burst: DEFAULT_POST_BURST,
            post_strikes: DEFAULT_POST_STRIKES,
            join_rate: DEFAULT_JOIN_RATE,
            join_burst: DEFAULT_JOIN_BURST,
            rooms_created_per_conn: DEFAULT_ROOMS_CREATED_PER_CONN,
            max_rooms: DEFAULT_MAX_ROOMS,
            rooms_joined_per_conn: DEFAULT_ROOMS_JOINED_PER_CONN,
            conns_per_ip: DEFAULT_CONNS_PER_IP,
            max_conns: DEFAULT_MAX_CONNS,
            hello_timeout_ms: DEFAULT_HELLO_TIMEOUT_MS,
            ping_interval_ms: DEFAULT_PING_INTERVAL_MS,
            idle_timeout_ms: DEFAULT_IDLE_TIMEOUT_MS,
            header_timeout_ms: DEFAULT_HEADER_TIMEOUT_MS,
            emulated: Default::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        limits: Limits,
    }

    #[test]
    fn flag_defaults_equal_the_default_impl() {
        // Only meaningful without TETHER_* limit variables in the environment.
        if std::env::vars().any(|(k, _)| k.starts_with("TETHER_")) {
            return;
        }
        assert_eq!(Cli::parse_from(["x"]).limits, Limits::default());
        let l = Cli::parse_from(["x", "--post-rate", "0.5", "--conns-per-ip", "3"]).limits;
        assert_eq!((l.post_rate, l.conns_per_ip), (0.5, 3));
    }
}
