//! Reconnect delays: exponential backoff with full jitter.
//!
//! `delay = random(0, min(cap, base * 2^attempt))`. Full jitter (rather than
//! "base plus a little noise") is what spreads thousands of clients dropped by
//! the same server restart evenly over the window instead of letting them
//! return in synchronized waves. The random source is injected so tests and
//! the storm simulation are reproducible.

/// A source of uniform numbers in `[0, 1)`. The browser glue uses
/// `Math.random`; tests use [`SplitMix64`] with a fixed seed.
pub trait RandomSource {
    /// The next number, in `[0, 1)`.
    fn next_f64(&mut self) -> f64;
}

/// Small, fast, seedable generator; plenty for jitter, not for secrets.
#[derive(Clone, Debug)]
pub struct SplitMix64(pub u64);

impl RandomSource for SplitMix64 {
    fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl<F: FnMut() -> f64> RandomSource for F {
    fn next_f64(&mut self) -> f64 {
        self()
    }
}

/// Backoff parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct BackoffConfig {
    /// First ceiling, in ms. Default 500.
    pub base_ms: f64,
    /// Largest ceiling, in ms. Default 30 000.
    pub cap_ms: f64,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        Self { base_ms: 500.0, cap_ms: 30_000.0 }
    }
}

impl BackoffConfig {
    /// The upper bound of the delay before retry number `attempt` (0-based).
    pub fn ceiling_ms(&self, attempt: u32) -> f64 {
        // 2^attempt overflows nothing in f64 until ~1000; clamp the exponent
        // anyway so the cap is reached without infinities.
        let exp = 2f64.powi(attempt.min(60) as i32);
        (self.base_ms * exp).min(self.cap_ms).max(0.0)
    }

    /// A full-jitter delay for retry number `attempt` (0-based).
    pub fn delay_ms(&self, attempt: u32, rng: &mut dyn RandomSource) -> f64 {
        let r = rng.next_f64().clamp(0.0, 1.0);
        r * self.ceiling_ms(attempt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceiling_doubles_then_caps() {
        let c = BackoffConfig::default();
        assert_eq!(c.ceiling_ms(0), 500.0);
        assert_eq!(c.ceiling_ms(1), 1000.0);
        assert_eq!(c.ceiling_ms(5), 16_000.0);
        assert_eq!(c.ceiling_ms(6), 30_000.0);
        assert_eq!(c.ceiling_ms(u32::MAX), 30_000.0);
    }

    #[test]
    fn delays_stay_in_bounds_and_average_half_the_ceiling() {
        let c = BackoffConfig { base_ms: 250.0, cap_ms: 10_000.0 };
        let mut rng = SplitMix64(42);
        for attempt in 0..12 {
            let n = 20_000;
            let ceiling = c.ceiling_ms(attempt);
            let mut sum = 0.0;
            for _ in 0..n {
                let d = c.delay_ms(attempt, &mut rng);
                assert!((0.0..=ceiling).contains(&d), "attempt {attempt}: {d} outside 0..={ceiling}");
                sum += d;
            }
            let mean = sum / n as f64;
            let expected = ceiling / 2.0;
            assert!((mean - expected).abs() <= expected * 0.10, "attempt {attempt}: mean {mean}, expected {expected}");
        }
    }

    #[test]
    fn seeded_source_is_reproducible_and_uniformish() {
        let a: Vec<f64> = {
            let mut r = SplitMix64(7);
            (0..5).map(|_| r.next_f64()).collect()
        };
        let b: Vec<f64> = {
            let mut r = SplitMix64(7);
            (0..5).map(|_| r.next_f64()).collect()
        };
        assert_eq!(a, b);
        let mut r = SplitMix64(1);
        let mut buckets = [0u32; 10];
        for _ in 0..100_000 {
            let x = r.next_f64();
            assert!((0.0..1.0).contains(&x));
            buckets[(x * 10.0) as usize] += 1;
        }
        for b in buckets {
            assert!((9_000..11_000).contains(&b), "{buckets:?}");
        }
    }

    #[test]
    fn a_misbehaving_source_cannot_push_delays_out_of_bounds() {
        let c = BackoffConfig::default();
        let mut big = || 7.0;
        assert_eq!(c.delay_ms(0, &mut big), 500.0);
        let mut neg = || -1.0;
        assert_eq!(c.delay_ms(3, &mut neg), 0.0);
    }
}
