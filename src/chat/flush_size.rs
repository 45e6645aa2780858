//! How many queued inbound messages one flush hands to the chat: as many as
//! fit a time budget, judged by what the last flushes cost per message. A
//! fixed count is wrong on one machine or the other: 1,000 per frame came
//! with frame callbacks of 48 to 115 ms on a slow 2-core machine (the
//! bench's chat burst; a long task, the page stalls), while on a fast one a
//! smaller count would only hold the burst back. Pure: the caller measures
//! and reports each flush.

/// What one flush may cost, leaving the frame's render its share of the
/// 50 ms after which a task counts as long.
const BUDGET_MS: f64 = 20.0;
/// Fewest per flush, whatever the cost: a burst always moves on.
pub const MIN_PER_FLUSH: usize = 100;
/// Most per flush, however cheap.
pub const MAX_PER_FLUSH: usize = 1000;
/// Before anything was measured: about what a slow machine applies within
/// the budget. A fast one grows to its own figure after one flush.
pub const START_PER_FLUSH: usize = 200;
/// Flushes smaller than this say little about the cost per message (the
/// fixed part dominates): not counted.
const MIN_SAMPLE: usize = 20;

/// The cost per message of recent flushes, and the count it allows.
#[derive(Debug, Default)]
pub struct FlushSize {
    /// Milliseconds per message, smoothed over recent flushes; `None` until
    /// a flush big enough to judge by was measured.
    per_item_ms: Option<f64>,
}

impl FlushSize {
    /// How many of the queued messages the next flush takes.
    pub fn next(&self) -> usize {
        match self.per_item_ms {
            Some(ms) if ms > 0.0 => ((BUDGET_MS / ms) as usize).clamp(MIN_PER_FLUSH, MAX_PER_FLUSH),
            Some(_) => MAX_PER_FLUSH,
            None => START_PER_FLUSH,
        }
    }

    /// A flush of `items` messages took `ms`. Halfway between the old figure
    /// and the new one: a single slow flush (a garbage collection) moves the
    /// size, but does not set it alone.
    pub fn record(&mut self, items: usize, ms: f64) {
        if items < MIN_SAMPLE || !ms.is_finite() || ms < 0.0 {
            return;
        }
        let now = ms / items as f64;
        self.per_item_ms = Some(self.per_item_ms.map_or(now, |old| (old + now) / 2.0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unmeasured_starts_at_what_a_slow_machine_handles() {
        assert_eq!(FlushSize::default().next(), START_PER_FLUSH);
    }

    #[test]
    fn a_slow_flush_makes_the_next_smaller_and_a_fast_one_lets_it_grow_back() {
        let mut s = FlushSize::default();
        s.record(1000, 80.0); // 0.08 ms each: 20 ms is 250
        assert_eq!(s.next(), 250);
        s.record(250, 5.0); // 0.02 ms each: halfway, 0.05 ms: 400
        assert_eq!(s.next(), 400);
        s.record(400, 8.0);
        s.record(1000, 10.0);
        s.record(1000, 10.0);
        assert_eq!(s.next(), MAX_PER_FLUSH);
    }

    #[test]
    fn the_size_stays_within_its_bounds() {
        let mut s = FlushSize::default();
        s.record(100, 1_000.0);
        assert_eq!(s.next(), MIN_PER_FLUSH);
        let mut s = FlushSize::default();
        s.record(1000, 0.0);
        assert_eq!(s.next(), MAX_PER_FLUSH);
    }

    #[test]
    fn small_or_nonsense_samples_are_not_counted() {
        let mut s = FlushSize::default();
        s.record(5, 100.0);
        s.record(1000, f64::NAN);
        s.record(1000, -1.0);
        assert_eq!(s.next(), START_PER_FLUSH);
    }
}
