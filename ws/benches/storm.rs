//! `cargo bench --bench storm` (run by `make bench`): the reconnect-storm simulation's figures. Deterministic; it
//! prints, it does not judge (the unit tests do).
#[path = "../tests/support/storm.rs"]
mod storm;

use storm::{StormConfig, StormReport, simulate, simulate_with};
use tether_ws::backoff::{RandomSource, SplitMix64};

fn show(title: &str, r: &StormReport) {
    println!("{title}");
    println!(
        "  attempts {:>6}  reconnected {:>5}  last back at {:>6.0} ms  peak/100ms {:>5}  mean(non-empty) {:>7.1}  peak/mean {:.2}",
        r.attempts,
        r.reconnected,
        r.last_open_ms,
        r.peak(),
        r.mean_nonempty(),
        r.peak_over_mean()
    );
    let secs: Vec<u32> = r.buckets.chunks(10).map(|c| c.iter().sum()).collect();
    let last = secs.iter().rposition(|s| *s > 0).map_or(0, |i| i + 1);
    println!("  attempts per second, first {last} s: {:?}", &secs[..last]);
}

fn main() {
    let base = StormConfig::default();
    println!(
        "Reconnect storm: {} clients dropped at t=0, buckets of {} ms over {} s",
        base.clients,
        base.bucket_ms,
        base.horizon_ms / 1000.0
    );
    show("server back at once (full jitter, base 500 ms, cap 30 s):", &simulate(&base));
    for down in [5_000.0, 30_000.0] {
        let cfg = StormConfig { down_ms: down, ..base.clone() };
        show(&format!("server down for {} s:", down / 1000.0), &simulate(&cfg));
    }
    let cfg = StormConfig { down_ms: 5_000.0, ..base.clone() };
    let immediate = simulate_with(&cfg, |i| {
        let mut inner = SplitMix64(i as u64);
        let mut first = true;
        Box::new(move || if std::mem::take(&mut first) { 0.0 } else { inner.next_f64() })
    });
    show("for comparison, a client that retries the first time immediately (down 5 s):", &immediate);
}
