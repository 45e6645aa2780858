//! How the message list's shown run of ids becomes the next one, touching
//! only its ends (see `row_list.rs` for why), and what the list reports
//! once its rows are in. Pure, natively tested.

/// What the list shows, once its rows are in.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Shown {
    pub first: Option<String>,
    pub last: Option<String>,
    /// New rows put in below the ones before them, ever (a running count:
    /// the difference between two readings is what came in between, however
    /// many updates that took). A row moved back to the bottom is not new.
    pub added_below: u64,
}

/// How the shown run of ids becomes the next one.
#[derive(Debug, PartialEq, Eq)]
pub enum Plan {
    /// Take `drop_front` rows off the top and `drop_back` off the bottom;
    /// the `kept` rows left are `new[keep_at..keep_at + kept]`. Put
    /// `new[..keep_at]` in above them and the rest of `new` below.
    Ends { drop_front: usize, drop_back: usize, keep_at: usize, kept: usize },
    /// Nothing in common (another room, a burst past the window): remove
    /// every row, then build `new`.
    Rebuild,
}

/// Where the old run and the new one overlap, if they do end to end.
pub fn plan<K: PartialEq>(old: &[K], new: &[K]) -> Plan {
    let (Some(old_first), Some(new_first)) = (old.first(), new.first()) else { return Plan::Rebuild };
    let (from, keep_at) = if let Some(i) = old.iter().position(|k| k == new_first) {
        (i, 0)
    } else if let Some(j) = new.iter().position(|k| k == old_first) {
        (0, j)
    } else {
        return Plan::Rebuild;
    };
    // Where they part again (an own message that moved to the end when the
    // server stored it), the old rows after go and the new ones go in (the
    // list moves back those it had): still only at the bottom end.
    let kept = old[from..].iter().zip(&new[keep_at..]).take_while(|(a, b)| a == b).count();
    Plan::Ends { drop_front: from, drop_back: old.len() - from - kept, keep_at, kept }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ends(drop_front: usize, drop_back: usize, keep_at: usize, kept: usize) -> Plan {
        Plan::Ends { drop_front, drop_back, keep_at, kept }
    }

    #[test]
    fn new_rows_below_and_the_oldest_gone_from_the_top() {
        assert_eq!(plan(&[1, 2, 3], &[1, 2, 3, 4, 5]), ends(0, 0, 0, 3));
        assert_eq!(plan(&[1, 2, 3], &[3, 4, 5]), ends(2, 0, 0, 1));
    }

    #[test]
    fn rows_filled_in_above_leave_the_shown_ones_alone() {
        assert_eq!(plan(&[4, 5], &[1, 2, 3, 4, 5]), ends(0, 0, 3, 2));
        assert_eq!(plan(&[4, 5, 6], &[2, 3, 4, 5]), ends(0, 1, 2, 2), "and the newest may go");
    }

    #[test]
    fn nothing_in_common_replaces_everything() {
        assert_eq!(plan(&[1, 2], &[7, 8]), Plan::Rebuild);
        assert_eq!(plan::<u8>(&[], &[1]), Plan::Rebuild);
        assert_eq!(plan::<u8>(&[1], &[]), Plan::Rebuild);
    }

    #[test]
    fn the_same_run_or_a_part_of_it_keeps_its_rows() {
        assert_eq!(plan(&[1, 2, 3], &[1, 2, 3]), ends(0, 0, 0, 3));
        assert_eq!(plan(&[1, 2, 3, 4, 5], &[2, 3]), ends(1, 2, 0, 2));
    }

    #[test]
    fn where_the_runs_part_the_rows_after_go_in_again_below() {
        // 2 was pending at the end, the server stored it after 4: the rows
        // from where they part go, and come back below in the new order.
        assert_eq!(plan(&[1, 3, 2], &[1, 3, 4, 2]), ends(0, 1, 0, 2));
        assert_eq!(plan(&[1, 2, 3, 4], &[1, 3, 2, 4]), ends(0, 3, 0, 1));
        assert_eq!(plan(&[2, 3], &[3, 2]), ends(1, 0, 0, 1));
        assert_eq!(plan(&[3, 4, 9], &[1, 2, 3, 4, 5]), ends(0, 1, 2, 2), "and rows go in above too");
    }
}
