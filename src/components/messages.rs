//! The current room's messages, oldest first. Keyed by client id: a new
//! message appends one row, and a status change updates only its own row
//! (each row has its own signal; nothing scans the log per row). A long room
//! renders a bounded window of the newest rows; older ones on scrolling up.
//!
//! The list sticks to the bottom while the user is at the bottom; scrolled
//! up, new messages show a "N new messages" pill instead of moving the view.
//! Scrolling to the top (or the button there) loads the page before, and
//! the view stays on the message the user was reading when it arrives.

use crate::chat::Chat;
use crate::chat::log::{Entry, Status};
use leptos::html::Ul;
use leptos::prelude::*;
use std::collections::HashMap;
use wasm_bindgen::JsValue;

/// Within this many pixels of the end counts as "at the bottom".
const BOTTOM_SLACK_PX: i32 = 24;

fn at_bottom(el: &web_sys::Element) -> bool {
    el.scroll_top() + el.client_height() >= el.scroll_height() - BOTTOM_SLACK_PX
}

/// Rows shown while following the newest messages: a long room renders this
/// many, whatever arrives; scrolling up shows more (then older pages).
pub const WINDOW: usize = 200;
/// Rows added to the window per scroll to the top.
const PAGE: usize = 100;
/// Most rows that enter the list in one update while it follows new
/// messages: a burst shows its newest at once, and the rest of the window
/// fills in above over the next frames (bounded work per frame).
const ENTER_PER_FRAME: usize = 40;
/// While the user reads further up, the window grows with new messages so
/// the rows being read stay, up to this many.
const READING_MAX: usize = 1000;

/// What a row shows that can change after it is drawn.
#[derive(Clone, PartialEq)]
struct RowState {
    seq: Option<u64>,
    status: Status,
    error: Option<String>,
}

impl RowState {
    fn of(e: &Entry) -> Self {
        Self { seq: e.seq, status: e.status, error: e.error.clone() }
    }
}

/// Each drawn row's own signal, by id: a change to one message touches only
/// its row.
type Rows = StoredValue<HashMap<String, RwSignal<RowState>>>;

