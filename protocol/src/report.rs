//! The small metrics summary the app sends to `POST /client-metrics` every
//! minute and when the page is hidden (with `navigator.sendBeacon`, which
//! survives the page going away). The server folds the samples into its
//! Prometheus histograms; nothing in it identifies the user.

use serde::{Deserialize, Serialize};

/// Most samples of each kind one report may carry; the app keeps only the
/// newest this many, the server refuses reports with more.
pub const MAX_REPORT_SAMPLES: usize = 64;

/// Largest report body the server accepts, in bytes.
pub const MAX_REPORT_BYTES: usize = 8 * 1024;

/// One client's connection figures since its previous report.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
pub struct ClientReport {
    /// `websocket`, `sse` or `longpoll`.
    pub transport: String,
    /// Times from losing the connection to having it back, in ms.
    pub reconnect_ms: Vec<f64>,
    /// Heartbeat round trips, in ms.
    pub rtt_ms: Vec<f64>,
}

impl ClientReport {
    /// Whether the report is within limits and holds only finite,
    /// non-negative samples.
    pub fn is_valid(&self) -> bool {
        let ok = |v: &Vec<f64>| v.len() <= MAX_REPORT_SAMPLES && v.iter().all(|x| x.is_finite() && *x >= 0.0);
        self.transport.len() <= 16 && ok(&self.reconnect_ms) && ok(&self.rtt_ms)
    }
}
