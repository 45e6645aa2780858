//! Per-address token buckets for requests that are cheap one by one but not
//! by the thousand: starting an emulated session (each costs a token, a
//! session and a lifecycle task, so a client looping on it must be slowed
//! down, not just capped in live sessions) and the browsers' reports
//! (`/client-metrics`, `/csp-report`: a flood would skew the histograms and
//! fill the log).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::rate::TokenBucket;

/// Addresses tracked at most; past it, buckets refilled to full are
/// forgotten (they would start full anyway), so memory stays bounded.
const TRACKED: usize = 10_000;

#[derive(Default)]
pub struct AddrRate {
    buckets: Mutex<HashMap<Option<IpAddr>, TokenBucket>>,
}

impl AddrRate {
    /// Takes a token for `ip`, or says how long until one is allowed.
    pub fn take(&self, ip: Option<IpAddr>, burst: u32, per_sec: f64, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= TRACKED && !buckets.contains_key(&ip) {
            let full_after = Duration::from_secs_f64(f64::from(burst) / per_sec.max(1e-3));
            buckets.retain(|_, b| now.saturating_duration_since(b.last_used()) < full_after);
            if buckets.len() >= TRACKED {
                return Err(Duration::from_secs(1)); // a flood from everywhere: wait
            }
        }
        buckets.entry(ip).or_insert_with(|| TokenBucket::new(burst, per_sec, now)).take(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_has_its_own_burst() {
        let (rate, now) = (AddrRate::default(), Instant::now());
        let (a, b) = (Some(IpAddr::from([10, 0, 0, 1])), Some(IpAddr::from([10, 0, 0, 2])));
        assert!(rate.take(a, 2, 1.0, now).is_ok());
        assert!(rate.take(a, 2, 1.0, now).is_ok());
        assert!(rate.take(a, 2, 1.0, now).is_err());
        assert!(rate.take(b, 2, 1.0, now).is_ok());
        assert!(rate.take(a, 2, 1.0, now + Duration::from_secs(1)).is_ok());
    }
}
