//! The one table `make bench` prints, and the same rows as JSON.

use serde::Serialize;

#[derive(Serialize, Clone, Debug)]
pub struct Row {
    pub section: &'static str,
    pub what: String,
    pub unit: &'static str,
    pub ours: Option<f64>,
    pub peer_name: String,
    pub peer: Option<f64>,
    /// ours / peer.
    pub ratio: Option<f64>,
    /// Which way is better: "higher" or "lower".
    pub better: &'static str,
}

impl Row {
    pub fn new(
        section: &'static str,
        what: impl Into<String>,
        unit: &'static str,
        better: &'static str,
        ours: Option<f64>,
        peer_name: impl Into<String>,
        peer: Option<f64>,
    ) -> Self {
        let ratio = match (ours, peer) {
            (Some(o), Some(p)) if p != 0.0 && o.is_finite() && p.is_finite() => Some(o / p),
            _ => None,
        };
        Self { section, what: what.into(), unit, ours, peer_name: peer_name.into(), peer, ratio, better }
    }
}

fn num(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(v) if !v.is_finite() => "-".into(),
        Some(v) if v.abs() >= 100.0 => format!("{v:.0}"),
        Some(v) if v.abs() >= 10.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.2}"),
    }
}

/// A Markdown table (so the README can take it as is).
pub fn render(rows: &[Row]) -> String {
    let mut out = String::new();
    out.push_str("| section | measure | unit | ours | peer | peer value | ours/peer | better |\n");
    out.push_str("|---|---|---|---:|---|---:|---:|---|\n");
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.section,
            r.what,
            r.unit,
            num(r.ours),
            r.peer_name,
            num(r.peer),
            r.ratio.map_or("-".into(), |x| format!("{x:.2}×")),
            r.better
        ));
    }
    out
}
