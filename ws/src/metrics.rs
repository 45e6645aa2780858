//! Counters that make the connection observable: what a health panel shows
//! and what tests assert on (for example "no event reached a disposed hook").

/// What this tab does for the connection (`share_across_tabs`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Role {
    /// Its own connection: cross-tab sharing is off or unavailable.
    #[default]
    Standalone,
    /// Holds the socket for every tab of the browser.
    Leader,
    /// Uses the leader tab's socket through the tabs' channel.
    Follower,
}

impl Role {
    /// A stable lowercase name (`standalone`, `leader`, `follower`).
    pub fn name(self) -> &'static str {
        match self {
            Role::Standalone => "standalone",
            Role::Leader => "leader",
            Role::Follower => "follower",
        }
    }
}

/// A snapshot of the hook's counters. Cheap to clone; published as a signal.
/// With cross-tab sharing a follower shows the leader's connection counters
/// (connects, frames, RTT...) with its own `role`, queue and tab fields.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Metrics {
    /// Sockets created (first connect and every reconnect).
    pub connects: u32,
    /// Times the socket reached OPEN.
    pub opens: u32,
    /// Connections that ended without us asking.
    pub drops: u32,
    /// Reconnect attempts scheduled.
    pub reconnects: u32,
    /// Frames received.
    pub frames_in: u64,
    /// Frames handed to the socket (handshake and pings included).
    pub frames_out: u64,
    /// Payload bytes received.
    pub bytes_in: u64,
    /// Payload bytes handed to the socket.
    pub bytes_out: u64,
    /// Inbound frames the codec could not decode.
    pub malformed_in: u64,
    /// Frames currently waiting for the socket to open.
    pub queued: usize,
    /// The most frames that ever waited at once.
    pub queue_high_water: usize,
    /// `send` calls refused because the queue was full.
    pub queue_rejected: u64,
    /// Queued frames dropped because they waited longer than the queue's time limit.
    pub queue_expired: u64,
    /// State changes refused by the state machine (a bug if ever non-zero).
    pub invalid_transitions: u32,
    /// Heartbeats that went unanswered in time.
    pub heartbeat_timeouts: u32,
    /// Round-trip time of the last ping, in ms.
    pub last_rtt_ms: Option<f64>,
    /// Handshakes abandoned for taking longer than the connect timeout.
    pub connect_timeouts: u32,
    /// Leader, follower, or standalone (its own socket).
    pub role: Role,
    /// Why this tab has its own socket although `share_across_tabs` was
    /// asked for (Web Locks or BroadcastChannel missing); `None` otherwise.
    pub tabs_fallback: Option<String>,
    /// Times this tab saw leadership move to another tab or to itself after
    /// the first election (a closed or frozen leader replaced).
    pub leader_changes: u32,
    /// The leadership term this tab is in: it only grows when a leader that
    /// stopped responding was replaced (a closed leader's lock simply passes
    /// to the next tab in the same term).
    pub tabs_epoch: u64,
}
