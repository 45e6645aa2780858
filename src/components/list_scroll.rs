//! Where the message list's view goes as rows come and go, kept apart from
//! what the list shows. Two jobs: following the newest at the bottom, and
//! keeping the view on the row being read when older rows go in above.
//!
//! Following waits for the browser's own layout: reading the list's height
//! right after rows went in made the browser lay the list out there and
//! then, mid-frame, once per batch of rows (README, "Benchmarks", has the
//! figures).

use super::view_rows::ViewRows;
use gloo_events::EventListener;
use leptos::html::Ul;
use leptos::prelude::*;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

/// Within this many pixels of the end counts as "at the bottom": less than
/// a row, so a new message is never taken as read, and more than the
/// rounding of fractional scroll positions.
const BOTTOM_SLACK_PX: i32 = 24;
/// Keys that scroll the focused list up (Shift+Space too, checked apart).
const UP_KEYS: [&str; 3] = ["ArrowUp", "PageUp", "Home"];
/// A scroll owed for longer than this is taken as never coming.
const OWED_MAX_MS: f64 = 500.0;
/// Scroll events this soon after the user's input are theirs, owed scroll or
/// not: a key's smooth scroll, a fling, a scrollbar drag move the view over
/// several frames after their one input event.
const INPUT_MS: f64 = 500.0;

/// A clock that only goes forward (the wall clock can be set back).
fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or_else(js_sys::Date::now, |p| p.now())
}

/// Whether the view shows the end of the list: following goes by it.
pub fn at_bottom(el: &web_sys::Element) -> bool {
    el.scroll_top() + el.client_height() >= el.scroll_height() - BOTTOM_SLACK_PX
}

/// Scrolls the list to its end after the browser has laid out the rows that
/// just went in, in the same frame, before it paints. A `ResizeObserver`
/// reports a newly observed element once it is laid out, so watching the
/// list's first and last rows (the ones a burst, or the fill-in above,
/// replaces) says when; by then reading the height costs nothing.
pub struct Follower {
    observer: Option<web_sys::ResizeObserver>,
    /// Since when a scroll to the end is owed (`-inf`: none).
    owed_since: Rc<Cell<f64>>,
    /// When the user last gave input that may scroll the list up.
    input_at: Rc<Cell<f64>>,
    /// What the list measured when last laid out while following.
    view_rows: Rc<RefCell<ViewRows>>,
    // Held, not forgotten: freed with the list (after the observer is
    // disconnected, so it is never called once freed).
    _on_laid_out: Closure<dyn FnMut()>,
    // Held so the listeners are removed with the list.
    _inputs: RefCell<Vec<EventListener>>,
}

impl Follower {
    /// `stick` is read when the layout is reported: a user who scrolled up
    /// in between is not pulled back down.
    pub fn new(list: NodeRef<Ul>, stick: RwSignal<bool>) -> Self {
        let owed_since = Rc::new(Cell::new(f64::NEG_INFINITY));
        let owed = owed_since.clone();
        let inner_height = web_sys::window().and_then(|w| w.inner_height().ok()).and_then(|h| h.as_f64());
        let view_rows = Rc::new(RefCell::new(ViewRows::new(inner_height.unwrap_or(f64::NAN))));
        let seen = view_rows.clone();
        let on_laid_out = Closure::<dyn FnMut()>::new(move || {
            owed.set(f64::NEG_INFINITY);
            if stick.try_get_untracked() == Some(true)
                && let Some(el) = list.try_get_untracked().flatten()
            {
                // Laid out just now: reading costs nothing.
                let row = |r: Option<web_sys::Element>| r.map_or(f64::NAN, |r| r.get_bounding_client_rect().height());
                let shorter = row(el.first_element_child()).min(row(el.last_element_child()));
                seen.borrow_mut().saw(f64::from(el.client_height()), shorter);
                el.set_scroll_top(el.scroll_height());
            }
        });
        // No ResizeObserver (a very old browser): `follow` scrolls at once.
        let observer = web_sys::ResizeObserver::new(on_laid_out.as_ref().unchecked_ref()).ok();
        let input_at = Rc::new(Cell::new(f64::NEG_INFINITY));
        Self { observer, owed_since, input_at, view_rows, _on_laid_out: on_laid_out, _inputs: RefCell::default() }
    }

    /// Rows to put in per update while following: [`ViewRows::rows`] of
    /// what the list measured.
    pub fn rows_per_update(&self) -> usize {
        self.view_rows.borrow().rows()
    }

    /// A scroll event now is to be ignored: a scroll to the end is owed and
    /// the user gave no input just before. The scroll is owed across tasks
    /// only when rows went in outside an animation frame (the inbox's backup
    /// timer, one's own post); a scroll event delivered meanwhile finds the
    /// view above the new rows without anyone having scrolled, and must not
    /// stop the following. After the user's input (see
    /// [`Follower::listen_for_input`]) the event is theirs, judged by where
    /// the view is. A report that never comes (the rows removed before they
    /// were laid out) ends the wait after [`OWED_MAX_MS`].
    pub fn owed(&self) -> bool {
        let now = now_ms();
        now - self.owed_since.get() < OWED_MAX_MS && now - self.input_at.get() >= INPUT_MS
    }

