//! The message list's rows, kept in step with the ids it shows: always a
//! contiguous run of the room's log, which grows and shrinks at its ends.
//!
//! Leptos's `<For>` (tachys 0.2's keyed diff) moved every row already shown
//! when rows went in above them (its grouping of moves keeps the first
//! one's "move in the document" for the whole group; fixed in tachys 0.3.0-rc1).
//! Each step of the fill-in above a burst, and each older page, took every
//! shown row out of the document and back in, so the browser styled and
//! laid them all out again: two to eight times the style and layout time of
//! inserting only the new rows (measured filling 200 rows in 10, 25 or 40
//! at a time in headless Chromium). Here rows go in and out only at the two
//! ends ([`plan`]), and a row that stays is never touched; one taken off an
//! end that comes back elsewhere (one's own message stored) is moved, not
//! built again. Only a run with nothing in common (another room, a burst
//! past the window) is built anew.

use super::row_plan::{Plan, Shown, plan};
use leptos::html::Ul;
use leptos::prelude::*;
use leptos::tachys::reactive_graph::{OwnedView, OwnedViewState};
use leptos::tachys::view::any_view::AnyViewState;
use leptos::tachys::view::{Mountable, Render};
use std::collections::{HashMap, VecDeque};

/// A shown row: its view's state, which owns the row's reactive scope
/// (dropping it runs the row's cleanups).
struct Row(OwnedViewState<AnyViewState>);

impl Row {
    fn remove(mut self) {
        self.0.unmount();
    }
}

/// Keeps `list`'s children in step with `ids`, one view from `row` per id,
/// and calls `after` with what is shown each time rows went in or out, at
/// once: whatever decides where the view goes (following, counting) does so
/// before any other task can see the new rows (a scroll event queued by
/// them would otherwise find a view that no longer follows).
pub fn keep_rows(
    list: NodeRef<Ul>,
    ids: Memo<Vec<String>>,
    row: impl Fn(String) -> AnyView + 'static,
    after: impl Fn(&Shown) + 'static,
) {
    let ends = StoredValue::new_local(Shown::default());
    // Weak: the effect lives in the component's scope, which must not be
    // kept alive by it.
    let parent = Owner::current().expect("rows are kept inside a component").downgrade();
    let shown = StoredValue::new_local((Vec::<String>::new(), VecDeque::<Row>::new()));
    // Held by the list (a render effect stops when dropped).
    let effect = RenderEffect::new(move |_| {
        // Read first, so the ids are tracked from the first run on. Any of
        // these may be gone while the list is being unmounted.
        let Some(new) = ids.try_get() else { return };
        let Some(Some(ul)) = list.try_get() else { return };
        let Some(parent) = parent.upgrade() else { return };
        let build = |id: &String| {
            let owner = parent.child();
            untrack(|| {
                let view = owner.with(|| row(id.clone()));
                Row(OwnedView::new_with_owner(view, owner).build())
            })
        };
        let now = shown.try_update_value(|(old, shown_rows)| {
            let below = match plan(old, &new) {
                Plan::Rebuild => {
                    shown_rows.drain(..).for_each(Row::remove);
                    for id in &new {
                        let mut r = build(id);
                        r.0.mount(&ul, None);
                        shown_rows.push_back(r);
                    }
                    new.len()
                }
                Plan::Ends { drop_front, drop_back, keep_at, kept } => {
                    let below = &new[keep_at + kept..];
                    // Rows taken off the bottom that are still last (one's own
                    // messages not yet stored, while others' go in above them)
                    // stay where they are, and new rows go in before them:
                    // taken out and put back, a screen reader would announce
                    // them again and a focused Retry button would lose focus.
                    let stay = if below.ends_with(&old[old.len() - drop_back..]) { drop_back } else { 0 };
                    let mut staying = shown_rows.split_off(shown_rows.len() - stay);
                    // Other rows taken off either end may come back elsewhere
                    // (one's own message stored and moved): moved, not built
                    // again, and not new.
                    let mut spare: HashMap<String, Row> = HashMap::new();
                    let gone_back = shown_rows.len() - (drop_back - stay);
                    let ids_back = &old[old.len() - drop_back..old.len() - stay];
                    for (id, mut r) in ids_back.iter().zip(shown_rows.drain(gone_back..)) {
                        r.0.unmount();
                        spare.insert(id.clone(), r);
                    }
                    for (id, mut r) in old[..drop_front].iter().zip(shown_rows.drain(..drop_front)) {
                        r.0.unmount();
                        spare.insert(id.clone(), r);
                    }
                    let mut take = |id: &String, fresh: &mut usize| {
                        spare.remove(id).unwrap_or_else(|| {
                            *fresh += 1;
                            build(id)
                        })
                    };
                    // Above the first kept row, in order (the list holds only rows).
                    let first = ul.first_child();
                    let mut above = VecDeque::with_capacity(keep_at + shown_rows.len() + below.len());
                    for id in &new[..keep_at] {
                        let mut r = take(id, &mut 0);
                        r.0.mount(&ul, first.as_ref());
                        above.push_back(r);
                    }
                    above.append(shown_rows);
                    *shown_rows = above;
                    let before: Option<web_sys::Node> =
                        staying.front().and_then(|r| r.0.elements().into_iter().next()).map(Into::into);
                    let mut fresh = 0;
                    for id in &below[..below.len() - stay] {
                        let mut r = take(id, &mut fresh);
                        r.0.mount(&ul, before.as_ref());
                        shown_rows.push_back(r);
                    }
                    shown_rows.append(&mut staying);
                    // Unmounted already: dropping runs their cleanups.
                    drop(spare);
                    fresh
                }
            };
            *old = new;
            let added_below = ends.with_value(|e| e.added_below).wrapping_add(below as u64);
            Shown { first: old.first().cloned(), last: old.last().cloned(), added_below }
        });
        if let Some(now) = now.filter(|now| ends.with_value(|e| e != now)) {
            ends.set_value(now.clone());
            after(&now);
        }
    });
    StoredValue::new_local(effect);
}
