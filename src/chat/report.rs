//! Sends the connection's figures to the server (`POST /client-metrics`)
//! every minute and when the page is hidden, so operators see what users
//! experience (reconnect times, round trips) in `/metrics`.
//!
//! `navigator.sendBeacon` is used because it is the one request a browser
//! still delivers while the page is going away. Only samples new since the
//! previous report are sent, at most [`MAX_REPORT_SAMPLES`] of each.

use leptos::prelude::*;
use std::time::Duration;
use tether_protocol::{ClientReport, report::MAX_REPORT_SAMPLES};
use tether_ws::Metrics;

/// How often a report goes out while the page is visible.
pub const REPORT_EVERY: Duration = Duration::from_secs(60);

/// Samples of `total` ever taken, of which `recent` are the newest: those
/// taken since `sent` ever-count, newest last.
fn new_samples(recent: impl Iterator<Item = f64>, total: u64, sent: u64) -> Vec<f64> {
    let recent: Vec<f64> = recent.collect();
    let fresh = (total.saturating_sub(sent) as usize).min(recent.len()).min(MAX_REPORT_SAMPLES);
    recent[recent.len() - fresh..].to_vec()
}

/// The report of what changed since the counts in `sent`, and the new counts.
pub fn build(m: &Metrics, sent: (u64, u64)) -> (ClientReport, (u64, u64)) {
    let report = ClientReport {
        transport: m.transport.name().to_owned(),
        reconnect_ms: new_samples(m.reconnect_ms.recent(), m.reconnect_ms.count, sent.0),
        rtt_ms: new_samples(m.rtt_ms.recent(), m.rtt_ms.count, sent.1),
    };
    (report, (m.reconnect_ms.count, m.rtt_ms.count))
}

/// The report endpoint for a WebSocket URL: beside it, `…/client-metrics`.
pub fn endpoint(ws_url: &str) -> Option<String> {
    let page = web_sys::window()?.location().href().ok()?;
    let abs = tether_ws::url::resolve_url(ws_url, &page).ok()?;
    super::server_url::metrics_endpoint(&abs)
}

fn beacon(url: &str, report: &ClientReport) {
    let Ok(body) = serde_json::to_string(report) else { return };
    if let Some(nav) = web_sys::window().map(|w| w.navigator()) {
        let _ = nav.send_beacon_with_opt_str(url, Some(&body));
    }
}

/// Report `metrics` for the connection to `ws_url` while mounted.
pub fn report_metrics(metrics: Signal<Metrics>, ws_url: Signal<String>) {
    let sent = StoredValue::new((0u64, 0u64));
    let send = move || {
        let Some(url) = endpoint(&ws_url.get_untracked()) else { return };
        let (report, counts) = metrics.with_untracked(|m| build(m, sent.get_value()));
        if report.reconnect_ms.is_empty() && report.rtt_ms.is_empty() {
            return;
        }
        sent.set_value(counts);
        beacon(&url, &report);
    };
    if let Ok(h) = set_interval_with_handle(send, REPORT_EVERY) {
        on_cleanup(move || h.clear());
    }
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
    let target = doc.clone();
    let listener = gloo_events::EventListener::new(&doc, "visibilitychange", move |_| {
        if target.hidden() {
            send();
        }
    });
    let listener = send_wrapper::SendWrapper::new(listener);
    on_cleanup(move || drop(listener));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_carries_only_samples_new_since_the_last_one() {
        let mut m = Metrics::default();
        for v in [10.0, 20.0, 30.0] {
            m.rtt_ms.add(v);
        }
        m.reconnect_ms.add(500.0);
        let (r, sent) = build(&m, (0, 0));
        assert_eq!(
            (r.rtt_ms, r.reconnect_ms, r.transport.as_str()),
            (vec![10.0, 20.0, 30.0], vec![500.0], "websocket")
        );
        m.rtt_ms.add(40.0);
        let (r, sent) = build(&m, sent);
        assert_eq!((r.rtt_ms, r.reconnect_ms), (vec![40.0], vec![]));
        for i in 0..200 {
            m.rtt_ms.add(i as f64);
        }
        let (r, _) = build(&m, sent);
        assert_eq!(r.rtt_ms.len(), MAX_REPORT_SAMPLES, "bounded even after a long gap");
        assert_eq!(r.rtt_ms.last(), Some(&199.0));
        assert!(r.is_valid());
    }
}
