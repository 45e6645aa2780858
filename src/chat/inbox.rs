//! Inbound frames reach the chat's state in batches, once per animation
//! frame: a burst of thousands of messages costs one signal update (and one
//! render) per frame, not one per message. A timer of about a frame backs the
//! animation frame up: a hidden tab gets none (its unread counts must still
//! move), and a busy or headless page may get them far apart (measured 40 to
//! 80 ms in headless Chromium during a burst), which would hold every
//! message back that long. Once a batch went out by the timer, the next
//! waits for the frame (or [`IDLE_MS`]): more renders before the frame paints
//! would be work nobody sees.
//!
//! Each batch's timer is held and dropped, not forgotten (a forgotten
//! callback stays allocated for the page's life: one per batch in a busy
//! room), and at most one animation frame is requested at a time (a hidden
//! tab runs none, and would otherwise pile up one request per batch).
//!
//! A batch holds at most what [`FlushSize`] allows, from what the last
//! batches cost: the rest waits for the next frame, so a flood never makes
//! one long task (the page stays responsive).

use super::flush_size::FlushSize;
use gloo_timers::callback::Timeout;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

/// A batch waits at most this long for its animation frame.
const FALLBACK_MS: u32 = 16;
/// ...unless a batch already went out by the timer since the last frame (a
/// hidden tab's batches go out this often).
const IDLE_MS: u32 = 100;
/// Room kept in the empty queue between bursts (items, not bytes): ordinary
/// traffic never grows it again, and a burst's buffer is given back.
const QUEUE_KEPT: usize = 1024;

struct Inner<T> {
    /// Taken from the front a batch at a time: what stays is not moved
    /// (a burst of 100,000 would otherwise be copied once per frame).
    queue: RefCell<VecDeque<T>>,
    scheduled: Cell<bool>,
    /// A batch went out by the timer and no animation frame has run since.
    early: Cell<bool>,
    /// An animation frame is requested and has not run yet: the next batch
    /// waits for that one instead of asking again.
    frame_requested: Cell<bool>,
    /// The latest batch's backup timer (dropping it cancels it if it has
    /// not fired, and frees its callback either way).
    timer: RefCell<Option<Timeout>>,
    size: RefCell<FlushSize>,
    flush: Box<dyn Fn(Vec<T>)>,
}

/// Collects items and hands them to `flush` in arrival order, one batch per
/// frame. Dropping it drops what has not been flushed yet (the chat is gone).
pub struct Batcher<T: 'static>(Rc<Inner<T>>);

impl<T: 'static> Batcher<T> {
    pub fn new(flush: impl Fn(Vec<T>) + 'static) -> Self {
        Self(Rc::new(Inner {
            queue: RefCell::default(),
            scheduled: Cell::new(false),
            early: Cell::new(false),
            frame_requested: Cell::new(false),
            timer: RefCell::default(),
            size: RefCell::default(),
            flush: Box::new(flush),
        }))
    }

    pub fn push(&self, item: T) {
        self.0.queue.borrow_mut().push_back(item);
        schedule(&self.0);
    }
}

fn schedule<T: 'static>(inner: &Rc<Inner<T>>) {
    if inner.scheduled.replace(true) {
        return;
    }
    if !inner.frame_requested.replace(true) {
        let a = Rc::downgrade(inner);
        leptos::prelude::request_animation_frame(move || run(&a, true));
    }
    let wait = if inner.early.get() { IDLE_MS } else { FALLBACK_MS };
    let b = Rc::downgrade(inner);
    // May drop the timer now running this (wasm-bindgen frees a callback
    // dropped during its own call once it returns).
    let previous = inner.timer.replace(Some(Timeout::new(wait, move || run(&b, false))));
    drop(previous);
}

/// Whichever of the frame and the timer comes first flushes; the other finds
/// nothing scheduled (or flushes a newer batch a little early).
fn run<T: 'static>(inner: &Weak<Inner<T>>, frame: bool) {
    let Some(inner) = inner.upgrade() else { return };
    if frame {
        inner.early.set(false);
        inner.frame_requested.set(false);
    }
    if !inner.scheduled.replace(false) {
        return;
    }
    if !frame {
        inner.early.set(true);
    }
    let (most, start) = (inner.size.borrow().next(), tether_ws::now_ms());
    let (batch, more) = {
        let mut queue = inner.queue.borrow_mut();
        let n = queue.len().min(most);
        let batch = queue.drain(..n).collect::<Vec<T>>();
        if queue.is_empty() {
            // A burst's room is not held for the page's life.
            queue.shrink_to(QUEUE_KEPT);
        }
        (batch, !queue.is_empty())
    };
    if more {
        schedule(&inner);
    }
    let items = batch.len();
    (inner.flush)(batch);
    // Timed once the effects the batch set off have run too (Leptos queues
    // them before this task, on the same queue): rendering a batch costs
    // more than applying it. Effects those wake in turn run after it and go
    // uncounted, so the figure is low rather than high.
    let weak = Rc::downgrade(&inner);
    wasm_bindgen_futures::spawn_local(async move {
        if let Some(inner) = weak.upgrade() {
            inner.size.borrow_mut().record(items, tether_ws::now_ms() - start);
        }
    });
}
