//! Counters that make the connection observable: what a health panel shows
//! and what tests assert on (for example "no event reached a disposed hook").

/// A snapshot of the hook's counters. Cheap to clone; published as a signal.
#[derive(Clone, Debug, Default, PartialEq)]
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
}
