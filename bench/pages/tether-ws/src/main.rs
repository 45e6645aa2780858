//! The hook crate's minimal example (connect, send text, list what comes
//! back, a state badge with "reconnect now") with a bounded list, plus a
//! burst mode (`?n=N`) for `make bench`. Its twin, ../leptos-use, does the
//! same with leptos-use's `use_websocket`.

#[path = "../../common.rs"]
mod common;

use common::{call_harness, receive, target_and_url, window_of};
use leptos::prelude::*;
use tether_ws::{ConnState, Incoming, TextCodec, UseWebSocketOptions, use_websocket_with_options};

#[component]
fn App() -> impl IntoView {
    let (target, url) = target_and_url();
    let received = RwSignal::new(Vec::<String>::new());
    let ws = use_websocket_with_options(
        url,
        UseWebSocketOptions::with_codec(TextCodec).on_open(|| call_harness("__benchOpen", 0)).on_message(
            move |m: &Incoming<String>| {
                let line = match m {
                    Incoming::Message(text) => text.clone(),
                    Incoming::Undecodable { error, .. } => format!("(unreadable: {error})"),
                };
                receive(received, target, line);
            },
        ),
    );
    let draft = RwSignal::new(String::new());
    let send = ws.send.clone();
    let submit = move || {
        if let Err(e) = send(&draft.get_untracked()) {
            received.update(|r| r.push(format!("(not sent: {e})")));
        }
        draft.set(String::new());
    };
    let reconnect = ws.reconnect_now.clone();
    let state = ws.state;
    view! {
        <p data-state=move || state.get().name()>
            {move || state.get().to_string()}
            <Show when=move || !matches!(state.get(), ConnState::Open | ConnState::Connecting)>
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
        <p>{move || ws.error.get().map(|e| e.to_string())}</p>
    }
}

fn main() {
    leptos::mount::mount_to_body(App);
}
