//! Counters and summaries that make the connection observable: what a
//! health panel shows and what tests assert on (for example "no event
//! reached a disposed hook").
//!
//! Cheap by construction: counters are plain integers updated in place;
//! the summaries and the state history are fixed-size rings, so nothing
//! grows with the life of the connection and nothing is allocated per frame.

use std::collections::VecDeque;

/// How many recent samples a [`Summary`] keeps for its percentiles.
pub const SUMMARY_SAMPLES: usize = 64;
/// How many state changes [`Metrics::history`] keeps.
pub const HISTORY_LEN: usize = 100;

/// Which transport carries the connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Transport {
    /// A browser `WebSocket`.
    #[default]
    WebSocket,
}

impl Transport {
    /// A stable lowercase name: `websocket`.
    pub fn name(self) -> &'static str {
        match self {
            Transport::WebSocket => "websocket",
        }
    }
}

/// The last value and the median and 95th percentile of recent ones.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    /// The most recent sample.
    pub last: Option<f64>,
    /// Median of the last [`SUMMARY_SAMPLES`] samples.
    pub p50: Option<f64>,
    /// 95th percentile of the last [`SUMMARY_SAMPLES`] samples.
    pub p95: Option<f64>,
    /// Samples ever added.
    pub count: u64,
    recent: VecDeque<f64>,
}

impl Summary {
    /// Add a sample; percentiles are recomputed here (a sort of at most 64
    /// numbers), never when the metrics are read.
    pub fn add(&mut self, v: f64) {
        if self.recent.len() == SUMMARY_SAMPLES {
            self.recent.pop_front();
        }
        self.recent.push_back(v);
        self.count += 1;
        self.last = Some(v);
        let mut sorted: Vec<f64> = self.recent.iter().copied().collect();
        sorted.sort_by(f64::total_cmp);
        let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
        self.p50 = Some(at(0.5));
        self.p95 = Some(at(0.95));
    }

    /// The samples the percentiles are computed from, oldest first.
    pub fn recent(&self) -> impl Iterator<Item = f64> + '_ {
        self.recent.iter().copied()
    }
}

/// One state change: when (page clock, ms) and the state's name.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StateChange {
    /// When it happened, on the driver's clock (ms).
    pub at_ms: f64,
    /// The new state's name (see `ConnState::name`).
    pub state: &'static str,
}

/// A snapshot of the hook's counters. Published as a signal at most a few
/// times a second while frames stream in, at once on a state change.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metrics {
    /// The transport in use.
    pub transport: Transport,
    /// The current state's name.
    pub state: &'static str,
    /// The last [`HISTORY_LEN`] state changes, oldest first.
    pub history: VecDeque<StateChange>,
    /// The reconnect attempt under way or next (0 while open).
    pub attempt: u32,
    /// Since when the current connection has been open (driver clock, ms).
    pub open_since_ms: Option<f64>,
    /// From losing a connection to having one again, in ms.
    pub reconnect_ms: Summary,
    /// Heartbeat round trips, in ms.
    pub rtt_ms: Summary,
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
    /// Handshakes abandoned for taking longer than the connect timeout.
    pub connect_timeouts: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_keep_last_median_and_p95_of_a_bounded_window() {
        let mut s = Summary::default();
        assert_eq!((s.last, s.p50, s.p95), (None, None, None));
        for v in 1..=100 {
            s.add(v as f64);
        }
        assert_eq!(s.last, Some(100.0));
        assert_eq!(s.count, 100);
        assert_eq!(s.recent().count(), SUMMARY_SAMPLES, "bounded");
        // The window holds 37..=100.
        assert_eq!(s.p50, Some(69.0));
        assert_eq!(s.p95, Some(97.0));
        s.add(1_000.0);
        assert_eq!(s.p95, Some(98.0), "one outlier barely moves p95");
    }
}
