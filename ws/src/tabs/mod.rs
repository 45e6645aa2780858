//! Cross-tab sharing (`share_across_tabs`), the pure part: who leads, what
//! followers hold while there is no leader, how the leader deduplicates what
//! followers hand it, and the messages tabs exchange. No `web_sys` here; the
//! browser glue (`browser::tabs`) feeds these structs events with their time.
//!
//! # How it works
//! - Leadership is a Web Lock named `<key>#<epoch>`: the tab holding the lock
//!   of the current epoch is the leader and the only tab with a socket. The
//!   others wait in the lock's queue, so when the leader's tab closes,
//!   navigates or crashes, the browser hands the lock to the next one at once.
//! - A frozen leader (page hung, lock still held) is noticed by its silence:
//!   the leader beats on the channel every `beat_ms`; a follower that hears
//!   nothing for `frozen_after_ms` asks it to beat (a leader whose timers a
//!   background tab throttles still answers a message at once), and if it
//!   still says nothing gives up on that epoch and queues for the lock of the
//!   next one. Whoever gets it leads epoch + 1 with its own socket.
//!   Every leader message carries its epoch; a leader that wakes up and hears
//!   a higher epoch steps down, closes its socket and releases its lock. The
//!   lock alone could not tell: the hung tab holds it for as long as it hangs.
//! - Followers' sends are numbered per tab and kept until the leader says it
//!   transmitted them ([`wire::Wire::Took`]); after a leader change they are
//!   sent again, after the follower's handshake frames for the new socket, and
//!   the new leader skips what an earlier leader already took (it heard those
//!   acknowledgements too). Frames the leader receives are numbered per socket
//!   so followers deliver each once, in order.

pub mod election;
pub mod follower;
pub mod leader;
pub mod wire;

use serde::{Deserialize, Serialize};

/// A tab's random identity, fixed for the life of its page.
pub type TabId = u64;

/// One socket of one leader. Followers send their handshake frames once per
/// tag, and a frame relayed for one tag is never taken for another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ConnTag {
    /// The leader tab.
    pub leader: TabId,
    /// Its epoch.
    pub epoch: u64,
    /// The leader's socket count.
    pub n: u32,
}
