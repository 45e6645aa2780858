//! What cross-tab sharing needs of a connection: the leading tab's tap on
//! its events, the stamp its metrics carry, frames queued for other tabs,
//! and stepping down.

use super::{Conn, Stamp, Tap, now_ms};
use crate::WsError;
use crate::codec::{Codec, Frame};
use std::rc::Weak;

impl<Tx, Rx, C> Conn<Tx, Rx, C>
where
    Tx: 'static,
    Rx: Clone + Send + Sync + 'static,
    C: Codec<Tx, Rx> + 'static,
{
    pub fn set_tap(&self, tap: Weak<dyn Tap>) {
        *self.tap.borrow_mut() = Some(tap);
    }

    /// Role, why cross-tab sharing fell back, leader changes and term, as
    /// shown in the metrics.
    pub fn set_stamp(&self, stamp: Stamp) {
        *self.stamp.borrow_mut() = stamp;
        self.publish();
    }

    /// What is still queued, taken (a cross-tab leader stepping down hands
    /// it to the follower side before anything else can be sent).
    pub fn take_queued(&self) -> Vec<Frame> {
        self.driver.borrow_mut().take_queued()
    }

    /// Close the socket now and stop (a cross-tab leader stepping down).
    /// With `hand_over`, what arrived and was not read yet goes to the
    /// subscribers first: they stay, as followers. Without it (the tab's
    /// last hook unmounted, or moved to another URL) it is dropped.
    pub fn shutdown(&self, hand_over: bool) {
        if hand_over {
            self.hand_over_arrivals();
        }
        self.dispose();
    }

    /// Queue a frame encoded elsewhere (a follower's, when its tab leads).
    pub fn send_frame(&self, frame: Frame) -> Result<(), WsError> {
        let r = self.driver.borrow_mut().send(frame, now_ms());
        self.run_commands();
        self.publish();
        r.map_err(WsError::QueueFull)
    }
}
