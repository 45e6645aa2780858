//! The connection badge: state, attempt, a live countdown to the next retry,
//! and the "reconnect now" button while down.

use crate::chat::Chat;
use crate::ws::{ConnState, now_ms};
use leptos::prelude::*;
use std::time::Duration;

fn describe(state: &ConnState, now: f64) -> String {
    match state {
        ConnState::Idle => "Not connected".into(),
        ConnState::Connecting => "Connecting…".into(),
        ConnState::Open => "Connected".into(),
        ConnState::Reconnecting { attempt, retry_at_ms: Some(at) } => {
            let secs = ((at - now) / 1000.0).max(0.0).ceil();
            format!("Reconnecting (attempt {attempt}) in {secs} s")
        }
        ConnState::Reconnecting { attempt, retry_at_ms: None } => {
            format!("Offline, paused (attempt {attempt} waits for network or focus)")
        }
        ConnState::Closing => "Closing…".into(),
        ConnState::Closed { code, .. } => format!("Closed ({code})"),
        ConnState::Failed { reason } => format!("Failed: {reason}"),
    }
}

#[component]
pub fn ConnectionBadge() -> impl IntoView {
    let chat = expect_context::<Chat>();
    let state = chat.state;
    let now = RwSignal::new(now_ms());
    // Tick only while a countdown is visible.
    let tick = set_interval_with_handle(
        move || {
            if matches!(state.get_untracked(), ConnState::Reconnecting { .. }) {
                now.set(now_ms());
            }
        },
        Duration::from_millis(250),
    );
    if let Ok(handle) = tick {
        on_cleanup(move || handle.clear());
    }
    let reconnect = chat.reconnect_now.clone();
    let down = move || matches!(state.get(), ConnState::Reconnecting { .. } | ConnState::Failed { .. });
    view! {
        <div class="badge" data-testid="connection-status" data-state=move || state.get().name()>
            <span class="dot"></span>
            <span class="label">{move || describe(&state.get(), now.get())}</span>
            <Show when=down>
                {
                    let reconnect = reconnect.clone();
                    view! { <button data-testid="reconnect-now" on:click=move |_| reconnect()>"Reconnect now"</button> }
                }
            </Show>
        </div>
    }
}
