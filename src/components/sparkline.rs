//! Small SVG charts for the health panel: heartbeat round trips over the
//! recent samples, and connection states over the last minutes.

use leptos::prelude::*;
use tether_ws::Metrics;

const W: f64 = 200.0;
const H: f64 = 36.0;
/// How far back the state strip reaches.
const STRIP_MS: f64 = 5.0 * 60.0 * 1000.0;

fn points(samples: &[f64]) -> String {
    let max = samples.iter().copied().fold(1.0, f64::max);
    let step = if samples.len() > 1 { W / (samples.len() - 1) as f64 } else { 0.0 };
    samples
        .iter()
        .enumerate()
        .map(|(i, v)| format!("{:.1},{:.1}", i as f64 * step, H - 2.0 - (v / max) * (H - 4.0)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Round trips of the last heartbeats, newest on the right.
#[component]
pub fn RttSparkline(metrics: Signal<Metrics>) -> impl IntoView {
    let samples = move || metrics.with(|m| m.rtt_ms.recent().collect::<Vec<_>>());
    let label = move || {
        metrics.with(|m| match (m.rtt_ms.p50, m.rtt_ms.p95) {
            (Some(a), Some(b)) => format!(
                "Round trip over the last {} heartbeats: median {a:.0} ms, p95 {b:.0} ms",
                m.rtt_ms.recent().count()
            ),
            _ => "No round trip measured yet".to_owned(),
        })
    };
    view! {
        <svg class="sparkline" data-metric="rtt_sparkline" viewBox=format!("0 0 {W} {H}") role="img" aria-label=label>
            <polyline fill="none" stroke="currentColor" stroke-width="1.5" points=move || points(&samples()) />
        </svg>
    }
}

/// Connection states over the last minutes, one coloured band per state.
#[component]
pub fn StateStrip(metrics: Signal<Metrics>, now: RwSignal<f64>) -> impl IntoView {
    let bands = move || {
        let end = now.get();
        let start = end - STRIP_MS;
        metrics.with(|m| {
            let h = &m.history;
            (0..h.len())
                .filter_map(|i| {
                    let from = h[i].at_ms.max(start);
                    let to = h.get(i + 1).map_or(end, |n| n.at_ms).min(end);
                    (to > from).then(|| {
                        let x = (from - start) / STRIP_MS * W;
                        let w = ((to - from) / STRIP_MS * W).max(0.5);
                        (x, w, h[i].state.as_str())
                    })
                })
                .collect::<Vec<_>>()
        })
    };
    view! {
        <svg class="state-strip" data-metric="state_strip" viewBox=format!("0 0 {W} 8") role="img"
            aria-label="Connection states over the last five minutes">
            {move || bands().into_iter().map(|(x, w, state)| view! {
                <rect x=format!("{x:.1}") width=format!("{w:.1}") y="0" height="8" class=format!("st-{state}")>
                    <title>{state}</title>
                </rect>
            }).collect_view()}
        </svg>
    }
}
