//! When a connection's state and metrics reach its subscribers' signals: a
//! state change at once, metrics at most every [`PUBLISH_EVERY_MS`] while
//! frames stream in, so a burst of frames costs counter updates, not a
//! metrics copy (and signal notifications) per frame.

use crate::{ConnState, Metrics};
use gloo_timers::callback::Timeout;
use std::cell::RefCell;

/// While frames stream in, metrics reach the signals at most this often.
pub(crate) const PUBLISH_EVERY_MS: u32 = 250;

pub(crate) struct Publisher {
    /// The state last published.
    published: RefCell<ConnState>,
    /// A pending publication.
    timer: RefCell<Option<Timeout>>,
}

impl Publisher {
    pub fn new() -> Self {
        Self { published: RefCell::new(ConnState::Idle), timer: RefCell::new(None) }
    }

    /// Publish now with `emit`, cancelling any pending publication.
    pub fn now(&self, state: &ConnState, metrics: &Metrics, emit: impl FnOnce(&ConnState, &Metrics)) {
        self.timer.borrow_mut().take();
        self.published.replace(state.clone());
        emit(state, metrics);
    }

    /// Whether `state` differs from what subscribers last saw.
    pub fn changed(&self, state: &ConnState) -> bool {
        *self.published.borrow() != *state
    }

    /// Arrange for `later` to run within [`PUBLISH_EVERY_MS`], unless already arranged.
    pub fn soon(&self, later: impl FnOnce() + 'static) {
        if self.timer.borrow().is_some() {
            return;
        }
        *self.timer.borrow_mut() = Some(Timeout::new(PUBLISH_EVERY_MS, later));
    }

    /// Forget any pending publication.
    pub fn cancel(&self) {
        self.timer.borrow_mut().take();
    }
}
