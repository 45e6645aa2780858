//! The election's rules, natively, with times passed in: who leads, when a
//! silent or frozen leader is replaced, and when a stale one steps down.

use super::ElectionCmd::*;
use super::*;

fn started(me: TabId, highest: u64) -> Election {
    let mut e = Election::new(me, ElectionConfig::default());
    e.start(highest, 0.0);
    e
}

#[test]
fn the_lock_holder_leads() {
    let mut e = started(1, 3);
    assert_eq!(e.take_commands(), vec![Request(3)]);
    e.granted(3, 10.0);
    assert_eq!(e.take_commands(), vec![Lead(3)]);
    assert!(e.leading());
    assert_eq!(e.leader(), Some(1));
}

#[test]
fn a_silent_leader_is_replaced_at_the_next_epoch() {
    let mut e = started(2, 0);
    e.take_commands();
    assert!(e.heard(1, 0, 500.0));
    for t in [1_500.0, 2_500.0, 3_500.0, 4_500.0, 5_400.0] {
        assert!(!e.tick(t), "still within the grace period at {t}");
    }
    assert!(!e.tick(6_000.0));
    assert_eq!(e.take_commands(), vec![Probe], "asked first");
    assert!(e.tick(7_000.0));
    assert_eq!(e.take_commands(), vec![Abort(0), Request(1)]);
    e.granted(1, 7_010.0);
    assert_eq!(e.take_commands(), vec![Lead(1)]);
    assert_eq!(e.leader_changes(), 1);
}

#[test]
fn a_throttled_leader_that_answers_the_probe_is_kept() {
    let mut e = started(2, 0);
    e.heard(1, 0, 0.0);
    e.take_commands();
    for t in 1..=5 {
        e.tick(t as f64 * 1_000.0);
    }
    assert_eq!(e.take_commands(), vec![Probe]);
    e.heard(1, 0, 5_050.0);
    assert!(!e.tick(6_000.0));
    assert!(e.take_commands().is_empty());
    assert_eq!(e.epoch(), 0);
}

#[test]
fn beats_keep_the_leader() {
    let mut e = started(2, 0);
    e.take_commands();
    for i in 1..20 {
        let t = i as f64 * 1_000.0;
        e.heard(1, 0, t - 100.0);
        assert!(!e.tick(t));
    }
    assert!(e.take_commands().is_empty());
}

#[test]
fn a_tab_that_was_frozen_itself_listens_before_judging() {
    let mut e = started(2, 0);
    e.take_commands();
    e.heard(1, 0, 900.0);
    assert!(!e.tick(1_000.0));
    // Our own page hung for 20 s: the next tick is late.
    assert!(!e.tick(21_000.0));
    assert!(!e.tick(22_000.0));
    e.heard(1, 0, 22_100.0);
    assert!(!e.tick(23_000.0));
    assert!(e.take_commands().is_empty());
}

#[test]
fn a_woken_leader_steps_down_when_it_hears_a_higher_epoch() {
    let mut e = started(1, 0);
    e.granted(0, 0.0);
    e.take_commands();
    // A stale word from epoch 0 changes nothing; epoch 1 takes over.
    assert!(e.heard(2, 1, 30_000.0));
    assert_eq!(e.take_commands(), vec![StepDown, Release(0), Request(1)]);
    assert!(!e.leading());
    assert_eq!(e.leader(), Some(2));
}

#[test]
fn a_stale_leader_is_not_followed() {
    let mut e = started(3, 1);
    e.take_commands();
    assert!(!e.heard(1, 0, 10.0));
    assert_eq!(e.leader(), None);
    assert!(e.take_commands().is_empty());
}

#[test]
fn a_grant_for_an_epoch_left_behind_is_released() {
    let mut e = started(2, 0);
    e.heard(1, 1, 0.0);
    e.take_commands();
    e.granted(0, 5.0);
    assert_eq!(e.take_commands(), vec![Release(0)]);
    assert!(!e.leading());
}

#[test]
fn stopping_gives_up_the_lock_or_the_queue() {
    let mut e = started(1, 0);
    e.granted(0, 0.0);
    e.take_commands();
    e.stop();
    assert_eq!(e.take_commands(), vec![StepDown, Release(0)]);
    let mut f = started(2, 4);
    f.take_commands();
    f.stop();
    assert_eq!(f.take_commands(), vec![Abort(4)]);
}

#[test]
fn an_epoch_heard_before_start_is_used() {
    let mut e = Election::new(5, ElectionConfig::default());
    e.epoch_seen(7, 0.0);
    e.start(2, 0.0);
    assert_eq!(e.take_commands(), vec![Request(7)]);
}
