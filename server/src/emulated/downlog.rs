//! One emulated session's downstream frames: numbered 1, 2, 3, … and kept
//! until the client acknowledges them (a later `after` / `Last-Event-ID`), so
//! a lost response or a dropped stream is simply asked for again.
//!
//! Memory is bounded by the WebSocket outbox's byte budget. Frames not yet
//! sent to anyone past the budget mean the client is too slow: the session
//! ends with 1013, as a slow WebSocket does. Frames already written to an
//! SSE stream are kept only up to [`STREAMED_KEEP`] bytes (a healthy stream
//! never re-asks, so without that cap every SSE session would hold a whole
//! budget of frames it already delivered), and go first when the budget is
//! reached; a client that
//! later re-asks for one of them gets a [`Read::Gap`] and the session ends
//! with 1013 rather than silently skipping them. Pure: no I/O, no clock.

use std::collections::VecDeque;

use axum::extract::ws::Utf8Bytes;

/// Bytes of already-streamed frames kept for a reattach (an SSE stream that
/// dropped mid-frame re-asks from its last id): enough for the frames in
/// flight on a broken connection, small next to the outbox budget.
pub const STREAMED_KEEP: usize = 128 * 1024;

/// How a session ended, as its last downstream "frame".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// Tell the client this close code and reason (SSE `close` event, poll `close`).
    Close { code: u16, reason: String },
    /// Gone without a word (expired, deleted by the client, aborted by a test):
    /// later requests get 410.
    Lost,
}

/// What a reader asking for the frames after `n` gets.
#[derive(Debug, PartialEq, Eq)]
pub enum Read {
    /// The frames after `n` (maybe none yet), and the end if they reach it.
    Frames { frames: Vec<(u64, Utf8Bytes)>, end: Option<End> },
    /// Some frames after `n` are no longer kept.
    Gap,
    /// `n` is past the last frame ever sent.
    Ahead,
}

#[derive(Debug)]
pub struct Downlog {
    frames: VecDeque<(u64, Utf8Bytes)>,
    /// Number of the last frame pushed (0 before any).
    last: u64,
    bytes: usize,
    budget: usize,
    /// Highest number written to an SSE stream.
    streamed: u64,
    /// Bytes of the kept frames numbered up to `streamed`.
    streamed_bytes: usize,
    /// Frames up to this number were dropped unacknowledged (streamed ones).
    dropped: u64,
    end: Option<End>,
}

impl Downlog {
    pub fn new(budget: usize) -> Self {
        Self {
            frames: VecDeque::new(),
            last: 0,
            bytes: 0,
            budget,
            streamed: 0,
            streamed_bytes: 0,
            dropped: 0,
            end: None,
        }
    }

    /// Numbers and keeps `frame`; false (and nothing kept) when it does not
    /// fit the budget even after dropping streamed frames: too slow a client.
    pub fn push(&mut self, frame: Utf8Bytes) -> bool {
        let len = frame.len();
        while self.bytes + len > self.budget {
            match self.frames.front() {
                Some(&(n, _)) if n <= self.streamed => self.pop_front(true),
                _ => return false,
            }
        }
        self.last += 1;
        self.bytes += len;
        self.frames.push_back((self.last, frame));
        true
    }

    fn pop_front(&mut self, unacked: bool) {
        if let Some((n, f)) = self.frames.pop_front() {
            self.bytes -= f.len();
            if n <= self.streamed {
                self.streamed_bytes -= f.len();
            }
            if unacked {
                self.dropped = n;
            }
        }
    }

    /// The client has processed every frame up to `n`.
    pub fn ack(&mut self, n: u64) {
        while self.frames.front().is_some_and(|&(m, _)| m <= n) {
            self.pop_front(false);
        }
    }

    /// Frames after `n`, at most about `max_bytes` of them (always at least
    /// one when any is waiting), and the end when they reach it.
    pub fn read(&self, n: u64, max_bytes: usize) -> Read {
        if n > self.last {
            return Read::Ahead;
        }
        if n < self.dropped {
            return Read::Gap;
        }
        let mut frames = Vec::new();
        let mut size = 0;
        for (m, f) in self.frames.iter().filter(|(m, _)| *m > n) {
            if !frames.is_empty() && size + f.len() > max_bytes {
                return Read::Frames { frames, end: None };
            }
            size += f.len();
            frames.push((*m, f.clone()));
        }
        Read::Frames { frames, end: self.end.clone() }
    }

