//! What rows put in the message list do to the view: follow them, count
//! them on the "new messages" pill, or jump to the newest (first rows,
//! another room). Pure, natively tested: the list reports what it shows
//! each time rows went in or out.

use super::row_plan::Shown;

/// While the user reads further up, the window grows with new messages so
/// the rows being read stay, up to this many (a flood then moves them on).
pub const READING_MAX: usize = 1000;

/// Where the view goes after rows went in or out.
#[derive(Debug, PartialEq, Eq)]
pub enum Move {
    /// At once to the newest: the room's first rows, or another room.
    ToNewest,
    /// To the newest once laid out: the view follows.
    Follow,
    /// The user reads further up: `fresh` new rows went in below, for the
    /// pill, and the window grows to `window` (if it still may) so the rows
    /// being read stay.
    Count { fresh: usize, window: Option<usize> },
    /// Not following, and nothing new below (rows filled in above, an older
    /// page). Following, every report moves the view: the list reports only
    /// when what it shows changed.
    Stay,
}

/// What the list showed the last time rows went in or out, and in which room.
#[derive(Debug, Default)]
pub struct NewRows {
    before: Option<(String, Shown)>,
}

impl NewRows {
    /// Rows went in or out of `room`'s list, which now shows `now`.
    /// `following`: the view follows the newest; `window`: rows the window
    /// holds now.
    ///
    /// Only rows put in below are new: an older page goes in above, and one's
    /// own message still pending (or failed) stays last while others' go in
    /// above it, so new rows are counted by the list, not read off the last
    /// id. Rows filled in above while following keep the view at the bottom
    /// too.
    pub fn saw(&mut self, room: &str, now: &Shown, following: bool, window: usize) -> Move {
        let before = self.before.replace((room.to_owned(), now.clone()));
        let Some((_, prev)) = before.filter(|(r, _)| r == room) else { return Move::ToNewest };
        let fresh = usize::try_from(now.added_below.wrapping_sub(prev.added_below)).unwrap_or(usize::MAX);
        if following && (fresh > 0 || now.last != prev.last || now.first != prev.first) {
            Move::Follow
        } else if fresh > 0 {
            let window = (window < READING_MAX).then(|| window.saturating_add(fresh).min(READING_MAX));
            Move::Count { fresh, window }
        } else {
            Move::Stay
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(first: &str, last: &str, added_below: u64) -> Shown {
        Shown { first: Some(first.into()), last: Some(last.into()), added_below }
    }

    #[test]
    fn first_rows_and_another_room_go_to_the_newest_at_once() {
        let mut n = NewRows::default();
        assert_eq!(n.saw("a", &shown("1", "5", 5), false, 200), Move::ToNewest);
        assert_eq!(n.saw("b", &shown("7", "9", 8), false, 200), Move::ToNewest);
        assert_eq!(n.saw("b", &shown("7", "10", 9), true, 200), Move::Follow);
    }

    #[test]
    fn new_rows_below_an_own_unsent_last_row_are_followed_or_counted() {
        // The last id stays "mine" (pending) while others' rows go in above it.
        let mut n = NewRows::default();
        n.saw("a", &shown("1", "mine", 3), true, 200);
        assert_eq!(n.saw("a", &shown("1", "mine", 5), true, 200), Move::Follow);
        assert_eq!(n.saw("a", &shown("1", "mine", 8), false, 200), Move::Count { fresh: 3, window: Some(203) });
    }

    #[test]
    fn rows_filled_in_above_are_followed_but_never_counted() {
        let mut n = NewRows::default();
        n.saw("a", &shown("40", "50", 50), true, 200);
        assert_eq!(n.saw("a", &shown("20", "50", 50), true, 200), Move::Follow, "the view stays at the bottom");
        assert_eq!(n.saw("a", &shown("1", "50", 50), false, 300), Move::Stay, "an older page is not new");
    }

    #[test]
    fn the_window_grows_while_reading_up_to_a_bound() {
        let mut n = NewRows::default();
        n.saw("a", &shown("1", "9", 9), false, 990);
        assert_eq!(n.saw("a", &shown("1", "29", 29), false, 990), Move::Count { fresh: 20, window: Some(READING_MAX) });
        assert_eq!(n.saw("a", &shown("2", "30", 30), false, READING_MAX), Move::Count { fresh: 1, window: None });
    }

    #[test]
    fn the_running_count_may_wrap() {
        let mut n = NewRows::default();
        n.saw("a", &shown("1", "9", u64::MAX), false, 200);
        assert_eq!(n.saw("a", &shown("1", "11", 1), false, 200), Move::Count { fresh: 2, window: Some(202) });
    }
}
