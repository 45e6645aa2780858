//! The smallest useful page: connect, send text, list what comes back, and a
//! badge with the connection state and a "reconnect now" button.
//!
//! Point it at any text WebSocket (an echo server is enough). How to build and
//! serve it is in the crate README ("Example"). The URL comes from `?url=`
//! and defaults to `/ws` on the page's host.

use leptos::prelude::*;
use tether_ws::{ConnState, Incoming, TextCodec, UseWebSocketOptions, use_websocket_with_options};

fn url_from_query() -> String {
    let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
    search
        .trim_start_matches('?')
        .split('&')
        .find_map(|kv| kv.strip_prefix("url="))
        .and_then(|v| js_sys::decode_uri_component(v).ok())
        .map(String::from)
        .unwrap_or_else(|| "/ws".into())
}

#[component]
fn App() -> impl IntoView {
    let received = RwSignal::new(Vec::<String>::new());
    let ws = use_websocket_with_options(
        url_from_query(),
        UseWebSocketOptions::with_codec(TextCodec).on_message(move |m: &Incoming<String>| {
            let line = match m {
                Incoming::Message(text) => text.clone(),
                Incoming::Undecodable { error, .. } => format!("(unreadable: {error})"),
            };
            received.update(|r| r.push(line));
        }),
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
        <ul>
            <For each=move || received.get().into_iter().enumerate() key=|(i, _)| *i let((_, line))>
                <li>{line}</li>
            </For>
        </ul>
        <p>{move || ws.error.get().map(|e| e.to_string())}</p>
    }
}

fn main() {
    leptos::mount::mount_to_body(App);
}
