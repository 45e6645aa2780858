//! The current room's messages, oldest first. Keyed by client id: a new
//! message appends one row, and a status change updates only its own row
//! (each row has its own signal; nothing scans the log per row). A long room
//! renders a bounded window of the newest rows; older ones on scrolling up.
//!
//! The list sticks to the bottom while the user is at the bottom; scrolled
//! up, new messages show a "N new messages" pill instead of moving the view.
//! Scrolling to the top loads the page before, and the view stays on the
//! message the user was reading when it arrives. The "Load older messages"
//! button shows them: the view moves up to them and stops following.

use super::id_picker::{Ask, IdPicker, Pick, WINDOW};
use super::list_scroll::{Anchor, Follower, at_bottom, keep_view};
use super::message_row::{MessageRow, RowState, Rows, local_time};
use super::new_rows::{Move, NewRows};
use super::row_list::keep_rows;
use super::row_plan::Shown;
use crate::chat::Chat;
use leptos::html::Ul;
use leptos::prelude::*;
use std::collections::HashMap;

/// Rows added to the window per scroll to the top.
const PAGE: usize = 100;

#[component]
pub fn MessageList() -> impl IntoView {
    let chat = expect_context::<Chat>();
    // The browser loads its locale data on the first time formatted (over
    // 10 ms): while idle, not when the first message arrives.
    request_idle_callback(|| {
        local_time(js_sys::Date::now());
    });
    let (logs, room) = (chat.logs, chat.room);
    let window = RwSignal::new(WINDOW);
    let rows: Rows = StoredValue::new(HashMap::new());
    let stick = RwSignal::new(true);
    // Bumped on the next frame while the list holds fewer rows than its window.
    let fill = RwSignal::new(0u32);
    let filling = StoredValue::new(false);
    let list = NodeRef::<Ul>::new();
    let follower = StoredValue::new_local(Follower::new(list, stick));
    // Which ids show, run to run (see `id_picker.rs`): bursts enter a
    // view's worth per update, the rest of the window fills in above on the
    // next frames' ticks.
    let id_picker = StoredValue::new(IdPicker::default());
    let ids = Memo::new(move |prev: Option<&Vec<String>>| {
        let r = room.get();
        let ask = Ask {
            room: &r,
            window: window.get(),
            tick: fill.get(),
            following: stick.get_untracked(),
            per_update: follower.try_with_value(Follower::rows_per_update).unwrap_or(WINDOW),
        };
        let pick = logs.with(|l| {
            id_picker
                .try_update_value(|p| p.pick(ask, l.get(&r), prev.map(Vec::as_slice)))
                // Being unmounted: the rows stay as they were.
                .unwrap_or_else(|| Pick { ids: prev.cloned().unwrap_or_default(), fill_more: false })
        });
        if pick.fill_more && !filling.get_value() {
            filling.set_value(true);
            request_animation_frame(move || {
                filling.try_set_value(false);
                fill.try_update(|f| *f = f.wrapping_add(1));
            });
        }
        pick.ids
    });
    // Older messages exist: held but outside the window, or on the server.
    let more_above = Memo::new(move |_| {
        let (r, n) = (room.get(), window.get());
        logs.with(|l| l.get(&r).is_some_and(|log| log.has_older() || log.len() > n))
    });
    // Rows changed in place (acked, failed, ...): only theirs are told.
    Effect::new(move |_| {
        // An effect already notified may run once more after unmount.
        if rows.is_disposed() {
            return;
        }
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
                if let Some(row) = rows.get(&id).filter(|row| row.try_with_untracked(|s| *s != now) == Some(true)) {
                    row.set(now);
                }
            }
        });
    });
    let c1 = chat.clone();
    // Where the first row was when older rows were asked for (until they are in).
    let anchor = StoredValue::new_local(None::<Anchor>);
    let unseen = RwSignal::new(0usize);
    // To the newest: `now` for the user's own moves (the pill, another
    // room); following new rows waits for the browser's layout instead.
    let to_bottom = move |now: bool| {
        if let Some(el) = list.get_untracked() {
            if now {
                follower.with_value(Follower::cancel);
                el.set_scroll_top(el.scroll_height());
            } else {
                follower.with_value(|f| f.follow(&el));
            }
        }
        unseen.set(0);
        stick.set(true);
        // Older rows on their way no longer move the view (another room,
        // or the user went back to the newest).
        anchor.set_value(None);
        if window.get_untracked() != WINDOW {
            window.set(WINDOW);
        }
    };
    // Shows older messages above: more of those held, else the server's page
    // before them. Scrolled to the top, the view stays on the row being
    // read. From the button (`reveal`), the view moves up to them and stops
    // following, so the next message does not take them away again.
    let show_older = move |reveal: bool| {
        let Some(el) = list.get_untracked() else { return };
        if anchor.with_value(Option::is_some) {
            return;
        }
        // Taken first: the rows may render as soon as the window changes.
        anchor.set_value(Some(Anchor::take(&el)));
        let r = room.get_untracked();
        let held = logs.with_untracked(|l| l.get(&r).map_or(0, |log| log.len()));
        let from_held = held > window.get_untracked();
        if !from_held && !c1.load_older() {
            anchor.set_value(None);
            return;
        }
        let reveal = reveal.then(|| {
            stick.set(false);
            stick
        });
        if from_held {
            window.update(|w| *w = w.saturating_add(PAGE));
        } else {
            window.set(usize::MAX); // the page goes in above everything held
        }
        // About five seconds of frames for the page to arrive.
        keep_view(list, anchor, reveal, 300);
    };
    // Once rows are in: follow them, count them, or go to the newest (see
    // `new_rows.rs`).
    let new_rows = StoredValue::new_local(NewRows::default());
    let after_rows = move |now: &Shown| {
        // Any of these may be gone while the list is being unmounted.
        let (Some(r), Some(following), Some(w)) =
            (room.try_get_untracked(), stick.try_get_untracked(), window.try_get_untracked())
        else {
            return;
        };
        match new_rows.try_update_value(|n| n.saw(&r, now, following, w)) {
            Some(Move::ToNewest) => to_bottom(true),
            Some(Move::Follow) => to_bottom(false),
            Some(Move::Count { fresh, window: grown }) => {
                unseen.update(|u| *u = u.saturating_add(fresh));
                if let Some(w) = grown {
                    window.set(w);
                }
            }
            Some(Move::Stay) | None => {}
        }
    };
    keep_rows(list, ids, move |id| view! { <MessageRow id rows /> }.into_any(), after_rows);
    list.on_load(move |el| {
        follower.try_with_value(|f| f.listen_for_input(&el));
    });
    let older_button = show_older.clone();
    let on_scroll = move |_| {
        let Some(el) = list.try_get_untracked().flatten() else { return };
        // Rows went in and the view follows them once laid out: still at
        // the bottom (and reading the layout now would lay it out early).
        if stick.try_get_untracked() == Some(true) && follower.try_with_value(Follower::owed) == Some(true) {
            return;
        }
        let bottom = at_bottom(&el);
        stick.set(bottom);
        if bottom {
            unseen.set(0);
        }
        if el.scroll_top() <= 0 {
            show_older(false);
        }
    };
    view! {
        <div class="messages-wrap">
            <Show when=move || more_above.get()>
                {
                    let older = older_button.clone();
                    view! { <button class="older" data-testid="load-older" on:click=move |_| older(true)>
                        "Load older messages"</button> }
                }
            </Show>
            <ul class="messages" data-testid="message-list" node_ref=list on:scroll=on_scroll
                aria-live="polite" aria-relevant="additions" aria-label="Messages" tabindex="0">
            </ul>
            <Show when=move || { unseen.get() > 0 }>
                <button class="new-pill" data-testid="new-messages" on:click=move |_| to_bottom(true)>
                    {move || match unseen.get() { 1 => "1 new message".to_owned(), n => format!("{n} new messages") }}
                </button>
            </Show>
        </div>
    }
}
