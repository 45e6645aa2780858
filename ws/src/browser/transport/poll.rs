//! The long-poll half of the emulated connection: a loop of `GET
//! {base}/poll?session=…&after=…`, each held by the server until frames are
//! waiting. Dropping the loop aborts the request in flight, which ends the
//! loop (counted in the registry while it runs).

use super::DownEvent;
use super::http::{Req, fetch};
use crate::browser::registry;
use crate::emulated::{PollReply, WireError};
use std::rc::Rc;
use web_sys::AbortController;

pub(crate) struct PollLoop {
    abort: Option<AbortController>,
}

impl PollLoop {
    /// Poll `next_url()` (it carries the current `after`; `None` ends the
    /// loop) until aborted, reporting to `sink`. A failed poll ends the loop:
    /// the connection decides whether to start another.
    pub fn start(next_url: impl Fn() -> Option<String> + 'static, sink: Rc<dyn Fn(DownEvent)>) -> Self {
        let abort = AbortController::new().ok();
        let signal = abort.as_ref().map(AbortController::signal);
        registry::poll_loop(true);
        wasm_bindgen_futures::spawn_local(async move {
            let aborted = || signal.as_ref().is_some_and(|s| s.aborted());
            while let Some(url) = next_url() {
                let answer =
                    fetch(Req { method: "GET", url: &url, body: None, signal: signal.as_ref(), keepalive: false })
                        .await;
                if aborted() {
                    break;
                }
                match answer {
                    Err(e) => {
                        sink(DownEvent::Broken(e));
                        break;
                    }
                    Ok((200, body)) => match serde_json::from_str::<PollReply>(&body) {
                        Ok(reply) => {
                            sink(DownEvent::Alive);
                            for f in reply.frames {
                                if aborted() {
                                    break;
                                }
                                let frame = f.frame();
                                sink(DownEvent::Frame(f.n, frame));
                            }
                            if let Some(close) = reply.close {
                                if !aborted() {
                                    sink(DownEvent::Closed(close));
                                }
                                break;
                            }
                        }
                        Err(e) => {
                            sink(DownEvent::Broken(format!("unreadable poll answer: {e}")));
                            break;
                        }
                    },
                    Ok((status, body)) => {
                        sink(DownEvent::Refused(WireError::from_status(status, &body)));
                        break;
                    }
                }
                if aborted() {
                    break;
                }
            }
            registry::poll_loop(false);
        });
        Self { abort }
    }
}

impl Drop for PollLoop {
    fn drop(&mut self) {
        if let Some(a) = self.abort.take() {
            a.abort();
        }
    }
}
