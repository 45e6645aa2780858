//! The connection state machine.
//!
//! Every state change of the hook goes through [`check_transition`], so an
//! impossible move (say, `Closed -> Open` from a late event of a socket we
//! already gave up on) is caught, counted and logged instead of silently
//! putting the UI into a state that no longer matches the socket. Stuck states
//! in other clients come from exactly such unvalidated writes.

use std::fmt;

/// Where the connection is. `retry_at_ms` is on the driver's clock
/// (milliseconds, `performance.now()` in the browser) so the UI can count down.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum ConnState {
    /// Created, not asked to connect yet.
    Idle,
    /// A socket exists and its handshake is under way.
    Connecting,
    /// Connected: frames flow.
    Open,
    /// Down and waiting to retry. `retry_at_ms` is `None` while retries are
    /// paused (the machine is offline).
    Reconnecting {
        /// Which attempt in the current streak is next (1-based).
        attempt: u32,
        /// When it will start, on the page's monotonic clock (ms).
        retry_at_ms: Option<f64>,
    },
    /// We asked the socket to close and wait for it to finish.
    Closing,
    /// Closed and staying closed until `open()`.
    Closed {
        /// The close code.
        code: u16,
        /// The close reason.
        reason: String,
    },
    /// Gave up: a fatal close code, too many attempts, or a bad URL.
    Failed {
        /// Why, in words for the user.
        reason: String,
    },
}

impl ConnState {
    /// A stable lowercase name (`idle`, `connecting`, `open`, `reconnecting`,
    /// `closing`, `closed`, `failed`), for attributes and logs.
    pub fn name(&self) -> &'static str {
        match self {
            ConnState::Idle => "idle",
            ConnState::Connecting => "connecting",
            ConnState::Open => "open",
            ConnState::Reconnecting { .. } => "reconnecting",
            ConnState::Closing => "closing",
            ConnState::Closed { .. } => "closed",
            ConnState::Failed { .. } => "failed",
        }
    }

    /// Whether frames can be sent now.
    pub fn is_open(&self) -> bool {
        matches!(self, ConnState::Open)
    }
}

impl fmt::Display for ConnState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A move the state machine refuses.
#[derive(thiserror::Error, Debug, Clone, PartialEq)]
#[error("invalid connection state transition {from} -> {to}")]
pub struct InvalidTransition {
    /// The state it was in.
    pub from: &'static str,
    /// The state it was asked to move to.
    pub to: &'static str,
}

/// Whether `from -> to` is a legal move. Same-kind moves are legal only where
/// they carry new information (a new attempt or retry time while reconnecting,
/// a fresh socket while connecting after a URL change).
pub fn check_transition(from: &ConnState, to: &ConnState) -> Result<(), InvalidTransition> {
    use ConnState::*;
    let ok = match (from, to) {
        (Idle, Connecting | Closed { .. } | Failed { .. }) => true,
        (Connecting, Connecting | Open | Reconnecting { .. } | Closing | Closed { .. } | Failed { .. }) => true,
        (Open, Connecting | Reconnecting { .. } | Closing | Closed { .. } | Failed { .. }) => true,
        (Reconnecting { .. }, Connecting | Closed { .. } | Failed { .. }) => true,
        (Reconnecting { attempt: a, retry_at_ms: r }, Reconnecting { attempt: b, retry_at_ms: s }) => a != b || r != s,
        (Closing, Closed { .. } | Connecting | Failed { .. }) => true,
        (Closed { .. }, Connecting | Failed { .. }) => true,
        (Failed { .. }, Connecting | Closed { .. }) => true,
        _ => false,
    };
    if ok { Ok(()) } else { Err(InvalidTransition { from: from.name(), to: to.name() }) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConnState::*;

    fn all() -> Vec<ConnState> {
        vec![
            Idle,
            Connecting,
            Open,
            Reconnecting { attempt: 1, retry_at_ms: Some(10.0) },
            Closing,
            Closed { code: 1000, reason: String::new() },
            Failed { reason: "x".into() },
        ]
    }

    /// The full table, written out by hand so a change to the rules has to
    /// change this test too. Rows: from; columns: to, in the order of `all()`.
    #[test]
    fn every_transition_is_as_specified() {
        let table: [[bool; 7]; 7] = [
            //          Idle   Conn   Open   Recon  Closing Closed Failed
            /* Idle */
            [false, true, false, false, false, true, true],
            /* Conn */ [false, true, true, true, true, true, true],
            /* Open */ [false, true, false, true, true, true, true],
            /* Recon*/ [false, true, false, false, false, true, true],
            /* Closg*/ [false, true, false, false, false, true, true],
            /* Closd*/ [false, true, false, false, false, false, true],
            /* Faild*/ [false, true, false, false, false, true, false],
        ];
        let states = all();
        for (i, from) in states.iter().enumerate() {
            for (j, to) in states.iter().enumerate() {
                let got = check_transition(from, to).is_ok();
                assert_eq!(got, table[i][j], "{from:?} -> {to:?}");
            }
        }
    }

    #[test]
    fn reconnecting_to_reconnecting_needs_new_information() {
        let a = Reconnecting { attempt: 1, retry_at_ms: Some(5.0) };
        assert!(check_transition(&a, &Reconnecting { attempt: 2, retry_at_ms: Some(9.0) }).is_ok());
        assert!(check_transition(&a, &Reconnecting { attempt: 1, retry_at_ms: None }).is_ok(), "pause");
        let err = check_transition(&a, &a.clone()).unwrap_err();
        assert_eq!(err, InvalidTransition { from: "reconnecting", to: "reconnecting" });
    }

    #[test]
    fn names_match_the_contract() {
        let names: Vec<_> = all().iter().map(ConnState::name).collect();
        assert_eq!(names, ["idle", "connecting", "open", "reconnecting", "closing", "closed", "failed"]);
    }
}
