//! The messages tabs exchange on the `BroadcastChannel`, as postcard bytes
//! (and as JSON text, which a person can read when debugging a channel).

use super::{ConnTag, TabId};
use crate::codec::Frame;
use crate::metrics::Metrics;
use crate::state::ConnState;
use serde::{Deserialize, Serialize};

/// The version of [`Wire`]'s byte encoding, part of the channel's and the
/// locks' names. postcard writes no names or tags a reader could check, so a
/// tab of another build could read a changed message as a different valid
/// one (a tab id as an epoch); with the version in the names, tabs of builds
/// that encode differently never meet and each build's tabs share among
/// themselves. Bump it whenever `Wire` or anything it carries changes shape:
/// the `golden_bytes` test fails until then.
pub const WIRE_VERSION: u32 = 1;

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

    /// From channel bytes; `None` for anything else, including a message
    /// with bytes left over (postcard's reader would ignore them).
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        match postcard::take_from_bytes(bytes) {
            Ok((w, [])) => Some(w),
            _ => None,
        }
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

    /// One message of each variant as bytes. When this fails, the encoding
    /// changed: bump [`WIRE_VERSION`], then update the bytes.
    #[test]
    fn golden_bytes() {
        let conn = ConnTag { leader: 1, epoch: 2, n: 3 };
        let all = [
            Wire::Hello { from: 9, epoch: 2 },
            Wire::Beat {
                from: 1,
                epoch: 2,
                open: Some(conn),
                state: ConnState::Open,
                at_ms: 0.5,
                metrics: Box::new(Metrics { state: crate::metrics::StateName("open"), ..Metrics::default() }),
            },
            Wire::Frame { from: 1, epoch: 2, conn, seq: 4, frame: Frame::Text("hi".into()) },
            Wire::Closed { from: 1, epoch: 2, code: 1000, reason: "bye".into(), clean: true },
            Wire::Took { from: 1, to: 9, upto: 5 },
            Wire::Handshake { from: 9, conn, frames: vec![Frame::Binary(vec![7])] },
            Wire::Send { from: 9, conn, seq: 6, frame: Frame::Text("x".into()) },
            Wire::Command { from: 9, cmd: Remote::Close },
            Wire::Bye { from: 1 },
        ];
        let hex: Vec<String> = all.iter().map(|w| w.to_bytes().iter().map(|b| format!("{b:02x}")).collect()).collect();
        assert_eq!(
            hex, GOLDEN,
            "the tabs' byte encoding changed: bump WIRE_VERSION ({WIRE_VERSION}), then these bytes"
        );
        for w in all {
            let mut bytes = w.to_bytes();
            assert_eq!(Wire::from_bytes(&bytes).as_ref(), Some(&w));
            bytes.push(0);
            assert_eq!(Wire::from_bytes(&bytes), None, "trailing bytes refused: {w:?}");
        }
    }

    const GOLDEN: [&str; 9] = [
        "000902",
        "0101020101020302000000000000e03f00046f70656e00000000000000000000000000000000000000000000000000000000000000000000",
        "0201020102030400026869",
        "030102e8070362796501",
        "04010905",
        "050901020301010107",
        "060901020306000178",
        "070901",
        "0801",
    ];

    #[test]
    fn retry_times_move_to_the_readers_clock() {
        let s = ConnState::Reconnecting { attempt: 2, retry_at_ms: Some(1_500.0) };
        assert_eq!(rebase(s, 1_000.0, 90_000.0), ConnState::Reconnecting { attempt: 2, retry_at_ms: Some(90_500.0) });
    }
}
