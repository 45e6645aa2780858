//! Reconnect-storm simulation: many clients, each a real [`Driver`], dropped
//! at the same instant, reconnecting against a server that is down for a
//! while. It shows whether the backoff spreads the load or sends it in waves.
//! Pure and deterministic (seeded), so `make bench` prints the same figures
//! on every machine. It is not part of the shipped library: the storm test
//! (`tests/storm.rs`) and `cargo bench --bench storm` include it.

#![allow(dead_code)] // shared by the storm test and the storm bench

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use tether_ws::backoff::{RandomSource, SplitMix64};
use tether_ws::config::DriverConfig;
use tether_ws::driver::{Cmd, Driver, TimerKind};

#[derive(Clone)]
pub struct StormConfig {
    pub clients: usize,
    /// The server refuses connections until this time (ms after the drop).
    pub down_ms: f64,
    /// How long a refused connection attempt takes to fail.
    pub refuse_ms: f64,
    /// How long a successful handshake takes.
    pub handshake_ms: f64,
    pub bucket_ms: f64,
    pub horizon_ms: f64,
    pub seed: u64,
    pub driver: DriverConfig,
}

impl Default for StormConfig {
    fn default() -> Self {
        Self {
            clients: 10_000,
            down_ms: 0.0,
            refuse_ms: 5.0,
            handshake_ms: 20.0,
            bucket_ms: 100.0,
            horizon_ms: 60_000.0,
            seed: 2026,
            driver: DriverConfig { heartbeat: None, ..DriverConfig::default() },
        }
    }
}

#[derive(Clone, Debug)]
pub struct StormReport {
    /// Connection attempts started in each bucket.
    pub buckets: Vec<u32>,
    pub attempts: u64,
    /// Clients open at the end of the horizon.
    pub reconnected: usize,
    /// When the last client got back, ms after the drop.
    pub last_open_ms: f64,
}

impl StormReport {
    pub fn peak(&self) -> u32 {
        self.buckets.iter().copied().max().unwrap_or(0)
    }

    pub fn mean_nonempty(&self) -> f64 {
        let non_empty: Vec<_> = self.buckets.iter().filter(|b| **b > 0).collect();
        if non_empty.is_empty() {
            return 0.0;
        }
        non_empty.iter().map(|b| **b as f64).sum::<f64>() / non_empty.len() as f64
    }

    pub fn peak_over_mean(&self) -> f64 {
        let m = self.mean_nonempty();
        if m == 0.0 { 0.0 } else { self.peak() as f64 / m }
    }
}

enum Ev {
    Timer(TimerKind),
    Opened,
    Refused,
}

pub fn simulate(cfg: &StormConfig) -> StormReport {
    let seed = cfg.seed;
    simulate_with(cfg, move |i| Box::new(SplitMix64(seed.wrapping_mul(1_000_003).wrapping_add(i as u64))))
}

