//! The reconnect-storm check on 10,000 real drivers: full jitter spreads a
//! mass reconnect out instead of sending it in waves.

mod support;

use support::storm::*;

#[test]
fn ten_thousand_clients_reconnect_spread_out_not_in_waves() {
    let r = simulate(&StormConfig::default());
    assert_eq!(r.reconnected, 10_000, "everyone is back");
    assert!(r.peak_over_mean() <= 2.0, "peak {} vs mean {:.0}", r.peak(), r.mean_nonempty());
    assert!(spread_ok(&r));
}

#[test]
fn the_check_fails_without_jitter_or_with_an_immediate_first_retry() {
    let cfg = StormConfig::default();
    let fixed = simulate_with(&cfg, |_| Box::new(|| 1.0));
    assert_eq!(fixed.reconnected, 10_000);
    assert!(!spread_ok(&fixed), "everyone at the ceiling: peak {}", fixed.peak());
    let immediate = simulate_with(&cfg, |_| Box::new(|| 0.0));
    assert!(!spread_ok(&immediate), "everyone at once: peak {}", immediate.peak());
}
