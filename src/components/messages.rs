//! The current room's messages, oldest first. Keyed by client id: a new
//! message appends one row, and a status change updates only its own row.
//!
//! The list sticks to the bottom while the user is at the bottom; scrolled
//! up, new messages show a "N new messages" pill instead of moving the view.
//! Scrolling to the top (or the button there) loads the page before, and
//! the view stays on the message the user was reading when it arrives.

use crate::chat::Chat;
use crate::chat::log::Status;
use leptos::html::Ul;
use leptos::prelude::*;
use wasm_bindgen::JsValue;

/// Within this many pixels of the end counts as "at the bottom".
const BOTTOM_SLACK_PX: i32 = 24;

fn at_bottom(el: &web_sys::Element) -> bool {
    el.scroll_top() + el.client_height() >= el.scroll_height() - BOTTOM_SLACK_PX
}

#[component]
pub fn MessageList() -> impl IntoView {
    let chat = expect_context::<Chat>();
    let (logs, room) = (chat.logs, chat.room);
    let ids = Memo::new(move |_| {
        let r = room.get();
        logs.with(|l| {
            l.get(&r).map(|log| log.entries().iter().map(|e| e.id.clone()).collect::<Vec<_>>()).unwrap_or_default()
        })
    });
    let has_older = Memo::new(move |_| {
        let r = room.get();
        logs.with(|l| l.get(&r).is_some_and(|log| log.has_older()))
    });
    let (c1, c2) = (chat.clone(), chat.clone());
    let list = NodeRef::<Ul>::new();
    // The list's height when an older page was asked for by scrolling up.
    let anchor = StoredValue::new(None::<i32>);
    let stick = RwSignal::new(true);
    let unseen = RwSignal::new(0usize);
    let to_bottom = move || {
        if let Some(el) = list.get_untracked() {
            el.set_scroll_top(el.scroll_height());
        }
        unseen.set(0);
        stick.set(true);
    };
    // After rows for new messages are in: follow them, or count them. Only
    // rows after the previous last one are new; an older page goes above.
    Effect::new(move |prev: Option<(String, Option<String>)>| {
        let r = room.get();
        let last = ids.with(|ids| ids.last().cloned());
        match prev {
            Some((pr, plast)) if pr == r => {
                if last != plast {
                    if stick.get_untracked() {
                        to_bottom();
                    } else {
                        let fresh = ids.with(|ids| match plast.and_then(|p| ids.iter().rposition(|i| *i == p)) {
                            Some(pos) => ids.len() - pos - 1,
                            None => ids.len(),
                        });
                        unseen.update(|u| *u += fresh);
                    }
                }
            }
            _ => to_bottom(), // first rows, or another room
        }
        (r, last)
    });
    let on_scroll = move |_| {
        let Some(el) = list.get_untracked() else { return };
        let bottom = at_bottom(&el);
        stick.set(bottom);
        if bottom {
            unseen.set(0);
        }
        if el.scroll_top() <= 0 && anchor.get_value().is_none() && c1.load_older() {
            anchor.set_value(Some(el.scroll_height()));
            // About five seconds of frames for the page to arrive.
            keep_view(list, anchor, 300);
        }
    };
    view! {
        <div class="messages-wrap">
            <Show when=move || has_older.get()>
                {
                    let c = c2.clone();
                    view! { <button class="older" data-testid="load-older" on:click=move |_| { c.load_older(); }>
                        "Load older messages"</button> }
                }
            </Show>
            <ul class="messages" data-testid="message-list" node_ref=list on:scroll=on_scroll
                aria-live="polite" aria-relevant="additions" aria-label="Messages" tabindex="0">
                <For each=move || ids.get() key=|id| id.clone() let:id>
                    <MessageRow id />
                </For>
            </ul>
            <Show when=move || { unseen.get() > 0 }>
                <button class="new-pill" data-testid="new-messages" on:click=move |_| to_bottom()>
                    {move || match unseen.get() { 1 => "1 new message".to_owned(), n => format!("{n} new messages") }}
                </button>
            </Show>
        </div>
    }
}

