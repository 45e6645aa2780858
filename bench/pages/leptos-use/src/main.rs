//! The twin of ../tether-ws with leptos-use's `use_websocket`: the same
//! features (connect, send text, list what comes back, a state badge with
//! "reconnect now") and the same burst mode, for `make bench`.

// leptos-use 0.20 re-exports its micro crates and marks the re-exports
// deprecated; the umbrella crate is what its users depend on.
#![allow(deprecated)]

#[path = "../../common.rs"]
mod common;

use codee::string::FromToStringCodec;
use common::{call_harness, receive, target_and_url, window_of};
use leptos::prelude::*;
use leptos_use::{ConnectionReadyState, UseWebSocketOptions, use_websocket_with_options};

#[component]
fn App() -> impl IntoView {
    let (target, url) = target_and_url();
    let received = RwSignal::new(Vec::<String>::new());
    let ws = use_websocket_with_options::<String, String, FromToStringCodec, _, _>(
        // leptos-use borrows the URL for the page's lifetime.
        url.leak(),
        UseWebSocketOptions::default()
            .on_open(|_| call_harness("__benchOpen", 0))
            .on_message(move |text: &String| receive(received, target, text.clone()))
            .on_error(move |e| received.update(|r| r.push(format!("(error: {e})")))),
    );
    let draft = RwSignal::new(String::new());
    let send = ws.send.clone();
    let submit = move || {
        send(&draft.get_untracked());
        draft.set(String::new());
    };
    let reconnect = ws.open.clone();
    let state = ws.ready_state;
    view! {
        <p data-state=move || format!("{:?}", state.get())>
            {move || format!("{:?}", state.get())}
            <Show when=move || {
                !matches!(state.get(), ConnectionReadyState::Open | ConnectionReadyState::Connecting)
            }>
                {
                    let reconnect = reconnect.clone();
                    view! { <button on:click=move |_| reconnect()>"Reconnect now"</button> }
                }
            </Show>
        </p>
        <form on:submit=move |ev| {
            ev.prevent_default();
            submit();
        }>
            <input prop:value=move || draft.get() on:input=move |ev| draft.set(event_target_value(&ev)) />
            <button type="submit">"Send"</button>
        </form>
        <p>{move || received.with(Vec::len)} " received"</p>
        <ul>
            <For each=move || window_of(received) key=|(i, _)| *i let((_, line))>
                <li>{line}</li>
            </For>
        </ul>
    }
}

fn main() {
    leptos::mount::mount_to_body(App);
}