    /// Frames up to `n` went out on an SSE stream.
    /// Beyond [`STREAMED_KEEP`] bytes of them, the oldest are dropped.
    pub fn streamed(&mut self, n: u64) {
        let n = n.min(self.last);
        if n <= self.streamed {
            return;
        }
        let first = self.frames.front().map_or(self.last + 1, |&(m, _)| m);
        let from = usize::try_from(self.streamed.max(first - 1) + 1 - first).unwrap_or(usize::MAX);
        let to = usize::try_from((n + 1).saturating_sub(first)).unwrap_or(usize::MAX);
        self.streamed_bytes += self.frames.range(from.min(to)..to).map(|(_, f)| f.len()).sum::<usize>();
        self.streamed = n;
        while self.streamed_bytes > STREAMED_KEEP {
            self.pop_front(true);
        }
    }

    /// Records how the session ended (the first ending wins).
    pub fn finish(&mut self, end: End) {
        self.end.get_or_insert(end);
    }

    pub fn end(&self) -> Option<&End> {
        self.end.as_ref()
    }

    pub fn last(&self) -> u64 {
        self.last
    }

    #[cfg(test)]
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> Utf8Bytes {
        Utf8Bytes::from(s.to_owned())
    }

    fn numbers(r: Read) -> (Vec<u64>, Option<End>) {
        match r {
            Read::Frames { frames, end } => (frames.into_iter().map(|(n, _)| n).collect(), end),
            other => panic!("expected frames, got {other:?}"),
        }
    }

    #[test]
    fn frames_are_kept_until_acknowledged_and_reread_after_any_number() {
        let mut log = Downlog::new(100);
        for s in ["a", "b", "c"] {
            assert!(log.push(f(s)));
        }
        assert_eq!(numbers(log.read(0, 100)), (vec![1, 2, 3], None));
        assert_eq!(numbers(log.read(2, 100)), (vec![3], None));
        log.ack(2);
        assert_eq!(log.bytes(), 1);
        assert_eq!(numbers(log.read(2, 100)), (vec![3], None));
        assert_eq!(log.read(4, 100), Read::Ahead);
        log.finish(End::Close { code: 1001, reason: "bye".into() });
        log.finish(End::Lost);
        assert_eq!(numbers(log.read(3, 100)).1, Some(End::Close { code: 1001, reason: "bye".into() }));
    }

    #[test]
    fn a_read_is_capped_in_bytes_but_always_moves_on() {
        let mut log = Downlog::new(100);
        for s in ["aaaa", "bbbb", "cccc"] {
            log.push(f(s));
        }
        log.finish(End::Lost);
        assert_eq!(numbers(log.read(0, 8)), (vec![1, 2], None), "no end before the last frame");
        assert_eq!(numbers(log.read(0, 1)), (vec![1], None));
        assert_eq!(numbers(log.read(2, 1)), (vec![3], Some(End::Lost)));
    }

    #[test]
    fn unsent_frames_over_the_budget_are_refused() {
        let mut log = Downlog::new(8);
        assert!(log.push(f("aaaa")));
        assert!(log.push(f("bbbb")));
        assert!(!log.push(f("c")), "too slow: the session must end");
        assert_eq!(log.last(), 2);
    }

    #[test]
    fn streamed_frames_make_room_and_re_asking_for_them_is_a_gap() {
        let mut log = Downlog::new(8);
        log.push(f("aaaa"));
        log.push(f("bbbb"));
        log.streamed(1);
        assert!(log.push(f("cc")), "frame 1 was streamed: dropped to make room");
        assert_eq!(log.read(0, 100), Read::Gap);
        assert_eq!(numbers(log.read(1, 100)), (vec![2, 3], None));
        assert!(!log.push(f("dddd")), "frame 2 was never streamed: kept");
    }

    #[test]
    fn streamed_frames_are_kept_only_up_to_a_small_cap() {
        let mut log = Downlog::new(64 * STREAMED_KEEP);
        let frame = "x".repeat(1024);
        for _ in 0..1000 {
            assert!(log.push(f(&frame)));
        }
        log.streamed(500);
        assert!(log.bytes() <= 500 * 1024 + STREAMED_KEEP, "kept {} bytes", log.bytes());
        assert_eq!(log.read(300, usize::MAX), Read::Gap);
        log.ack(400);
        log.streamed(1000);
        assert!(log.bytes() <= STREAMED_KEEP, "kept {} bytes", log.bytes());
        assert_eq!(numbers(log.read(999, usize::MAX)), (vec![1000], None));
    }
}
