//! The [`Store`] contract, run against every engine: SQLite (the embedded
//! default) and PostgreSQL (the shared store, a real cluster started here).
//! Each check is one function taking the store, so both engines answer to
//! exactly the same expectations.

use std::sync::{Arc, OnceLock};

use tether_server::postgres::PgStore;
use tether_server::{SqliteStore, Store};
use tether_testkit::postgres::{self, Postgres};

type Check = fn(&dyn Store);

const CHECKS: &[(&str, Check)] = &[
    ("rooms_are_created_once_with_a_stable_epoch", rooms_are_created_once_with_a_stable_epoch),
    ("seqs_count_up_per_room_from_one", seqs_count_up_per_room_from_one),
    ("a_retried_client_id_returns_the_original", a_retried_client_id_returns_the_original),
    ("after_before_and_recent_page_in_order", after_before_and_recent_page_in_order),
    ("before_stops_past_max_bytes", before_stops_past_max_bytes),
    ("read_only_fails_writes_and_health_until_undone", read_only_fails_writes_and_health_until_undone),
    ("appending_to_an_unknown_room_fails", appending_to_an_unknown_room_fails),
    ("concurrent_appends_get_distinct_gapless_seqs", concurrent_appends_get_distinct_gapless_seqs),
];

fn rooms_are_created_once_with_a_stable_epoch(s: &dyn Store) {
    let a = s.ensure_room("a").unwrap();
    assert!(a.created);
    let again = s.ensure_room("a").unwrap();
    assert!(!again.created);
    assert_eq!(a.epoch, again.epoch);
    s.ensure_room("b").unwrap();
    assert_eq!(s.rooms().unwrap(), vec!["a", "b"]);
    assert_eq!(s.last_seq("a").unwrap(), 0);
    assert_eq!(s.last_seq("nowhere").unwrap(), 0);
}

fn seqs_count_up_per_room_from_one(s: &dyn Store) {
    s.ensure_room("x").unwrap();
    s.ensure_room("y").unwrap();
    let seqs: Vec<u64> = (0..3).map(|i| s.append("x", &format!("x{i}"), "ann", "hi", 5).unwrap().message.seq).collect();
    assert_eq!(seqs, [1, 2, 3]);
    assert_eq!(s.append("y", "y0", "bob", "yo", 6).unwrap().message.seq, 1);
    assert_eq!(s.last_seq("x").unwrap(), 3);
    let m = s.after("x", 2, 10).unwrap().remove(0);
    assert_eq!(
        (m.room.as_str(), m.seq, m.id.as_str(), m.author.as_str(), m.body.as_str(), m.ts_ms),
        ("x", 3, "x2", "ann", "hi", 5)
    );
}

fn a_retried_client_id_returns_the_original(s: &dyn Store) {
    s.ensure_room("d").unwrap();
    s.ensure_room("e").unwrap();
    let first = s.append("d", "same", "ann", "one", 1).unwrap();
    assert!(!first.duplicate);
    let retry = s.append("d", "same", "ann", "one again", 2).unwrap();
    assert!(retry.duplicate);
    assert_eq!(retry.message, first.message);
    let elsewhere = s.append("e", "same", "ann", "other room", 3).unwrap();
    assert!(elsewhere.duplicate);
    assert_eq!(elsewhere.message.room, "d");
    assert_eq!(s.last_seq("d").unwrap(), 1);
    assert_eq!(s.last_seq("e").unwrap(), 0);
}

fn after_before_and_recent_page_in_order(s: &dyn Store) {
    s.ensure_room("p").unwrap();
    for i in 1..=10 {
        s.append("p", &format!("p{i}"), "a", &format!("m{i}"), i).unwrap();
    }
    let seqs = |v: Vec<tether_protocol::ChatMessage>| v.into_iter().map(|m| m.seq).collect::<Vec<_>>();
    assert_eq!(seqs(s.after("p", 7, 10).unwrap()), [8, 9, 10]);
    assert_eq!(seqs(s.after("p", 0, 2).unwrap()), [1, 2]);
    assert_eq!(seqs(s.before("p", 5, 3, usize::MAX).unwrap()), [2, 3, 4]);
    assert_eq!(seqs(s.before("p", u64::MAX, 2, usize::MAX).unwrap()), [9, 10]);
    assert_eq!(seqs(s.recent("p", 3).unwrap()), [8, 9, 10]);
    assert!(s.after("p", 10, 5).unwrap().is_empty());
}

