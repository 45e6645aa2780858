//! The messages tabs exchange on the `BroadcastChannel`, as postcard bytes
//! (JSON text too, for tools).

use super::{ConnTag, TabId};
use crate::codec::Frame;
use crate::metrics::Metrics;
use crate::state::ConnState;
use serde::{Deserialize, Serialize};

/// A connection command a follower asks the leader to carry out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Remote {
    /// `open` / `reconnect_now`.
    Open,
    /// `close`.
    Close,
}

/// One message on the channel. Leader messages carry the leader's epoch.
/// Externally tagged (`{"Beat":{..}}`): an internally tagged enum decodes
/// through serde's buffered path, which costs the app's wasm dearly. Only
/// tabs of the same build read it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Wire {
    /// A tab arrived (or moved to `epoch`): the leader answers with a beat.
    Hello {
        /// The new tab.
        from: TabId,
        /// The epoch it is in.
        epoch: u64,
    },
    /// The leader is alive; its socket and connection state.
    Beat {
        /// The leader.
        from: TabId,
        /// Its epoch.
        epoch: u64,
        /// Its socket, while open.
        open: Option<ConnTag>,
        /// Its connection state; `retry_at_ms` on the leader's clock ...
        state: ConnState,
        /// ... whose reading at sending time this is.
        at_ms: f64,
        /// Its connection counters (boxed: they dwarf every other message).
        metrics: Box<Metrics>,
    },
    /// A frame the leader's socket received.
    Frame {
        /// The leader.
        from: TabId,
        /// Its epoch.
        epoch: u64,
        /// Its socket.
        conn: ConnTag,
        /// Number on that socket.
        seq: u64,
        /// The frame.
        frame: Frame,
    },
    /// The leader's socket closed.
    Closed {
        /// The leader.
        from: TabId,
        /// Its epoch.
        epoch: u64,
        /// Close code.
        code: u16,
        /// Close reason.
        reason: String,
        /// Whether the close handshake completed.
        clean: bool,
    },
    /// The leader transmitted `to`'s frames up to `upto`.
    Took {
        /// The leader.
        from: TabId,
        /// The follower.
        to: TabId,
        /// Its last frame transmitted.
        upto: u64,
    },
    /// A follower's handshake frames for the leader's socket `conn`.
    Handshake {
        /// The follower.
        from: TabId,
        /// The socket.
        conn: ConnTag,
        /// The frames, in order.
        frames: Vec<Frame>,
    },
    /// A follower's frame for the leader's socket `conn`.
    Send {
        /// The follower.
        from: TabId,
        /// The socket.
        conn: ConnTag,
        /// The follower's number for it.
        seq: u64,
        /// The frame.
        frame: Frame,
    },
    /// A follower's `open`, `close` or `reconnect_now`.
    Command {
        /// The follower.
        from: TabId,
        /// What to do.
        cmd: Remote,
    },
    /// The leader is leaving (unmounted): its lock goes to the next tab.
    Bye {
        /// The leader.
        from: TabId,
    },
}

impl Wire {
    /// As channel text.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// From channel text; `None` for anything else on the channel.
    pub fn decode(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }

    /// As channel bytes: what the tabs send. postcard writes no field names
    /// and its reader follows only the sequence path of serde's derives, so
    /// the app's wasm carries a fraction of the JSON reader and writer of
    /// these types (README, "App size"). Only tabs of the same build read it.
    pub fn to_bytes(&self) -> Vec<u8> {
        postcard::to_allocvec(self).unwrap_or_default()
    }

    /// From channel bytes; `None` for anything else.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        postcard::from_bytes(bytes).ok()
    }
}

/// `state` as read on another tab's clock: `retry_at_ms` moved from the
/// sender's clock (`sent_at` then) to ours (`now`).
pub fn rebase(state: ConnState, sent_at: f64, now: f64) -> ConnState {
    match state {
        ConnState::Reconnecting { attempt, retry_at_ms } => {
            ConnState::Reconnecting { attempt, retry_at_ms: retry_at_ms.map(|t| t - sent_at + now) }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_survive_the_channel() {
        let w = Wire::Send {
            from: 7,
            conn: ConnTag { leader: 1, epoch: 2, n: 3 },
            seq: 4,
            frame: Frame::Binary(vec![0, 255]),
        };
        assert_eq!(Wire::decode(&w.encode()), Some(w.clone()));
        assert_eq!(Wire::decode("{\"t\":\"Nope\"}"), None);
        assert_eq!(Wire::from_bytes(&w.to_bytes()), Some(w));
        let mut metrics = Metrics { tabs_fallback: Some("no locks".into()), ..Metrics::default() };
        metrics.rtt_ms.add(f64::NAN);
        metrics.rtt_ms.add(12.5);
        let beat = Wire::Beat {
            from: 1,
            epoch: 2,
            open: None,
            state: ConnState::Reconnecting { attempt: 3, retry_at_ms: Some(4.5) },
            at_ms: 6.0,
            metrics: Box::new(metrics),
        };
        let bytes = beat.to_bytes();
        match Wire::from_bytes(&bytes) {
            Some(Wire::Beat { metrics, state, .. }) => {
                assert_eq!(state, ConnState::Reconnecting { attempt: 3, retry_at_ms: Some(4.5) });
                assert_eq!(
                    metrics.rtt_ms.recent().map(f64::to_bits).collect::<Vec<_>>(),
                    [f64::NAN.to_bits(), 12.5f64.to_bits()]
                );
                assert_eq!(metrics.tabs_fallback.as_deref(), Some("no locks"));
            }
            other => panic!("{other:?}"),
        }
        for cut in [0, 1, bytes.len() / 2] {
            assert_eq!(Wire::from_bytes(&bytes[..cut]), None, "cut at {cut}");
        }
        assert_eq!(Wire::from_bytes(&[200, 1, 2]), None);
    }

    #[test]
    fn retry_times_move_to_the_readers_clock() {
        let s = ConnState::Reconnecting { attempt: 2, retry_at_ms: Some(1_500.0) };
        assert_eq!(rebase(s, 1_000.0, 90_000.0), ConnState::Reconnecting { attempt: 2, retry_at_ms: Some(90_500.0) });
    }
}
