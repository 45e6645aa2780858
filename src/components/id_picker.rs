//! Which of a room's messages the list shows, run to run: the newest of the
//! room's window while the user follows them, with a burst's rows entering
//! a view's worth per update (its newest first, the rest filling in above
//! over the next frames), everything in the window while the user reads
//! further up. Pure, natively tested: the list's memo feeds it the log and
//! what it showed last.

use crate::chat::log::RoomLog;

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
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pick {
    pub ids: Vec<String>,
    /// Rows of the window are still to fill in: ask again on the next frame
    /// (with the tick moved on).
    pub fill_more: bool,
}

/// Picks the ids the list shows. Kept between runs: the room that showed a
/// row, and the tick last seen.
#[derive(Debug, Default)]
pub struct IdPicker {
    room: Option<String>,
    tick: u32,
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
        let shown = prev.map_or(&[][..], |p| {
            let t = p.iter().rev().take_while(|id| log.get(id).is_none_or(|e| e.seq.is_none())).count();
            &p[..p.len() - t]
        });
        let count = if following {
            // Rows from the first one shown to the end.
            let from_first = shown.first().and_then(|f| body.iter().position(|e| e.id == *f)).map(|i| body.len() - i);
            // Rows below the last stored row shown are new, and so are rows
            // that went in between the shown ones: one's own message stored
            // while others' came in moves below them, so it no longer marks
            // the bottom of what was shown.
            let below_last = shown
                .last()
                .and_then(|last| body.iter().rposition(|e| e.id == *last))
                .map_or(body.len(), |i| body.len() - 1 - i);
            let entering = from_first.map_or(below_last, |f| below_last.max(f.saturating_sub(shown.len())));
            if entering > ask.per_update {
                ask.per_update
            } else {
                let stay = shown.len().saturating_add(entering);
                if filling_now || opened { stay.saturating_add(ask.per_update) } else { stay }
            }
        } else {
            body.len()
        }
        .min(body.len());
        let ids = body[body.len() - count..].iter().chain(unsent).map(|e| e.id.clone()).collect();
        Pick { ids, fill_more: count < body.len() }
    }
}

#[cfg(test)]
#[path = "id_picker/tests.rs"]
mod tests;
