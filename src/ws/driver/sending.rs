//! Sending: frames go straight out while open and nothing is waiting,
//! otherwise into the bounded queue, so order is always kept.

use super::{Cmd, Driver};
use crate::ws::queue::QueueFull;

impl Driver {
    /// Queue or transmit a frame. Order is kept: while anything is queued, new
    /// frames go behind it.
    pub fn send(&mut self, frame: String) -> Result<(), QueueFull> {
        if self.state.is_open() && self.queue.is_empty() {
            self.transmit(frame);
            return Ok(());
        }
        let r = self.queue.push(frame);
        if r.is_err() {
            self.metrics.queue_rejected += 1;
        }
        self.sync_queue_metrics();
        r
    }

    /// Frames the glue could not hand to the socket (it was no longer open),
    /// in their original order: they go back to the front of the queue.
    pub fn untransmitted(&mut self, frames: Vec<String>) {
        for frame in frames.into_iter().rev() {
            self.metrics.frames_out = self.metrics.frames_out.saturating_sub(1);
            self.metrics.bytes_out = self.metrics.bytes_out.saturating_sub(frame.len() as u64);
            self.queue.push_front(frame);
        }
        self.sync_queue_metrics();
    }

    pub(super) fn transmit(&mut self, frame: String) {
        self.metrics.frames_out += 1;
        self.metrics.bytes_out += frame.len() as u64;
        self.cmds.push(Cmd::Transmit(frame));
    }

    pub(super) fn sync_queue_metrics(&mut self) {
        self.metrics.queued = self.queue.len();
        self.metrics.queue_high_water = self.queue.high_water();
    }
}