/// Like [`simulate`], with each client's random source made by `rng(i)`.
pub fn simulate_with(cfg: &StormConfig, rng: impl Fn(usize) -> Box<dyn RandomSource>) -> StormReport {
    let n_buckets = (cfg.horizon_ms / cfg.bucket_ms).ceil() as usize;
    let mut buckets = vec![0u32; n_buckets];
    let mut attempts = 0u64;
    let mut drivers: Vec<Driver> = (0..cfg.clients)
        .map(|i| {
            let mut d = Driver::new(cfg.driver.clone(), rng(i));
            d.set_url(Ok("ws://sim/ws".into()), 0.0);
            d
        })
        .collect();
    // Each timer kind of each client has a generation, so a cancelled or
    // replaced timer that is still in the heap is ignored when it pops.
    let mut timer_gen = vec![[0u64; 5]; cfg.clients];
    let mut heap: BinaryHeap<Reverse<(u64, usize, u64, u8)>> = BinaryHeap::new();
    let mut pending: Vec<Vec<(u64, Ev)>> = (0..cfg.clients).map(|_| Vec::new()).collect();
    let mut seq = 0u64;
    let key = |t: f64| (t * 1000.0) as u64; // µs, for a total order

    // Everyone connected, then dropped at t = 0.
    for (i, d) in drivers.iter_mut().enumerate() {
        d.open(-1.0);
        d.on_open(-1.0);
        d.take_commands();
        d.on_close(1006, String::new(), 0.0);
        let cmds = d.take_commands();
        apply(i, 0.0, cmds, cfg, &mut heap, &mut pending, &mut timer_gen, &mut seq, &mut buckets, &mut attempts, key);
    }
    let mut last_open_ms = 0.0f64;
    while let Some(Reverse((t_us, i, s, _))) = heap.pop() {
        let now = t_us as f64 / 1000.0;
        if now > cfg.horizon_ms {
            break;
        }
        let Some(pos) = pending[i].iter().position(|(id, _)| *id == s) else { continue };
        let (_, ev) = pending[i].swap_remove(pos);
        let d = &mut drivers[i];
        match ev {
            Ev::Timer(kind) => d.on_timer(kind, now),
            Ev::Opened => {
                d.on_open(now);
                last_open_ms = last_open_ms.max(now);
            }
            Ev::Refused => d.on_close(1006, String::new(), now),
        }
        let cmds = d.take_commands();
        apply(i, now, cmds, cfg, &mut heap, &mut pending, &mut timer_gen, &mut seq, &mut buckets, &mut attempts, key);
    }
    let reconnected = drivers.iter().filter(|d| d.state().is_open()).count();
    StormReport { buckets, attempts, reconnected, last_open_ms }
}

#[allow(clippy::too_many_arguments)]
fn apply(
    i: usize,
    now: f64,
    cmds: Vec<Cmd>,
    cfg: &StormConfig,
    heap: &mut BinaryHeap<Reverse<(u64, usize, u64, u8)>>,
    pending: &mut [Vec<(u64, Ev)>],
    timer_gen: &mut [[u64; 5]],
    seq: &mut u64,
    buckets: &mut [u32],
    attempts: &mut u64,
    key: impl Fn(f64) -> u64,
) {
    let slot = |k: TimerKind| k as usize;
    for c in cmds {
        match c {
            Cmd::Connect { .. } => {
                *attempts += 1;
                if let Some(b) = buckets.get_mut((now / cfg.bucket_ms) as usize) {
                    *b += 1;
                }
                let (at, ev) = if now >= cfg.down_ms {
                    (now + cfg.handshake_ms, Ev::Opened)
                } else {
                    (now + cfg.refuse_ms, Ev::Refused)
                };
                *seq += 1;
                pending[i].push((*seq, ev));
                heap.push(Reverse((key(at), i, *seq, 0)));
            }
            Cmd::SetTimer { kind, delay_ms } => {
                // Replacing a timer: drop the old pending entry of that kind.
                let old = timer_gen[i][slot(kind)];
                pending[i].retain(|(id, _)| *id != old);
                *seq += 1;
                timer_gen[i][slot(kind)] = *seq;
                pending[i].push((*seq, Ev::Timer(kind)));
                heap.push(Reverse((key(now + delay_ms), i, *seq, 1)));
            }
            Cmd::CancelTimer(kind) => {
                let old = timer_gen[i][slot(kind)];
                pending[i].retain(|(id, _)| *id != old);
            }
            _ => {}
        }
    }
}

/// The storm check: the busiest bucket is at most twice the mean of the
/// non-empty ones, and holds at most a quarter of all attempts. The ratio
/// alone cannot fail for clients in perfect lockstep (every non-empty bucket
/// is equally full), hence the second half.
pub fn spread_ok(r: &StormReport) -> bool {
    r.peak_over_mean() <= 2.0 && f64::from(r.peak()) <= 0.25 * r.attempts as f64
}
