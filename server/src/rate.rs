//! A token bucket: `burst` actions at once, refilled at `per_sec`. Pure, with
//! the clock passed in, so it is tested without waiting.

use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct TokenBucket {
    capacity: f64,
    per_sec: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket. A `per_sec` of zero or less never refills.
    pub fn new(burst: u32, per_sec: f64, now: Instant) -> Self {
        let capacity = f64::from(burst.max(1));
        Self { capacity, per_sec: per_sec.max(0.0), tokens: capacity, last: now }
    }

    /// When a token was last asked for.
    pub fn last_used(&self) -> Instant {
        self.last
    }

    /// Takes one token, or says how long until one is available.
    pub fn take(&mut self, now: Instant) -> Result<(), Duration> {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.per_sec).min(self.capacity);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        if self.per_sec <= 0.0 {
            return Err(Duration::from_secs(3600));
        }
        let wait = (1.0 - self.tokens) / self.per_sec;
        Err(Duration::from_secs_f64(wait.min(3600.0)))
    }
}

/// Milliseconds, rounded up so a client that waits exactly this long succeeds.
pub fn retry_ms(d: Duration) -> u64 {
    u64::try_from(d.as_micros().div_ceil(1000)).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill_at_the_rate() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(3, 2.0, t0);
        for _ in 0..3 {
            assert!(b.take(t0).is_ok());
        }
        let wait = b.take(t0).unwrap_err();
        assert_eq!(retry_ms(wait), 500);
        assert!(b.take(t0 + Duration::from_millis(499)).is_err());
        assert!(b.take(t0 + Duration::from_millis(500)).is_ok());
        // A long pause refills to the burst, not beyond.
        let later = t0 + Duration::from_secs(100);
        for _ in 0..3 {
            assert!(b.take(later).is_ok());
        }
        assert!(b.take(later).is_err());
    }

    #[test]
    fn zero_rate_never_refills() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(1, 0.0, t0);
        assert!(b.take(t0).is_ok());
        assert!(b.take(t0 + Duration::from_secs(1000)).is_err());
    }
}
