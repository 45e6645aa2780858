//! The bounded send queue: frames handed to `send` while the socket is not
//! open wait here and go out in order, first thing after the next open.
//!
//! It is bounded because an app that keeps sending while offline for hours
//! would otherwise grow without limit; when it is full, `send` returns
//! [`QueueFull`] so the caller can show it. Nothing is ever dropped silently.

use std::collections::VecDeque;

/// `send` was refused because the queue holds `capacity` frames already.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[error("send queue is full ({capacity} messages waiting); try again once connected")]
pub struct QueueFull {
    pub capacity: usize,
}

#[derive(Debug, Clone)]
pub struct SendQueue {
    frames: VecDeque<String>,
    capacity: usize,
    high_water: usize,
}

impl SendQueue {
    pub fn new(capacity: usize) -> Self {
        Self { frames: VecDeque::new(), capacity: capacity.max(1), high_water: 0 }
    }

    pub fn push(&mut self, frame: String) -> Result<(), QueueFull> {
        if self.frames.len() >= self.capacity {
            return Err(QueueFull { capacity: self.capacity });
        }
        self.frames.push_back(frame);
        self.high_water = self.high_water.max(self.frames.len());
        Ok(())
    }

    /// Put a frame back at the front: its transmission failed and it must keep
    /// its place ahead of everything queued after it. May exceed capacity by
    /// the frames being returned; those were admitted already.
    pub fn push_front(&mut self, frame: String) {
        self.frames.push_front(frame);
    }

    pub fn pop(&mut self) -> Option<String> {
        self.frames.pop_front()
    }

    pub fn len(&self) -> usize {
        self.frames.len()
    }

    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    pub fn high_water(&self) -> usize {
        self.high_water
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_and_bounded() {
        let mut q = SendQueue::new(2);
        q.push("a".into()).unwrap();
        q.push("b".into()).unwrap();
        assert_eq!(q.push("c".into()), Err(QueueFull { capacity: 2 }));
        assert_eq!(q.len(), 2, "a refused frame is not half-added");
        assert_eq!(q.pop().as_deref(), Some("a"));
        q.push("c".into()).unwrap();
        assert_eq!(q.pop().as_deref(), Some("b"));
        assert_eq!(q.pop().as_deref(), Some("c"));
        assert_eq!(q.pop(), None);
        assert_eq!(q.high_water(), 2);
    }

    #[test]
    fn a_failed_frame_keeps_its_place() {
        let mut q = SendQueue::new(3);
        for f in ["a", "b"] {
            q.push(f.into()).unwrap();
        }
        let first = q.pop().unwrap();
        q.push_front(first);
        assert_eq!(q.pop().as_deref(), Some("a"));
        assert_eq!(q.pop().as_deref(), Some("b"));
    }

    #[test]
    fn zero_capacity_is_treated_as_one() {
        let mut q = SendQueue::new(0);
        assert!(q.push("a".into()).is_ok());
        assert!(q.push("b".into()).is_err());
    }
}
