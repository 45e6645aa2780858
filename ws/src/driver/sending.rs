//! Sending: frames go straight out while open and nothing is waiting,
//! otherwise into the bounded queue, so order is always kept. `try_send`
//! never queues: it is for apps that keep their own outbox, so one message
//! can never leave twice (once from the app's outbox, once from this queue).

use super::{Cmd, Driver};
use crate::codec::Frame;
use crate::queue::QueueFull;

/// `try_send` found the connection not open (or not yet flushed): nothing was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotOpen;

impl Driver {
    /// Queue or transmit a frame. Order is kept: while anything is queued, new
    /// frames go behind it.
    pub fn send(&mut self, frame: Frame, now: f64) -> Result<(), QueueFull> {
        self.clock = now;
        if self.state.is_open() && self.queue.is_empty() {
            self.transmit(frame, Some(now));
            return Ok(());
        }
        let r = self.queue.push(frame, now);
        if r.is_err() {
            self.metrics.queue_rejected += 1;
        }
        self.sync_queue_metrics();
        r
    }

    /// Transmit now or refuse; never queue. If the socket turns out to be
    /// closing when the glue tries, the frame is dropped and the glue tells
    /// the caller (see [`Cmd::Transmit`]).
    pub fn try_send(&mut self, frame: Frame) -> Result<(), NotOpen> {
        if !(self.state.is_open() && self.queue.is_empty()) {
            return Err(NotOpen);
        }
        self.transmit(frame, None);
        Ok(())
    }

    /// Frames the glue could not hand to the socket (it was no longer open),
    /// with the time each was queued, in their original order: they go back
    /// to the front of the queue.
    pub fn untransmitted(&mut self, frames: Vec<(Frame, f64)>) {
        for (frame, queued_at) in frames.into_iter().rev() {
            self.uncount(&frame);
            self.queue.push_front(frame, queued_at);
        }
        self.sync_queue_metrics();
    }

    /// A `try_send` frame the glue could not hand over: not requeued, only
    /// uncounted.
    pub fn not_transmitted(&mut self, frame: &Frame) {
        self.uncount(frame);
    }

    /// Hand over every queued frame, oldest first (a cross-tab leader
    /// stepping down gives them to its follower side, so none is lost).
    pub fn take_queued(&mut self) -> Vec<Frame> {
        let mut out = Vec::new();
        while let Some((frame, _)) = self.queue.pop() {
            out.push(frame);
        }
        self.sync_queue_metrics();
        out
    }

    /// A frame the glue sent on its own (handshake, ping): counted.
    pub fn sent_by_glue(&mut self, bytes: usize) {
        self.metrics.frames_out += 1;
        self.metrics.bytes_out += bytes as u64;
    }

    fn uncount(&mut self, frame: &Frame) {
        self.metrics.frames_out = self.metrics.frames_out.saturating_sub(1);
        self.metrics.bytes_out = self.metrics.bytes_out.saturating_sub(frame.len() as u64);
    }

    pub(super) fn transmit(&mut self, frame: Frame, queued_at: Option<f64>) {
        self.sent_by_glue(frame.len());
        self.cmds.push(Cmd::Transmit { frame, queued_at });
    }

    /// Send everything queued, oldest first, dropping (and reporting) what
    /// waited longer than the queue's time limit.
    pub(super) fn flush_queue(&mut self, now: f64) {
        if let Some(ttl) = self.cfg.queue_ttl_ms {
            let expired = self.queue.expire_before(now - ttl);
            if expired > 0 {
                self.metrics.queue_expired += expired as u64;
                self.cmds.push(Cmd::Expired(expired));
            }
        }
        while let Some((frame, at)) = self.queue.pop() {
            self.transmit(frame, Some(at));
        }
        self.sync_queue_metrics();
    }

    pub(super) fn sync_queue_metrics(&mut self) {
        self.metrics.queued = self.queue.len();
        self.metrics.queue_high_water = self.queue.high_water();
    }
}