#[component]
pub fn MessageList() -> impl IntoView {
    let chat = expect_context::<Chat>();
    let (logs, room) = (chat.logs, chat.room);
    let window = RwSignal::new(WINDOW);
    let rows: Rows = StoredValue::new(HashMap::new());
    let stick = RwSignal::new(true);
    // Bumped on the next frame while the list holds fewer rows than its window.
    let fill = RwSignal::new(0u32);
    let filling = StoredValue::new(false);
    let ids = Memo::new(move |prev: Option<&Vec<String>>| {
        let (r, n) = (room.get(), window.get());
        fill.track();
        logs.with(|l| {
            let Some(log) = l.get(&r) else { return Vec::new() };
            let newest = log.newest(n);
            let before = prev.map_or(0, Vec::len);
            let entering = prev
                .and_then(|p| p.last())
                .and_then(|last| newest.iter().rposition(|e| e.id == *last))
                .map_or(newest.len(), |i| newest.len() - 1 - i);
            let count = if !stick.get_untracked() {
                newest.len()
            } else if entering > ENTER_PER_FRAME {
                ENTER_PER_FRAME
            } else {
                before.saturating_add(ENTER_PER_FRAME)
            }
            .min(newest.len());
            if count < newest.len() && !filling.get_value() {
                filling.set_value(true);
                request_animation_frame(move || {
                    filling.try_set_value(false);
                    fill.try_update(|f| *f = f.wrapping_add(1));
                });
            }
            newest[newest.len() - count..].iter().map(|e| e.id.clone()).collect()
        })
    });
    // Older messages exist: held but outside the window, or on the server.
    let more_above = Memo::new(move |_| {
        let (r, n) = (room.get(), window.get());
        logs.with(|l| l.get(&r).is_some_and(|log| log.has_older() || log.len() > n))
    });
    // Rows changed in place (acked, failed, ...): only theirs are told.
    Effect::new(move |_| {
        logs.track();
        let r = room.get_untracked();
        let changed = logs
            .try_update_untracked(|l| {
                let mut out = Vec::new();
                for (name, log) in l.iter_mut() {
                    let ids = log.take_changed();
                    if *name == r {
                        out = ids.into_iter().filter_map(|id| log.get(&id).map(|e| (id, RowState::of(e)))).collect();
                    }
                }
                out
            })
            .unwrap_or_default();
        rows.with_value(|rows| {
            for (id, now) in changed {
                if let Some(row) = rows.get(&id).filter(|row| row.with_untracked(|s| *s != now)) {
                    row.set(now);
                }
            }
        });
    });
    let c1 = chat.clone();
    let list = NodeRef::<Ul>::new();
    // The list's height when an older page was asked for by scrolling up.
    let anchor = StoredValue::new(None::<i32>);
    let unseen = RwSignal::new(0usize);
    let to_bottom = move || {
        if let Some(el) = list.get_untracked() {
            el.set_scroll_top(el.scroll_height());
        }
        unseen.set(0);
        stick.set(true);
        if window.get_untracked() != WINDOW {
            window.set(WINDOW);
        }
    };
    // Shows older messages above, keeping the view where it is: more of
    // those held, else the server's page before them.
    let show_older = move || {
        let Some(el) = list.get_untracked() else { return };
        if anchor.get_value().is_some() {
            return;
        }
        // Taken first: the rows may render as soon as the window changes.
        anchor.set_value(Some(el.scroll_height()));
        let r = room.get_untracked();
        let held = logs.with_untracked(|l| l.get(&r).map_or(0, |log| log.len()));
        if held > window.get_untracked() {
            window.update(|w| *w = w.saturating_add(PAGE));
        } else if c1.load_older() {
            window.set(usize::MAX); // the page goes in above everything held
        } else {
            anchor.set_value(None);
            return;
        }
        // About five seconds of frames for the page to arrive.
        keep_view(list, anchor, 300);
    };
    // After rows for new messages are in: follow them, or count them. Only
    // rows after the previous last one are new; an older page goes above.
    // Rows filled in above while following keep the view at the bottom too.
    Effect::new(move |prev: Option<(String, Option<String>, Option<String>)>| {
        let r = room.get();
        let (first, last) = ids.with(|ids| (ids.first().cloned(), ids.last().cloned()));
        match prev {
            Some((pr, pfirst, plast)) if pr == r => {
                if stick.get_untracked() && (last != plast || first != pfirst) {
                    to_bottom();
                } else if last != plast {
                    let fresh = ids.with(|ids| match plast.and_then(|p| ids.iter().rposition(|i| *i == p)) {
                        Some(pos) => ids.len() - pos - 1,
                        None => ids.len(),
                    });
                    unseen.update(|u| *u += fresh);
                    // The rows being read stay: the window grows instead
                    // (up to a bound; a flood then moves them on).
                    if window.get_untracked() < READING_MAX {
                        window.update(|w| *w = w.saturating_add(fresh).min(READING_MAX));
                    }
                }
            }
            _ => to_bottom(), // first rows, or another room
        }
        (r, first, last)
    });
    let older_button = show_older.clone();
    let on_scroll = move |_| {
        let Some(el) = list.get_untracked() else { return };
        let bottom = at_bottom(&el);
        stick.set(bottom);
        if bottom {
            unseen.set(0);
        }
        if el.scroll_top() <= 0 {
            show_older();
        }
    };
    view! {
        <div class="messages-wrap">
            <Show when=move || more_above.get()>
                {
                    let older = older_button.clone();
                    view! { <button class="older" data-testid="load-older" on:click=move |_| older()>
                        "Load older messages"</button> }
                }
            </Show>
            <ul class="messages" data-testid="message-list" node_ref=list on:scroll=on_scroll
                aria-live="polite" aria-relevant="additions" aria-label="Messages" tabindex="0">
                <For each=move || ids.get() key=|id| id.clone() let:id>
                    <MessageRow id rows />
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

/// `ms` as a time of day in the user's locale ("14:05", "2:05 PM"). A burst
/// shares one minute: formatted once (the browser's formatter is slow).
fn local_time(ms: f64) -> String {
    thread_local! {
        static LAST: std::cell::RefCell<(i64, String)> = const { std::cell::RefCell::new((i64::MIN, String::new())) };
    }
    let minute = (ms / 60_000.0).floor() as i64;
    if let Some(s) = LAST.with_borrow(|(m, s)| (*m == minute).then(|| s.clone())) {
        return s;
    }
    let date = js_sys::Date::new(&JsValue::from_f64(ms));
    let opts = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&opts, &"hour".into(), &"numeric".into());
    let _ = js_sys::Reflect::set(&opts, &"minute".into(), &"2-digit".into());
    let f = js_sys::Reflect::get(&date, &"toLocaleTimeString".into()).ok();
    let s = f
        .and_then(|f| js_sys::Function::from(f).call2(&date, &JsValue::UNDEFINED, &opts).ok())
        .and_then(|s| s.as_string())
        .unwrap_or_default();
    LAST.with_borrow_mut(|last| *last = (minute, s.clone()));
    s
}

#[component]
fn MessageRow(id: String, rows: Rows) -> impl IntoView {
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
