//! One connection's posts are stored in the order they were sent, even when
//! the rate limit refuses some of them.
//!
//! A client sends posts without waiting for each answer, so when one is
//! refused as rate-limited, later ones are already on their way; a token
//! refilled meanwhile would store a later one first, and the refused one,
//! sent again, after it (a user's messages shown out of order). So while a
//! refused post has not come back, later posts of the connection are refused
//! too, and the client sends them all again in order. A post the client gave
//! up on (never sent again, or already stored as far as it knows) stops
//! holding the others after a while: the order is then no worse than without
//! this. Pure, with the clock passed in, like [`crate::rate::TokenBucket`].

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Refused posts remembered per connection at most: a client that floods
/// gets every post refused (and is closed by the strike count soon after),
/// which must not grow this without bound meanwhile. Past it the oldest
/// stops holding the others, as an abandoned one would.
pub const MAX_HELD: usize = 256;

/// The posts of one connection refused and not yet sent again, oldest first,
/// with when each was last refused.
#[derive(Debug)]
pub struct PostOrder {
    hold: Duration,
    refused: VecDeque<(String, Instant)>,
}

impl PostOrder {
    /// For a connection allowed `per_sec` posts a second. Clients resend a
    /// refused post after the `retry_after_ms` named (one token's time), so
    /// a hold of a few tokens' time plus a second only ends abandoned ones.
    pub fn new(per_sec: f64) -> Self {
        let hold = Duration::from_secs_f64((1.0 + 3.0 / per_sec.max(0.05)).min(60.0));
        Self { hold, refused: VecDeque::new() }
    }

    /// Whether `id` must be refused to keep the order: an earlier post of
    /// this connection was refused and has not come back yet.
    pub fn holds_back(&mut self, id: &str, now: Instant) -> bool {
        while self.refused.front().is_some_and(|(_, at)| now.saturating_duration_since(*at) >= self.hold) {
            self.refused.pop_front();
        }
        self.refused.front().is_some_and(|(first, _)| first != id)
    }

    /// `id` was refused: it holds back every post sent after it.
    pub fn refused(&mut self, id: &str, now: Instant) {
        match self.refused.iter_mut().find(|(r, _)| r == id) {
            Some(entry) => entry.1 = now,
            None => {
                if self.refused.len() >= MAX_HELD {
                    self.refused.pop_front();
                }
                self.refused.push_back((id.to_owned(), now));
            }
        }
    }

    /// `id` got past the rate limit (stored, or refused for good for another
    /// reason): it holds nothing back any more.
    pub fn passed(&mut self, id: &str) {
        self.refused.retain(|(r, _)| r != id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_posts_wait_until_the_refused_one_is_sent_again() {
        let t0 = Instant::now();
        let mut o = PostOrder::new(5.0);
        assert!(!o.holds_back("a", t0));
        o.refused("a", t0);
        assert!(o.holds_back("b", t0), "sent after the refused one");
        o.refused("b", t0);
        assert!(!o.holds_back("a", t0), "the refused one, sent again, goes first");
        o.passed("a");
        assert!(o.holds_back("c", t0), "b is still to come back");
        assert!(!o.holds_back("b", t0));
        o.passed("b");
        assert!(!o.holds_back("c", t0));
    }

    #[test]
    fn a_flood_of_refused_posts_is_remembered_only_up_to_a_bound() {
        let t0 = Instant::now();
        let mut o = PostOrder::new(5.0);
        for i in 0..10 * MAX_HELD {
            o.refused(&format!("p{i}"), t0);
        }
        assert_eq!(o.refused.len(), MAX_HELD);
        let first_kept = format!("p{}", 9 * MAX_HELD);
        assert!(!o.holds_back(&first_kept, t0), "the oldest kept one goes first");
        assert!(o.holds_back("p0", t0), "a forgotten one is held back like any later post");
    }

    #[test]
    fn a_refused_post_never_sent_again_stops_holding_the_others() {
        let t0 = Instant::now();
        let mut o = PostOrder::new(5.0);
        o.refused("gone", t0);
        assert!(o.holds_back("next", t0 + Duration::from_millis(1_500)), "1.6 s at 5 posts a second");
        assert!(!o.holds_back("next", t0 + Duration::from_millis(1_600)));
    }
}
