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

/// A connection state's name (`ConnState::name`): a `&'static str` that
/// can travel between tabs as text. An unknown name reads back as `unknown`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StateName(pub &'static str);

impl StateName {
    const KNOWN: [&'static str; 7] = ["idle", "connecting", "open", "reconnecting", "closing", "closed", "failed"];

    /// The name.
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl std::fmt::Display for StateName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl PartialEq<&str> for StateName {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl serde::Serialize for StateName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for StateName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(StateName(Self::KNOWN.into_iter().find(|n| *n == s).unwrap_or("unknown")))
    }
}

/// Which transport carries the connection: a WebSocket, or one of the HTTP
/// fallbacks (the emulated connection) when a network lets no WebSocket through.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Transport {
    /// A browser `WebSocket`.
    #[default]
    WebSocket,
    /// Server-Sent Events (`EventSource`) down, HTTP POST up.
    Sse,
    /// HTTP long-polling down, HTTP POST up.
    LongPoll,
}

impl Transport {
    /// A stable lowercase name: `websocket`, `sse` or `longpoll`.
    pub fn name(self) -> &'static str {
        match self {
            Transport::WebSocket => "websocket",
            Transport::Sse => "sse",
            Transport::LongPoll => "longpoll",
        }
    }

    /// The transport of a [`Transport::name`], if it is one.
    pub fn from_name(name: &str) -> Option<Self> {
        [Transport::WebSocket, Transport::Sse, Transport::LongPoll].into_iter().find(|t| t.name() == name)
    }

    /// The next transport to try when this one does not get through
    /// (WebSocket, then SSE, then long-polling); `None` after the last.
    pub fn next(self) -> Option<Self> {
        match self {
            Transport::WebSocket => Some(Transport::Sse),
            Transport::Sse => Some(Transport::LongPoll),
            Transport::LongPoll => None,
        }
    }
}

/// The last value and the median and 95th percentile of recent ones.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
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
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StateChange {
    /// When it happened, on the driver's clock (ms).
    pub at_ms: f64,
    /// The new state's name.
    pub state: StateName,
}

/// A snapshot of the hook's counters. Published as a signal at most a few
/// times a second while frames stream in, at once on a state change. With
/// cross-tab sharing a follower shows the leader's connection counters
/// (connects, frames, RTT...) with its own `role`, queue and tab fields.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Metrics {
    /// The transport in use (always WebSocket without the `fallback` feature).
    pub transport: Transport,
    /// The current state's name.
    pub state: StateName,
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
    /// WebSocket probes started while on a fallback (on the probe timer,
    /// the network coming back or the tab becoming visible), whatever came
    /// of them: shows that the hook is trying to get back to WebSocket.
    pub probes: u32,
    /// Leader, follower, or standalone (its own socket; always, without the
    /// `tabs` feature).
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

    #[test]
    fn a_snapshot_survives_the_trip_between_tabs() {
        let mut m = Metrics { state: StateName("open"), role: Role::Leader, ..Metrics::default() };
        m.rtt_ms.add(12.0);
        m.history.push_back(StateChange { at_ms: 5.0, state: StateName("connecting") });
        let back: Metrics = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
        let odd: StateChange = serde_json::from_str(r#"{"at_ms":1.0,"state":"weird"}"#).unwrap();
        assert_eq!(odd.state, "unknown");
    }
}
