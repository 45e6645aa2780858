//! Posting: the rate limit (with the rule that tells a backlog from a
//! flood, and the order refused posts keep), then validation, then the hub.
//! Apart because every refusal here must name the post, so the client can
//! show it and send it again in order.

use std::time::{Duration, Instant};

use tether_protocol::{RejectReason, ServerMsg, ValidationError, close_code, validate_body, validate_id};

use super::{ABUSE_GRACE, Session};
use crate::hub::Posted;
use crate::rate::retry_ms;

impl Session {
    pub(super) async fn post(&mut self, author: String, room: String, id: String, body: String) {
        let state = self.state.clone();
        let reject = |reason, detail: String| {
            state.metrics().rejected(reason);
            ServerMsg::Rejected { id: id.clone(), room: room.clone(), reason, detail, retry_after_ms: None }
        };
        let now = Instant::now();
        // Behind a refused post not sent again yet: refused too, so that a
        // token refilled meanwhile cannot store it first.
        let taken = if self.order.holds_back(&id, now) {
            Err(Duration::from_secs_f64((1.0 / self.state.settings().limits.post_rate.max(0.001)).min(3600.0)))
        } else {
            self.posts.take(now)
        };
        if let Err(wait) = taken {
            self.order.refused(&id, now);
            self.state.metrics().rate_limited.inc();
            if self.last_refused.is_none_or(|t| now.duration_since(t) >= ABUSE_GRACE) {
                self.refused_since = Some(now);
                self.post_strikes = 0;
            }
            self.last_refused = Some(now);
            if self.refused_since.is_some_and(|t| now.duration_since(t) >= ABUSE_GRACE) {
                self.post_strikes += 1;
            }
            if self.post_strikes >= self.state.settings().limits.post_strikes {
                self.outbox.closer.close(close_code::POLICY, "posting too fast");
                return;
            }
            let ms = retry_ms(wait);
            let detail = format!("sending too fast; retry in {:.1} s", ms as f64 / 1000.0);
            let mut refusal = reject(RejectReason::RateLimited, detail);
            if let ServerMsg::Rejected { retry_after_ms, .. } = &mut refusal {
                *retry_after_ms = Some(ms);
            }
            self.outbox.push(&refusal);
            return;
        }
        self.order.passed(&id);
        let live = match self.joined.contains(&room) {
            true => self.state.hub().existing_room(&room).await,
            false => None,
        };
        let Some(live) = live else {
            let detail = "join the room before posting to it".to_owned();
            self.outbox.push(&reject(RejectReason::NotJoined, detail));
            return;
        };
        if let Err(e) = validate_id(&id) {
            self.outbox.push(&reject(RejectReason::BadId, e.to_string()));
            return;
        }
        if let Err(e) = validate_body(&body) {
            let reason = match e {
                ValidationError::BodyTooLong(_) => RejectReason::BodyTooLong,
                ValidationError::BodyControl(_) => RejectReason::ControlChars,
                _ => RejectReason::EmptyBody,
            };
            self.outbox.push(&reject(reason, e.to_string()));
            return;
        }
        match self.state.hub().post(&live, &self.outbox, id.clone(), author, body).await {
            Ok(Posted::Stored | Posted::Duplicate) => {}
            Ok(Posted::IdReused) => {
                let detail = "this message id was already used in another room; send it with a new id".to_owned();
                self.outbox.push(&reject(RejectReason::IdReused, detail));
            }
            Err(e) => {
                tracing::error!(conn = self.outbox.id, room, error = %e, "post failed");
                self.outbox.push(&reject(RejectReason::Internal, "internal error".to_owned()));
            }
        }
    }
}
