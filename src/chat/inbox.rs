//! Inbound frames reach the chat's state in batches, once per animation
//! frame: a burst of thousands of messages costs one signal update (and one
//! render) per frame, not one per message. A timer of about a frame backs the
//! animation frame up: a hidden tab gets none (its unread counts must still
//! move), and a busy or headless page may get them far apart (measured 40 to
//! 80 ms in headless Chromium during a burst), which would hold every
//! message back that long. Once a batch went out by the timer, the next
//! waits for the frame (or [`IDLE_MS`]): more renders before the frame paints
//! would be work nobody sees.

use gloo_timers::callback::Timeout;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

/// A batch waits at most this long for its animation frame.
const FALLBACK_MS: u32 = 16;
/// ...unless a batch already went out by the timer since the last frame (a
/// hidden tab's batches go out this often).
const IDLE_MS: u32 = 100;
/// Most items handed over per frame; the rest wait for the next one, so a
/// flood never makes one long task (the page stays responsive).
const MAX_PER_FLUSH: usize = 1000;

struct Inner<T> {
    queue: RefCell<Vec<T>>,
    scheduled: Cell<bool>,
    /// A batch went out by the timer and no animation frame has run since.
    early: Cell<bool>,
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
            flush: Box::new(flush),
        }))
    }

    pub fn push(&self, item: T) {
        self.0.queue.borrow_mut().push(item);
        schedule(&self.0);
    }
}

fn schedule<T: 'static>(inner: &Rc<Inner<T>>) {
    if inner.scheduled.replace(true) {
        return;
    }
    let (a, b) = (Rc::downgrade(inner), Rc::downgrade(inner));
    leptos::prelude::request_animation_frame(move || run(&a, true));
    let wait = if inner.early.get() { IDLE_MS } else { FALLBACK_MS };
    Timeout::new(wait, move || run(&b, false)).forget();
}

/// Whichever of the frame and the timer comes first flushes; the other finds
/// nothing scheduled (or flushes a newer batch a little early).
fn run<T: 'static>(inner: &Weak<Inner<T>>, frame: bool) {
    let Some(inner) = inner.upgrade() else { return };
    if frame {
        inner.early.set(false);
    }
    if !inner.scheduled.replace(false) {
        return;
    }
    if !frame {
        inner.early.set(true);
    }
    let (batch, more) = {
        let mut queue = inner.queue.borrow_mut();
        if queue.len() > MAX_PER_FLUSH {
            let rest = queue.split_off(MAX_PER_FLUSH);
            (std::mem::replace(&mut *queue, rest), true)
        } else {
            (std::mem::take(&mut *queue), false)
        }
    };
    if more {
        schedule(&inner);
    }
    (inner.flush)(batch);
}