    /// Notes input that may scroll the list up: the wheel turned up, a touch
    /// moving, a pointer pressed on the list's own box (its scrollbar, not a
    /// row), keys. Passive listeners (gloo's default), so scrolling never
    /// waits for them. Assistive technology that scrolls without such input,
    /// and a scrollbar where the browser sends no pointer event (Firefox),
    /// can be pulled back down once while a scroll is owed.
    pub fn listen_for_input(&self, el: &web_sys::Element) {
        let on = |kind: &'static str, up: fn(&web_sys::Event) -> bool| {
            let input_at = self.input_at.clone();
            EventListener::new(el, kind, move |e| {
                if up(e) {
                    input_at.set(now_ms());
                }
            })
        };
        *self._inputs.borrow_mut() = vec![
            on("wheel", |e| e.dyn_ref::<web_sys::WheelEvent>().is_some_and(|w| w.delta_y() < 0.0)),
            on("touchmove", |_| true),
            on("pointerdown", |e| e.target() == e.current_target()),
            on("keydown", |e| {
                e.dyn_ref::<web_sys::KeyboardEvent>()
                    .is_some_and(|k| UP_KEYS.contains(&k.key().as_str()) || (k.key() == " " && k.shift_key()))
            }),
        ];
    }

    /// Goes to the end once the list's current first and last rows are laid
    /// out (an empty list, or no observer: now).
    pub fn follow(&self, el: &web_sys::Element) {
        let (Some(observer), Some(first), Some(last)) =
            (&self.observer, el.first_element_child(), el.last_element_child())
        else {
            self.cancel();
            el.set_scroll_top(el.scroll_height());
            return;
        };
        // A fresh observation reports once laid out, even an element seen
        // before; at most these two are ever watched. They stay watched
        // until the next call: the last row growing later (an error line
        // under one's own message) brings the end into view again.
        observer.disconnect();
        self.owed_since.set(now_ms());
        observer.observe(&first);
        observer.observe(&last);
    }

    /// The view was just put at the end by other means (the pill, another
    /// room): nothing is owed any more.
    pub fn cancel(&self) {
        if let Some(observer) = &self.observer {
            observer.disconnect();
        }
        self.owed_since.set(f64::NEG_INFINITY);
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.cancel();
    }
}

/// Where the list's first row was when older rows were asked for. They go
/// in above it, so how far it moved down the list's content is how much
/// went in; a new message at the bottom, or the page around the list
/// changing (the button above it going), does not count. (An empty list:
/// its height.)
pub struct Anchor {
    row: Option<web_sys::Element>,
    at: f64,
}

/// Where `row` starts in `list`'s content, whatever the scroll position.
fn offset_in(list: &web_sys::Element, row: &web_sys::Element) -> f64 {
    row.get_bounding_client_rect().top() - list.get_bounding_client_rect().top() + f64::from(list.scroll_top())
}

impl Anchor {
    pub fn take(list: &web_sys::Element) -> Self {
        match list.first_element_child() {
            Some(row) => Self { at: offset_in(list, &row), row: Some(row) },
            None => Self { row: None, at: f64::from(list.scroll_height()) },
        }
    }

    /// How much went in above since (whole pixels); `None` once the row has
    /// left the list.
    fn grown(&self, list: &web_sys::Element) -> Option<i32> {
        let now = match &self.row {
            Some(row) if row.is_connected() => offset_in(list, row),
            Some(_) => return None,
            None => f64::from(list.scroll_height()),
        };
        Some((now - self.at).round() as i32)
    }
}

/// Rows went in above: on the first frame that shows them, scrolls `list`
/// down by their height (the view stays on the same rows), or, revealing
/// them (`reveal` holds the list's follow flag), up to the end of the new
/// rows. Tries for at most `frames` frames, then gives up: the anchor is
/// cleared, and a reveal that found nothing follows again if the view is
/// still at the bottom.
pub fn keep_view(
    list: NodeRef<Ul>,
    anchor: StoredValue<Option<Anchor>, LocalStorage>,
    reveal: Option<RwSignal<bool>>,
    frames: u32,
) {
    request_animation_frame(move || {
        // The list may have been unmounted since.
        let Some(el) = list.try_get_untracked().flatten() else { return };
        let Some(grown) = anchor.try_with_value(|a| a.as_ref().map(|a| a.grown(&el))).flatten() else {
            return; // cleared: following again, or another room
        };
        match grown {
            Some(grown) if grown > 0 => {
                // Revealed: the newest of the older rows at the bottom edge. Not
                // 0, which would read as a scroll to the top (the page before).
                let top = if reveal.is_some() { (grown - el.client_height()).max(1) } else { el.scroll_top() + grown };
                el.set_scroll_top(top);
            }
            Some(_) if frames > 1 => {
                keep_view(list, anchor, reveal, frames - 1);
                return;
            }
            _ => {} // gave up, or the row left the list
        }
        // Done. After a reveal, following goes by where the view now is.
        anchor.set_value(None);
        if let Some(stick) = reveal {
            stick.try_set(at_bottom(&el));
        }
    });
}
