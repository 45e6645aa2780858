//! One message's row. Someone else's message is plain markup (it never
//! changes once stored); one's own has its own signal, which the list sets
//! when that message changes (sent, acked, failed), and nothing else.

use crate::chat::Chat;
use crate::chat::log::{Entry, Status};
use leptos::prelude::*;
use std::collections::HashMap;
use wasm_bindgen::JsValue;

/// What a row shows that can change after it is drawn.
#[derive(Clone, PartialEq)]
pub struct RowState {
    seq: Option<u64>,
    status: Status,
    error: Option<String>,
}

impl RowState {
    pub fn of(e: &Entry) -> Self {
        Self { seq: e.seq, status: e.status, error: e.error.clone() }
    }
}

/// Each drawn row's own signal, by id: a change to one message touches only
/// its row.
pub type Rows = StoredValue<HashMap<String, RwSignal<RowState>>>;

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

/// `ms` as a time of day in the user's locale ("14:05", "2:05 PM"). One
/// formatter for the page (`toLocaleTimeString` with options builds a new
/// one per call), and a burst shares one minute: formatted once.
pub fn local_time(ms: f64) -> String {
    thread_local! {
        static LAST: std::cell::RefCell<(i64, String)> = const { std::cell::RefCell::new((i64::MIN, String::new())) };
        static FORMAT: js_sys::Function = {
            let opts = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&opts, &"hour".into(), &"numeric".into());
            let _ = js_sys::Reflect::set(&opts, &"minute".into(), &"2-digit".into());
            js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &opts).format()
        };
    }
    let minute = (ms / 60_000.0).floor() as i64;
    if let Some(s) = LAST.with_borrow(|(m, s)| (*m == minute).then(|| s.clone())) {
        return s;
    }
    let date = js_sys::Date::new(&JsValue::from_f64(ms));
    let s = FORMAT.with(|f| f.call1(&JsValue::UNDEFINED, &date).ok()).and_then(|s| s.as_string()).unwrap_or_default();
    LAST.with_borrow_mut(|last| *last = (minute, s.clone()));
    s
}

#[component]
pub fn MessageRow(id: String, rows: Rows) -> impl IntoView {
    let chat = expect_context::<Chat>();
    let (logs, room) = (chat.logs, chat.room.get_untracked());
    let Some(first) = logs.with_untracked(|l| l.get(&room).and_then(|log| log.get(&id).cloned())) else {
        return ().into_any();
    };
    let when = (first.created_ms > 0.0).then(|| {
        let iso = js_sys::Date::new(&JsValue::from_f64(first.created_ms)).to_iso_string().as_string();
        view! { <time class="when" datetime=iso>{local_time(first.created_ms)}</time> }
    });
    if !first.own {
        // Someone else's message never changes once stored: plain markup,
        // no signal, no effect (a burst renders rows cheaply).
        let seq = first.seq.map(|s| s.to_string());
        let author = first.author.clone();
        return view! {
            <li class="message" data-testid="message" data-id=id data-author=author data-seq=seq
                data-status=Status::Delivered.name()>
                <span class="author">{first.author}</span>
                <span class="body" data-testid="message-body">{first.body}</span>
                <span class="meta">{when}</span>
            </li>
        }
        .into_any();
    }
    let entry = RwSignal::new(RowState::of(&first));
    rows.update_value(|m| {
        m.insert(id.clone(), entry);
    });
    let key = id.clone();
    on_cleanup(move || {
        rows.try_update_value(|m| {
            if m.get(&key) == Some(&entry) {
                m.remove(&key);
            }
        });
    });
    let status = move || entry.with(|e| e.status);
    let own = first.own;
    let retry_id = id.clone();
    view! {
        <li class="message" class:own=own data-testid="message" data-id=id data-author=first.author.clone()
            data-seq=move || entry.with(|e| e.seq.map(|s| s.to_string()))
            data-status=move || status().name()>
            <span class="author">{first.author.clone()}</span>
            <span class="body" data-testid="message-body">{first.body.clone()}</span>
            <span class="meta">
                {when}
                <span class="status" title=move || entry.with(|e| e.error.clone()).unwrap_or_else(|| icon(status()).1.into())>
                    <span aria-hidden="true">{move || icon(status()).0}</span>
                    <span class="sr-only">{move || icon(status()).1}</span>
                </span>
            </span>
            <Show when=move || entry.with(|e| e.error.is_some())>
                <span class="error" data-testid="message-error">
                    {move || entry.with(|e| e.error.clone()).unwrap_or_default()}
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