/// Rows went in above: scrolls `list` down by what it grew since `anchor`
/// was taken, on the first frame that shows growth, trying for at most
/// `frames` frames (then gives up and clears the anchor).
fn keep_view(list: NodeRef<Ul>, anchor: StoredValue<Option<i32>>, frames: u32) {
    request_animation_frame(move || {
        let (Some(el), Some(old)) = (list.get_untracked(), anchor.get_value()) else { return };
        let grown = el.scroll_height() - old;
        if grown > 0 {
            anchor.set_value(None);
            el.set_scroll_top(el.scroll_top() + grown);
        } else if frames > 1 {
            keep_view(list, anchor, frames - 1);
        } else {
            anchor.set_value(None);
        }
    });
}

/// The icon and the words a screen reader says instead.
fn icon(s: Status) -> (&'static str, &'static str) {
    match s {
        Status::Queued => ("🕓", "waiting to send"),
        Status::Sent => ("✓", "sent"),
        Status::Acked => ("✓✓", "delivered"),
        Status::Failed => ("⚠", "not delivered"),
        Status::Delivered => ("", ""),
    }
}

/// `ms` as a time of day in the user's locale ("14:05", "2:05 PM").
fn local_time(ms: f64) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(ms));
    let opts = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&opts, &"hour".into(), &"numeric".into());
    let _ = js_sys::Reflect::set(&opts, &"minute".into(), &"2-digit".into());
    let f = js_sys::Reflect::get(&date, &"toLocaleTimeString".into()).ok();
    f.and_then(|f| js_sys::Function::from(f).call2(&date, &JsValue::UNDEFINED, &opts).ok())
        .and_then(|s| s.as_string())
        .unwrap_or_default()
}

#[component]
fn MessageRow(id: String) -> impl IntoView {
    let chat = expect_context::<Chat>();
    let (logs, room) = (chat.logs, chat.room.get_untracked());
    let key = id.clone();
    let entry = Memo::new(move |_| logs.with(|l| l.get(&room).and_then(|log| log.get(&key).cloned())));
    let Some(first) = entry.get_untracked() else { return ().into_any() };
    let status = move || entry.get().map_or(Status::Delivered, |e| e.status);
    let own = first.own;
    let retry_id = id.clone();
    let when = (first.created_ms > 0.0).then(|| {
        let iso = js_sys::Date::new(&JsValue::from_f64(first.created_ms)).to_iso_string().as_string();
        view! { <time class="when" datetime=iso>{local_time(first.created_ms)}</time> }
    });
    view! {
        <li class="message" class:own=own data-testid="message" data-id=id data-author=first.author.clone()
            data-seq=move || entry.get().and_then(|e| e.seq).map(|s| s.to_string())
            data-status=move || status().name()>
            <span class="author">{first.author.clone()}</span>
            <span class="body" data-testid="message-body">{first.body.clone()}</span>
            <span class="meta">
                {when}
                <span class="status" title=move || entry.get().and_then(|e| e.error).unwrap_or_else(|| icon(status()).1.into())>
                    <span aria-hidden="true">{move || icon(status()).0}</span>
                    <span class="sr-only">{move || icon(status()).1}</span>
                </span>
            </span>
            <Show when=move || entry.with(|e| e.as_ref().is_some_and(|e| e.error.is_some()))>
                <span class="error" data-testid="message-error">
                    {move || entry.get().and_then(|e| e.error).unwrap_or_default()}
                </span>
            </Show>
            <Show when=move || status() == Status::Failed>
                {
                    let (chat, id) = (chat.clone(), retry_id.clone());
                    view! { <button class="retry" data-testid="message-retry" aria-label="Retry sending this message" on:click=move |_| {
                        if let Err(e) = chat.retry(&id) { chat.notice.set(Some(e)) }
                    }>"Retry"</button> }
                }
            </Show>
        </li>
    }
    .into_any()
}
