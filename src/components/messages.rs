//! The current room's messages, oldest first. Keyed by client id: a new
//! message appends one row, and a status change updates only its own row.
//! Scrolling to the top (or the button there) loads the page before, and
//! the view stays on the message the user was reading when it arrives.

use crate::chat::Chat;
use crate::chat::log::Status;
use leptos::prelude::*;

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
    let list = NodeRef::<leptos::html::Ul>::new();
    // The list's height when an older page was asked for by scrolling up.
    let anchor = StoredValue::new(None::<i32>);
    let on_scroll = move |ev: leptos::ev::Event| {
        let el = event_target::<web_sys::HtmlElement>(&ev);
        if el.scroll_top() <= 0 && anchor.get_value().is_none() && c1.load_older() {
            anchor.set_value(Some(el.scroll_height()));
            // About five seconds of frames for the page to arrive.
            keep_view(list, anchor, 300);
        }
    };
    view! {
        <Show when=move || has_older.get()>
            {
                let c = c2.clone();
                view! { <button class="older" data-testid="load-older" on:click=move |_| { c.load_older(); }>
                    "Load older messages"</button> }
            }
        </Show>
        <ul class="messages" data-testid="message-list" aria-live="polite" on:scroll=on_scroll node_ref=list>
            <For each=move || ids.get() key=|id| id.clone() let:id>
                <MessageRow id />
            </For>
        </ul>
    }
}

/// Rows went in above: scrolls `list` down by what it grew since `anchor`
/// was taken, on the first frame that shows growth, trying for at most
/// `frames` frames (then gives up and clears the anchor).
fn keep_view(list: NodeRef<leptos::html::Ul>, anchor: StoredValue<Option<i32>>, frames: u32) {
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

fn icon(s: Status) -> &'static str {
    match s {
        Status::Queued => "🕓",
        Status::Sent => "✓",
        Status::Acked => "✓✓",
        Status::Failed => "⚠",
        Status::Delivered => "",
    }
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
    view! {
        <li class="message" class:own=own data-testid="message" data-id=id data-author=first.author.clone()
            data-seq=move || entry.get().and_then(|e| e.seq).map(|s| s.to_string())
            data-status=move || status().name()>
            <span class="author">{first.author.clone()}</span>
            <span class="body" data-testid="message-body">{first.body.clone()}</span>
            <span class="status" title=move || entry.get().and_then(|e| e.error).unwrap_or_else(|| status().name().into())>
                {move || icon(status())}
            </span>
            <Show when=move || entry.with(|e| e.as_ref().is_some_and(|e| e.error.is_some()))>
                <span class="error" data-testid="message-error">
                    {move || entry.get().and_then(|e| e.error).unwrap_or_default()}
                </span>
            </Show>
            <Show when=move || status() == Status::Failed>
                {
                    let (chat, id) = (chat.clone(), retry_id.clone());
                    view! { <button class="retry" data-testid="message-retry" on:click=move |_| {
                        if let Err(e) = chat.retry(&id) { chat.notice.set(Some(e)) }
                    }>"Retry"</button> }
                }
            </Show>
        </li>
    }
    .into_any()
}
