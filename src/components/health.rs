//! Connection health, readable at a glance: every value from the hook's
//! metrics (each with `data-metric`), the outbox by status, a sparkline of
//! heartbeat round trips and a strip of connection states.
//!
//! It must not slow the chat: while collapsed it renders nothing that
//! updates, and while open it refreshes on a one-second tick (metrics
//! themselves reach the signal at most four times a second).

use super::sparkline::{RttSparkline, StateStrip};
use crate::chat::Chat;
use crate::chat::log::Status;
use leptos::prelude::*;
use std::time::Duration;
use tether_ws::{Metrics, metrics::Summary, now_ms};

fn ms(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{v:.0} ms"))
}

fn summary(s: &Summary) -> String {
    format!("{} (p50 {}, p95 {})", ms(s.last), ms(s.p50), ms(s.p95))
}

fn bytes(n: u64) -> String {
    match n {
        n if n >= 10 << 20 => format!("{} MB", n >> 20),
        n if n >= 10 << 10 => format!("{} kB", n >> 10),
        n => format!("{n} B"),
    }
}

fn uptime(m: &Metrics, now: f64) -> String {
    let Some(since) = m.open_since_ms else { return "–".into() };
    let s = ((now - since) / 1000.0).max(0.0) as u64;
    if s >= 3600 { format!("{}h {:02}m", s / 3600, s / 60 % 60) } else { format!("{}m {:02}s", s / 60, s % 60) }
}

type Value = Box<dyn Fn(&Metrics, f64) -> String + Send + Sync>;

fn rows() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        ("state", "state", Box::new(|m, _| m.state.to_string())),
        ("transport", "transport", Box::new(|m, _| m.transport.name().to_owned())),
        ("uptime", "connected for", Box::new(uptime)),
        ("attempt", "attempt", Box::new(|m, _| m.attempt.to_string())),
        ("connects", "connects", Box::new(|m, _| m.connects.to_string())),
        ("reconnects", "reconnects", Box::new(|m, _| m.reconnects.to_string())),
        ("reconnect_ms", "time to reconnect", Box::new(|m, _| summary(&m.reconnect_ms))),
        ("rtt_ms", "round trip", Box::new(|m, _| summary(&m.rtt_ms))),
        ("frames_in", "frames in", Box::new(|m, _| m.frames_in.to_string())),
        ("frames_out", "frames out", Box::new(|m, _| m.frames_out.to_string())),
        ("bytes_in", "bytes in", Box::new(|m, _| bytes(m.bytes_in))),
        ("bytes_out", "bytes out", Box::new(|m, _| bytes(m.bytes_out))),
        ("queued", "queued frames", Box::new(|m, _| m.queued.to_string())),
        ("malformed_in", "unreadable frames", Box::new(|m, _| m.malformed_in.to_string())),
        ("heartbeat_timeouts", "heartbeat misses", Box::new(|m, _| m.heartbeat_timeouts.to_string())),
        ("role", "this tab", Box::new(|m, _| m.role.name().to_owned())),
        ("leader_changes", "leader changes", Box::new(|m, _| m.leader_changes.to_string())),
        ("tabs_epoch", "leadership term", Box::new(|m, _| m.tabs_epoch.to_string())),
        (
            "tabs_fallback",
            "own connection because",
            Box::new(|m, _| m.tabs_fallback.clone().unwrap_or_else(|| "–".into())),
        ),
    ]
}

#[component]
pub fn HealthPanel() -> impl IntoView {
    let chat = expect_context::<Chat>();
    let (metrics, logs) = (chat.metrics, chat.logs);
    let open = RwSignal::new(false);
    let now = RwSignal::new(now_ms());
    if let Ok(h) = set_interval_with_handle(
        move || {
            if open.get_untracked() {
                now.set(now_ms());
            }
        },
        Duration::from_secs(1),
    ) {
        on_cleanup(move || h.clear());
    }
    // Outbox counts: a pass over the logs once a second while open, never per message.
    let outbox = Memo::new(move |_| {
        now.track();
        let mut n = [0usize; 4];
        if open.get() {
            logs.with_untracked(|l| {
                for e in l.values().flat_map(|log| log.entries()).filter(|e| e.own) {
                    let i = match e.status {
                        Status::Queued => 0,
                        Status::Sent => 1,
                        Status::Acked => 2,
                        Status::Failed => 3,
                        Status::Delivered => continue,
                    };
                    n[i] += 1;
                }
            });
        }
        n
    });
    let values = rows()
        .into_iter()
        .map(|(name, label, value)| {
            let text = move || metrics.with(|m| value(m, now.get()));
            view! { <div class="metric" data-metric=name><dt>{label}</dt><dd>{text}</dd></div> }
        })
        .collect_view();
    let counts = ["queued", "sent", "acked", "failed"]
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let name = format!("outbox_{s}");
            view! { <div class="metric" data-metric=name><dt>{format!("outbox {s}")}</dt><dd>{move || outbox.get()[i]}</dd></div> }
        })
        .collect_view();
    view! {
        <details class="health" data-testid="health-panel" on:toggle=move |ev| {
            open.set(event_target::<web_sys::HtmlDetailsElement>(&ev).open());
            now.set(now_ms());
        }>
            <summary>"Connection health"</summary>
            <Show when=move || open.get()>
                <RttSparkline metrics />
                <StateStrip metrics now />
            </Show>
            <dl>{values}{counts}</dl>
        </details>
    }
}
