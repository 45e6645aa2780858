//! Connection health in numbers, from the hook's metrics.

use crate::chat::Chat;
use leptos::prelude::*;

#[component]
pub fn HealthPanel() -> impl IntoView {
    let chat = expect_context::<Chat>();
    let m = chat.metrics;
    let row = move |name: &'static str, label: &'static str, value: Box<dyn Fn() -> String + Send + Sync>| {
        view! { <div class="metric" data-metric=name><dt>{label}</dt><dd>{value}</dd></div> }
    };
    view! {
        <details class="health" data-testid="health-panel">
            <summary>"Connection health"</summary>
            <dl>
                {row("state", "state", Box::new(move || chat.state.get().name().to_string()))}
                {row("rtt_ms", "round trip", Box::new(move || m.get().last_rtt_ms.map_or("–".into(), |r| format!("{r:.0} ms"))))}
                {row("opens", "connections", Box::new(move || m.get().opens.to_string()))}
                {row("reconnects", "reconnects", Box::new(move || m.get().reconnects.to_string()))}
                {row("queued", "queued", Box::new(move || m.get().queued.to_string()))}
                {row("frames_in", "frames in", Box::new(move || m.get().frames_in.to_string()))}
                {row("frames_out", "frames out", Box::new(move || m.get().frames_out.to_string()))}
                {row("malformed_in", "unreadable", Box::new(move || m.get().malformed_in.to_string()))}
                {row("heartbeat_timeouts", "dead links", Box::new(move || m.get().heartbeat_timeouts.to_string()))}
                {row("role", "this tab", Box::new(move || m.get().role.name().to_string()))}
                {row("leader_changes", "leader changes", Box::new(move || m.get().leader_changes.to_string()))}
                {row("tabs_epoch", "leadership term", Box::new(move || m.get().tabs_epoch.to_string()))}
                {row("tabs_fallback", "own connection because", Box::new(move || m.get().tabs_fallback.unwrap_or_else(|| "–".into())))}
            </dl>
        </details>
    }
}
