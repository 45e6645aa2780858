//! The current room's messages, oldest first. Keyed by client id: a new
//! message appends one row, and a status change updates only its own row.
//! Scrolling to the top (or the button there) loads the page before.

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
    let on_scroll = move |ev: leptos::ev::Event| {
        let at_top = event_target::<web_sys::HtmlElement>(&ev).scroll_top() <= 0;
        if at_top {
            c1.load_older();
        }
    };
    view! {
        <Show when=move || has_older.get()>
            {
                let c = c2.clone();
                view! { <button class="older" data-testid="load-older" on:click=move |_| c.load_older()>
                    "Load older messages"</button> }
            }
        </Show>
        <ul class="messages" data-testid="message-list" aria-live="polite" on:scroll=on_scroll>
            <For each=move || ids.get() key=|id| id.clone() let:id>
                <MessageRow id />
            </For>
        </ul>
    }
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
