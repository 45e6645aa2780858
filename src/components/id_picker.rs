//! Which of a room's messages the list shows, run to run: the newest of the
//! room's window while the user follows them, with a burst's rows entering
//! a view's worth per update (its newest first, the rest filling in above
//! over the next frames), everything in the window while the user reads
//! further up. Pure, natively tested: the list's memo feeds it the log and
//! what it showed last.

use crate::chat::log::{Entry, RoomLog};
use std::collections::HashSet;

/// Rows shown while following the newest messages: a long room renders this
/// many, whatever arrives; scrolling up shows more (then older pages).
pub const WINDOW: usize = 200;

/// What the list asks for on a run.
#[derive(Clone, Copy, Debug)]
pub struct Ask<'a> {
    pub room: &'a str,
    /// Rows the window holds (the newest of the room's log): [`WINDOW`],
    /// grown while the user reads further up.
    pub window: usize,
    /// The fill-in's frame counter: rows fill in above only on a run that
    /// sees it change, not on any other run in the same task.
    pub tick: u32,
    /// The view follows the newest messages.
    pub following: bool,
    /// Rows that fill the view (and one each side): what enters per update.
    pub per_update: usize,
}

/// What the list shows next.
#[derive(Debug, PartialEq, Eq)]
pub struct Pick {
    pub ids: Vec<String>,
    /// Rows of the window are still to fill in: ask again on the next frame
    /// (with the tick moved on).
    pub fill_more: bool,
}

/// Picks the ids the list shows. Kept between runs: the room that showed a
/// row, the tick last seen, and whether the last run was a burst's.
#[derive(Debug, Default)]
pub struct IdPicker {
    room: Option<String>,
    tick: u32,
    /// The run just before showed only a burst's newest rows. A fill tick
    /// right after fills nothing: while a burst goes on, the next batch
    /// replaces the rows again, so rows filled in above would be built and
    /// thrown away (a batch and a tick in the same frame built twice the
    /// rows). Any run clears it, so a run in between lets the tick fill as
    /// usual, and the fill-in never waits more than a frame past a burst.
    burst: bool,
}

impl IdPicker {
    /// The ids to show, given the room's log (`None`: not joined yet) and
    /// what was shown before.
    ///
    /// A room is "opened" until it shows a row: it starts with the default
    /// [`WINDOW`] and following, whatever the room left behind had grown to
    /// (hundreds of rows, read far up), since its history may only come
    /// after the switch. One's own messages the server has not stored are
    /// last in the log while others' go in above them: always shown, and
    /// kept apart from the rows that enter (counted as entering, a handful
    /// of them would leave nothing else shown).
    pub fn pick(&mut self, ask: Ask, log: Option<&RoomLog>, prev: Option<&[String]>) -> Pick {
        let filling_now = std::mem::replace(&mut self.tick, ask.tick) != ask.tick;
        let after_burst = std::mem::take(&mut self.burst);
        let opened = self.room.as_deref() != Some(ask.room);
        let (window, prev) = if opened { (WINDOW, None) } else { (ask.window, prev) };
        let following = opened || ask.following;
        let Some(log) = log else { return Pick { ids: Vec::new(), fill_more: false } };
        let newest = log.newest(window);
        if opened && !newest.is_empty() {
            self.room = Some(ask.room.to_owned());
        }
        let tail = newest.iter().rev().take_while(|e| e.seq.is_none()).count();
        let (body, unsent) = newest.split_at(newest.len() - tail);
        let shown = prev.unwrap_or_default();
        let count = if following {
            let (kept, entering) = kept_and_entering(shown, body);
            if entering > ask.per_update {
                // A room opening is not a stream of batches.
                self.burst = !opened;
                ask.per_update
            } else if opened || (filling_now && !after_burst) {
                // The rows entering below count against the fill-in's share.
                kept.saturating_add(ask.per_update)
            } else {
                kept + entering
            }
        } else {
            body.len()
        }
        .min(body.len());
        let ids = body[body.len() - count..].iter().chain(unsent).map(|e| e.id.clone()).collect();
        Pick { ids, fill_more: count < body.len() }
    }
}

/// Of `body` from its topmost row that was shown down: how many were shown
/// (and stay), and how many were not (they enter). Counted by id rather
/// than by where the shown rows' ends are now: one's own message stored
/// while others' came in moves below them, and failed ones are left in the
/// middle of what was shown, so neither end marks it (rows not in `body`,
/// one's own unsent ones, count for nothing). Nothing shown is in `body`
/// (a room opened, its history replaced): all of it enters. O(window).
fn kept_and_entering(shown: &[String], body: &[Entry]) -> (usize, usize) {
    let was_shown: HashSet<&str> = shown.iter().map(String::as_str).collect();
    let Some(top) = body.iter().position(|e| was_shown.contains(e.id.as_str())) else { return (0, body.len()) };
    let kept = body[top..].iter().filter(|e| was_shown.contains(e.id.as_str())).count();
    (kept, body.len() - top - kept)
}

#[cfg(test)]
#[path = "id_picker/tests.rs"]
mod tests;
