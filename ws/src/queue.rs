//! The bounded send queue: frames handed to `send` while the socket is not
//! open wait here and go out in order, first thing after the next open.
//!
//! It is bounded because an app that keeps sending while offline for hours
//! would otherwise grow without limit; when it is full, `send` returns
//! [`QueueFull`] so the caller can show it. A frame may also carry a time
//! limit: one that waited longer is dropped at the next flush and reported,
//! never sent late behind the user's back. Nothing is dropped silently.

use crate::codec::Frame;
use std::collections::VecDeque;

/// `send` was refused because the queue holds `capacity` frames already.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[error("send queue is full ({capacity} messages waiting); try again once connected")]
pub struct QueueFull {
    /// The queue's bound, from the options.
    pub capacity: usize,
}

/// A frame waiting for the socket, with the time it was queued.
#[derive(Debug, Clone, PartialEq)]
struct Waiting {
    frame: Frame,
    queued_at: f64,
}

/// FIFO of frames waiting for an open socket.
#[derive(Debug, Clone)]
pub struct SendQueue {
    frames: VecDeque<Waiting>,
    capacity: usize,
    high_water: usize,
}

impl SendQueue {
    /// An empty queue holding at most `capacity` frames (at least one).
    pub fn new(capacity: usize) -> Self {
        Self { frames: VecDeque::new(), capacity: capacity.max(1), high_water: 0 }
    }

    /// Append a frame queued at `now`, or refuse it when full.
    pub fn push(&mut self, frame: Frame, now: f64) -> Result<(), QueueFull> {
        if self.frames.len() >= self.capacity {
            return Err(QueueFull { capacity: self.capacity });
        }
        self.frames.push_back(Waiting { frame, queued_at: now });
        self.high_water = self.high_water.max(self.frames.len());
        Ok(())
    }

    /// Put a frame back at the front: its transmission failed and it must keep
    /// its place ahead of everything queued after it. May exceed capacity by
    /// the frames being returned; those were admitted already.
    pub fn push_front(&mut self, frame: Frame, queued_at: f64) {
        self.frames.push_front(Waiting { frame, queued_at });
    }

    /// Take the oldest frame with the time it was queued.
    pub fn pop(&mut self) -> Option<(Frame, f64)> {
        self.frames.pop_front().map(|w| (w.frame, w.queued_at))
    }

    /// Drop every frame queued before `cutoff`; returns how many.
    pub fn expire_before(&mut self, cutoff: f64) -> usize {
        let before = self.frames.len();
        self.frames.retain(|w| w.queued_at >= cutoff);
        before - self.frames.len()
    }

    /// Frames waiting now.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// The most frames that ever waited at once.
    pub fn high_water(&self) -> usize {
        self.high_water
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> Frame {
        s.into()
    }

    fn pop(q: &mut SendQueue) -> Option<Frame> {
        q.pop().map(|(f, _)| f)
    }

    #[test]
    fn fifo_and_bounded() {
        let mut q = SendQueue::new(2);
        q.push(f("a"), 0.0).unwrap();
        q.push(f("b"), 0.0).unwrap();
        assert_eq!(q.push(f("c"), 0.0), Err(QueueFull { capacity: 2 }));
        assert_eq!(q.len(), 2, "a refused frame is not half-added");
        assert_eq!(pop(&mut q), Some(f("a")));
        q.push(f("c"), 0.0).unwrap();
        assert_eq!(pop(&mut q), Some(f("b")));
        assert_eq!(pop(&mut q), Some(f("c")));
        assert_eq!(pop(&mut q), None);
        assert_eq!(q.high_water(), 2);
    }

    #[test]
    fn a_failed_frame_keeps_its_place_and_its_age() {
        let mut q = SendQueue::new(3);
        q.push(f("a"), 1.0).unwrap();
        q.push(f("b"), 2.0).unwrap();
        let (first, at) = q.pop().unwrap();
        q.push_front(first, at);
        assert_eq!(q.pop(), Some((f("a"), 1.0)));
        assert_eq!(pop(&mut q), Some(f("b")));
    }

    #[test]
    fn old_frames_expire_and_are_counted() {
        let mut q = SendQueue::new(10);
        for (i, t) in [0.0, 5.0, 10.0].into_iter().enumerate() {
            q.push(f(&i.to_string()), t).unwrap();
        }
        assert_eq!(q.expire_before(6.0), 2);
        assert_eq!(pop(&mut q), Some(f("2")));
    }

    #[test]
    fn zero_capacity_is_treated_as_one() {
        let mut q = SendQueue::new(0);
        assert!(q.push(f("a"), 0.0).is_ok());
        assert!(q.push(f("b"), 0.0).is_err());
    }
}
