//! Upstream: frames POSTed in order with one request in flight, a failed
//! POST retried with the same frame numbers after a pause. Apart from the
//! session because the numbers are what let the server accept each frame
//! once, so a retry can neither double nor reorder one.

use super::Emulated;
use crate::browser::transport::http::{Req, fetch};
use crate::emulated::{WireError, accepted, send_body};
use gloo_timers::callback::Timeout;
use web_sys::AbortController;

/// POSTs failed in a row before the connection counts as lost.
const MAX_POST_FAILURES: u32 = 6;

impl Emulated {
    /// Make the next POST, unless one is in flight or waiting to be retried.
    pub(super) fn pump(&self) {
        if self.ended.get() || self.post_retry.borrow().is_some() {
            return;
        }
        let Some(session) = self.session() else { return };
        let Some(post) = self.up.borrow_mut().next_post() else { return };
        let seq = post.seq.to_string();
        let url = self.ends.url("send", &[("session", &session), ("seq", &seq)]);
        let body = send_body(&post.frames);
        let last = post.seq + post.frames.len() as u64 - 1;
        let me = self.me.clone();
        let signal = self.abort.as_ref().map(AbortController::signal);
        wasm_bindgen_futures::spawn_local(async move {
            let answer =
                fetch(Req { method: "POST", url: &url, body: Some(&body), signal: signal.as_ref(), keepalive: false })
                    .await;
            let Some(me) = me.upgrade().filter(|m| !m.ended.get()) else { return };
            let failure = match answer {
                Ok((200, body)) => {
                    me.up.borrow_mut().accepted(accepted(&body).unwrap_or(last));
                    return me.pump();
                }
                Ok((status, body)) => WireError::from_status(status, &body),
                Err(e) => WireError::network(&e),
            };
            match failure {
                WireError::Closed(code, why) => me.end(code, why, false),
                WireError::Retry(why) => {
                    let (delay, failures) = me.up.borrow_mut().failed(me.rng.borrow_mut().as_mut());
                    if failures > MAX_POST_FAILURES {
                        return me.end(1006, format!("could not send: {why}"), false);
                    }
                    let again = me.me.clone();
                    let t = Timeout::new(delay.ceil() as u32, move || {
                        if let Some(me) = again.upgrade() {
                            me.post_retry.borrow_mut().take();
                            me.pump();
                        }
                    });
                    *me.post_retry.borrow_mut() = Some(t);
                }
            }
        });
    }
}
