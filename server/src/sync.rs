//! The one way the server takes a std `Mutex`.

use std::sync::{Mutex, MutexGuard};

/// Locks `m`, poisoned or not: what the server keeps behind std mutexes is
/// plain data (maps, handles, counters) that a panic elsewhere leaves
/// usable, and one panicked request must not take every later one with it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
