//! The root: pick the nickname and room (URL, saved nickname, or a prompt),
//! then show the chat.

use super::{
    badge::ConnectionBadge, composer::Composer, health::HealthPanel, members::MemberList, messages::MessageList,
    nickname::NickPrompt, rooms::RoomList,
};
use crate::chat::persist::storage;
use crate::chat::server_url;
use crate::chat::store::DEFAULT_OUTBOX_DEADLINE_MS;
use crate::chat::{default_ws_url, track_visibility, use_chat};
use leptos::prelude::*;
use tether_protocol::{validate_nick, validate_room};
use tether_ws::ConnState;

const NICK_KEY: &str = "tether.nick";

fn query(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search).ok()?.get(name)
}

/// The `tether-server` meta tag's content, if the page has one.
fn server_meta() -> Option<String> {
    let doc = web_sys::window()?.document()?;
    let selector = format!("meta[name=\"{}\"]", server_url::META_NAME);
    doc.query_selector(&selector).ok()??.get_attribute("content")
}

pub fn saved_nick() -> Option<String> {
    storage()?.get_item(NICK_KEY).ok().flatten().filter(|n| validate_nick(n).is_ok())
}

pub fn save_nick(nick: &str) {
    if let Some(s) = storage() {
        let _ = s.set_item(NICK_KEY, nick);
    }
}

/// An element id unique on the page, so several chats can share one page
/// (the browser tests mount many) without `aria-controls` pointing astray.
pub fn unique_id(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

#[component]
pub fn App() -> impl IntoView {
    let from_url = query("name").filter(|n| validate_nick(n).is_ok());
    let nick = RwSignal::new(from_url.or_else(saved_nick));
    let room = query("room").filter(|r| validate_room(r).is_ok()).unwrap_or_else(|| "general".into());
    // One connection for all tabs unless `?tabs=off`.
    let share_across_tabs = query("tabs").as_deref() != Some("off");
    let url = match server_url::ws_url(server_meta().as_deref()) {
        Ok(url) => url,
        Err(e) => return view! { <ConfigError error=e.to_string() /> }.into_any(),
    };
    view! {
        <Show
            when=move || nick.with(Option::is_some)
            fallback=move || view! { <NickPrompt on_done=move |n: String| { save_nick(&n); nick.set(Some(n)) } /> }
        >
            <ChatView nick=nick.get_untracked().unwrap_or_default() room=room.clone() url=url.clone() share_across_tabs />
        </Show>
    }
    .into_any()
}

/// The page is misconfigured (its `tether-server` meta tag): say so instead
/// of a chat that could never connect.
#[component]
fn ConfigError(error: String) -> impl IntoView {
    view! {
        <main class="config-error">
            <h1>"Tether cannot start"</h1>
            <p role="alert" data-testid="config-error">{error}</p>
        </main>
    }
}

/// The chat for `nick` in `room`. `url` defaults to this origin's `/ws`;
/// `outbox_deadline_ms` to one day; `share_across_tabs` (one connection for
/// every tab of the browser) to on.
#[component]
pub fn ChatView(
    nick: String,
    room: String,
    #[prop(optional)] url: Option<String>,
    #[prop(optional)] outbox_deadline_ms: Option<f64>,
    #[prop(optional)] share_across_tabs: Option<bool>,
) -> impl IntoView {
    let url = Signal::stored(url.unwrap_or_else(default_ws_url));
    let deadline = outbox_deadline_ms.unwrap_or(DEFAULT_OUTBOX_DEADLINE_MS);
    let chat = use_chat(url, nick, room, deadline, share_across_tabs.unwrap_or(true));
    provide_context(chat.clone());
    track_visibility(&chat);
    crate::chat::report::report_metrics(chat.metrics, url);
    let notice = chat.notice;
    tell_while_unreachable(chat.state, url, notice);
    // Connection-level problems (bad URL, unreadable frames) from the hook.
    let ws_error = chat.ws_error;
    Effect::new(move |_| {
        if let Some(e) = ws_error.try_get().flatten() {
            notice.set(Some(e.to_string()));
        }
    });
    // On narrow screens the room list and health panel live in a drawer.
    let drawer = RwSignal::new(false);
    let sidebar_id = unique_id("sidebar");
    let room = chat.room;
    Effect::new(move |prev: Option<String>| {
        let Some(r) = room.try_get() else { return prev.unwrap_or_default() };
        if prev.is_some_and(|p| p != r) {
            drawer.set(false); // a room was picked: show it
        }
        r
    });
    view! {
        <div class="layout" class:drawer-open=move || drawer.get()>
            <header class="topbar">
                <button class="nav-toggle" data-testid="nav-toggle" aria-controls=sidebar_id.clone()
                    aria-expanded=move || drawer.get().to_string()
                    aria-label=move || if drawer.get() { "Close rooms and health" } else { "Open rooms and health" }
                    on:click=move |_| drawer.update(|d| *d = !*d)>
                    "☰"
                </button>
                <h1>"Tether"</h1>
                <span class="who">{chat.nick.clone()}</span>
                <ConnectionBadge />
            </header>
            <aside class="sidebar" id=sidebar_id aria-label="Rooms and connection health">
                <RoomList />
                <MemberList />
                <HealthPanel />
            </aside>
            <div class="scrim" aria-hidden="true" on:click=move |_| drawer.set(false)></div>
            <main class="chat">
                <h2 class="room-title">"#" {move || chat.room.get()}</h2>
                <MessageList />
                <Show when=move || notice.with(Option::is_some)>
                    <p class="notice" role="alert" on:click=move |_| notice.set(None)>
                        {move || notice.get().unwrap_or_default()}
                    </p>
                </Show>
                <Composer />
            </main>
        </div>
    }
}

/// Until the first connection opens, a failed attempt puts a notice on the
/// page (server down, or this page's origin refused): the badge alone would
/// just count attempts. Cleared once connected.
fn tell_while_unreachable(state: Signal<ConnState>, url: Signal<String>, notice: RwSignal<Option<String>>) {
    let shown = StoredValue::new(None::<String>);
    let ever_open = StoredValue::new(false);
    // `try_get`: an effect already notified may run once more after unmount.
    Effect::new(move |_| match state.try_get().filter(|_| !shown.is_disposed()) {
        None => {}
        Some(ConnState::Open) => {
            ever_open.set_value(true);
            if let Some(msg) = shown.get_value() {
                notice.update(|n| {
                    if n.as_ref() == Some(&msg) {
                        *n = None;
                    }
                });
                shown.set_value(None);
            }
        }
        Some(ConnState::Reconnecting { .. } | ConnState::Failed { .. })
            if !ever_open.get_value() && shown.with_value(Option::is_none) =>
        {
            let Some(loc) = web_sys::window().map(|w| w.location()) else { return };
            let (Ok(href), Ok(origin)) = (loc.href(), loc.origin()) else { return };
            let ws = tether_ws::url::resolve_url(&url.get_untracked(), &href).unwrap_or_else(|_| url.get_untracked());
            let msg = server_url::unreachable_message(&ws, &origin);
            notice.set(Some(msg.clone()));
            shown.set_value(Some(msg));
        }
        _ => {}
    });
}
