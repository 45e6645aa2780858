//! The reactive side of the outbox: restore pending messages on start, keep
//! `localStorage` in step with the logs, and expire what waited too long.
//!
//! Several chats may share one storage (two tabs, or two nicknames in one
//! page), so a save merges: it replaces only the ids this instance adopted or
//! wrote, and keeps everything else as it finds it at that moment. Writing
//! back a snapshot taken at start-up would erase the other tabs' pending
//! messages.

use super::log::{RoomLog, Status};
use super::persist::{self, Pending};
use leptos::prelude::*;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub type Logs = RwSignal<HashMap<String, RoomLog>>;

/// Put messages pending from an earlier visit back into the logs. They may
/// or may not have reached the server before the reload, so they count as
/// sent: the next handshake resends them and the server's dedup decides.
/// Failed ones come back failed, waiting for the user's retry.
/// Returns the ids adopted, which this instance now answers for.
pub fn restore(logs: Logs, nick: &str) -> HashSet<String> {
    let mine: Vec<_> = persist::load().into_iter().filter(|p| p.author == nick).collect();
    let adopted = mine.iter().map(|p| p.id.clone()).collect();
    if !mine.is_empty() {
        logs.update(|l| {
            for p in mine {
                let log = l.entry(p.room).or_default();
                log.add_own(p.id.clone(), p.author, p.body, Status::Sent, p.created_ms);
                if let Some(why) = p.failed {
                    log.fail(&p.id, why);
                }
            }
        });
    }
    adopted
}

/// Save when the unstored own messages change (at most once per update of
/// the logs, which inbound frames batch per animation frame; other people's
/// messages write nothing), and expire pending messages older than
/// `deadline_ms` (checked every second).
pub fn keep_in_step(logs: Logs, adopted: HashSet<String>, deadline_ms: f64) {
    let owned = Arc::new(Mutex::new(adopted));
    Effect::new(move |saved: Option<u64>| {
        // Revisions only grow, so their sum changes whenever one does.
        // `try_with`: an effect already notified may run once more after unmount.
        let Some(rev) = logs.try_with(|l| l.values().map(RoomLog::outbox_rev).sum::<u64>()) else {
            return saved.unwrap_or_default();
        };
        if saved == Some(rev) {
            return rev;
        }
        let mut mine = Vec::new();
        logs.with_untracked(|l| {
            for (room, log) in l {
                mine.extend(log.unstored().map(|e| Pending {
                    room: room.clone(),
                    id: e.id.clone(),
                    author: e.author.clone(),
                    body: e.body.clone(),
                    created_ms: e.created_ms,
                    failed: (e.status == Status::Failed).then(|| e.error.clone().unwrap_or_default()),
                }));
            }
        });
        let Ok(mut owned) = owned.lock() else { return rev };
        owned.extend(mine.iter().map(|p| p.id.clone()));
        let mut items: Vec<Pending> = persist::load().into_iter().filter(|p| !owned.contains(&p.id)).collect();
        items.extend(mine);
        persist::save(&items);
        rev
    });
    let tick = set_interval_with_handle(
        move || {
            let now = js_sys::Date::now();
            let due =
                logs.with_untracked(|l| l.values().any(|log| log.pending().any(|e| now - e.created_ms >= deadline_ms)));
            if due {
                logs.update(|l| {
                    l.values_mut().for_each(|log| {
                        log.expire(now, deadline_ms);
                    })
                });
            }
        },
        Duration::from_secs(1),
    );
    if let Ok(handle) = tick {
        on_cleanup(move || handle.clear());
    }
}