fn before_stops_past_max_bytes(s: &dyn Store) {
    s.ensure_room("big").unwrap();
    let body = "x".repeat(1000);
    for i in 1..=5 {
        s.append("big", &format!("b{i}"), "a", &body, i).unwrap();
    }
    let page = s.before("big", u64::MAX, 5, 1500).unwrap();
    assert!(page.len() < 5 && !page.is_empty(), "{} messages", page.len());
    assert_eq!(page.last().unwrap().seq, 5);
}

fn read_only_fails_writes_and_health_until_undone(s: &dyn Store) {
    s.ensure_room("r").unwrap();
    s.check_writable().unwrap();
    s.set_read_only(true).unwrap();
    assert!(s.check_writable().is_err());
    assert!(s.append("r", "r1", "a", "no", 1).is_err());
    s.set_read_only(false).unwrap();
    s.check_writable().unwrap();
    assert_eq!(s.append("r", "r1", "a", "yes", 1).unwrap().message.seq, 1);
}

fn appending_to_an_unknown_room_fails(s: &dyn Store) {
    assert!(s.append("ghost", "g1", "a", "boo", 1).is_err());
}

fn concurrent_appends_get_distinct_gapless_seqs(s: &dyn Store) {
    s.ensure_room("c").unwrap();
    std::thread::scope(|scope| {
        for t in 0..4 {
            scope.spawn(move || {
                for i in 0..25 {
                    s.append("c", &format!("c{t}-{i}"), "a", "x", 1).unwrap();
                }
            });
        }
    });
    let seqs: Vec<u64> = s.after("c", 0, 1000).unwrap().into_iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=100).collect::<Vec<_>>());
}

#[test]
fn sqlite_meets_the_store_contract() {
    for (name, check) in CHECKS {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
        eprintln!("sqlite: {name}");
        check(&store);
    }
}

/// One cluster for the whole file; a fresh database per check.
fn cluster() -> Option<&'static Postgres> {
    static PG: OnceLock<Option<Postgres>> = OnceLock::new();
    PG.get_or_init(|| {
        if !postgres::available() && !std::path::Path::new("/usr/bin/apt-get").exists() {
            eprintln!("SKIPPED: PostgreSQL 15 is not installed and this machine has no apt-get to install it");
            return None;
        }
        Some(Postgres::start().expect("start PostgreSQL (scripts/setup.sh installs it)"))
    })
    .as_ref()
}

#[test]
fn postgres_meets_the_store_contract() {
    let Some(pg) = cluster() else { return };
    for (i, (name, check)) in CHECKS.iter().enumerate() {
        let url = pg.create_db(&format!("contract{i}")).unwrap();
        let store = PgStore::connect(&url).unwrap();
        eprintln!("postgres: {name}");
        check(&store);
    }
}

/// Two stores on one database stand for two instances: the row lock, not
/// any in-process lock, keeps their seqs gapless and their dedup shared.
#[test]
fn two_postgres_stores_share_seqs_and_dedup() {
    let Some(pg) = cluster() else { return };
    let url = pg.create_db("shared").unwrap();
    let a = Arc::new(PgStore::connect(&url).unwrap());
    let b = Arc::new(PgStore::connect(&url).unwrap());
    a.ensure_room("s").unwrap();
    assert!(!b.ensure_room("s").unwrap().created);
    std::thread::scope(|scope| {
        for (t, s) in [a.clone(), b.clone(), a.clone(), b.clone()].into_iter().enumerate() {
            scope.spawn(move || {
                for i in 0..30 {
                    // Every id is posted by two instances at once: one stores it.
                    let id = format!("s{}-{i}", t / 2);
                    s.append("s", &id, "a", "x", 1).unwrap();
                }
            });
        }
    });
    let all = b.after("s", 0, 1000).unwrap();
    assert_eq!(all.iter().map(|m| m.seq).collect::<Vec<_>>(), (1..=60).collect::<Vec<_>>());
    let ids: std::collections::BTreeSet<_> = all.iter().map(|m| m.id.clone()).collect();
    assert_eq!(ids.len(), 60);
}
