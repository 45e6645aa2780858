//! `WalSync` on a real file, from many threads at once.

use std::io::Write;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use super::WalSync;
use super::pool::HANDLES;

/// More threads than handles commit and sync at once, over and over: every
/// sync returns, Ok, and nothing is left unsynced. A waiter left asleep
/// while handles are free, or a ticket that never settles, hangs a thread
/// past the deadline.
#[test]
fn more_syncs_than_handles_all_return_and_cover_every_commit() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let log = dir.path().join("t.db-wal");
    std::fs::write(&log, b"").unwrap();
    let wal = Arc::new(WalSync::new(&db));
    let (done, finished) = mpsc::channel();
    let threads = 4 * HANDLES;
    for t in 0..threads {
        let (wal, done, log) = (wal.clone(), done.clone(), log.clone());
        std::thread::spawn(move || {
            let mut file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
            for i in 0..200 {
                file.write_all(format!("{t} {i}\n").as_bytes()).unwrap();
                wal.committed();
                if let Err(e) = wal.sync() {
                    done.send(Err(e.to_string())).unwrap();
                    return;
                }
            }
            done.send(Ok(())).unwrap();
        });
    }
    all_succeed(&finished, threads, Duration::from_secs(60));
    assert_eq!(wal.unsynced(), 0);
}

/// Many syncs for the same commits at once: the first ones cover the rest,
/// and every one still waiting for a handle wakes up to find that out
/// (none is left asleep with handles free and nothing more to come).
#[test]
fn syncs_waiting_for_a_handle_wake_when_others_cover_them() {
    for _ in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        std::fs::write(dir.path().join("t.db-wal"), vec![7u8; 1 << 20]).unwrap();
        let wal = Arc::new(WalSync::new(&db));
        wal.committed();
        let threads = 4 * HANDLES;
        let start = Arc::new(std::sync::Barrier::new(threads));
        let (done, finished) = mpsc::channel();
        for _ in 0..threads {
            let (wal, done, start) = (wal.clone(), done.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                done.send(wal.sync().map_err(|e| e.to_string())).unwrap();
            });
        }
        all_succeed(&finished, threads, Duration::from_secs(20));
        assert_eq!(wal.unsynced(), 0);
    }
}

/// Waits for `threads` outcomes, each within `limit` of the one before.
fn all_succeed(finished: &mpsc::Receiver<Result<(), String>>, threads: usize, limit: Duration) {
    for _ in 0..threads {
        let outcome = finished.recv_timeout(limit).expect("a sync never returned (left waiting?)");
        outcome.expect("a sync failed");
    }
}

/// After a failure, every sync fails, those waiting for a handle included,
/// and none hangs.
#[test]
fn a_failure_fails_every_later_sync_without_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let log = dir.path().join("t.db-wal");
    std::fs::write(&log, b"x").unwrap();
    let wal = Arc::new(WalSync::new(&db));
    wal.committed();
    wal.sync().unwrap();
    // The log gone: the next sync cannot even find it.
    std::fs::remove_file(&log).unwrap();
    wal.committed();
    assert!(wal.sync().is_err());
    std::fs::write(&log, b"y").unwrap();
    wal.committed();
    let err = wal.sync().unwrap_err().to_string();
    assert!(err.contains("restart the server"), "{err}");
    assert_eq!(wal.unsynced(), 2);
}
