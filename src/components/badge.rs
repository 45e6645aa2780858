//! The connection badge: state, attempt, a live countdown to the next retry,
//! the transport when it is a fallback (`data-transport` always), and the
//! "reconnect now" button whenever it is not connected.

use crate::chat::Chat;
use leptos::prelude::*;
use std::time::Duration;
use tether_ws::{ConnState, Transport, now_ms};

/// The transport in words, when it is not a WebSocket.
fn fallback_words(t: Transport) -> Option<&'static str> {
    match t {
        Transport::WebSocket => None,
        Transport::Sse => Some("SSE"),
        Transport::LongPoll => Some("long-polling"),
    }
}

fn describe_with(state: &ConnState, transport: Transport, now: f64) -> String {
    let text = describe(state, now);
    match fallback_words(transport) {
        Some(words) if state.is_open() => format!("{text} (fallback: {words})"),
        _ => text,
    }
}

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
    let transport = chat.transport;
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
    // Every state the user did not choose that is not a working (or
    // starting) connection offers a way back. The chat never closes on its
    // own, so `closed` is never the user's choice here.
    let down = move || !matches!(state.get(), ConnState::Open | ConnState::Connecting | ConnState::Closing);
    view! {
        <div class="badge" data-testid="connection-status" data-state=move || state.get().name()
            data-transport=move || transport.get().name()>
            <span class="dot"></span>
            <span class="label">{move || describe_with(&state.get(), transport.get(), now.get())}</span>
            <Show when=down>
                {
                    let reconnect = reconnect.clone();
                    view! { <button data-testid="reconnect-now" on:click=move |_| reconnect()>"Reconnect now"</button> }
                }
            </Show>
        </div>
    }
}
