//! Downstream: the SSE stream or the poll loop, duplicates dropped by frame
//! number, and a broken one attached again where it left off. Apart from the
//! session and its POSTs because this side alone decides whether a break
//! is an interruption or the end of the connection.

use super::{Emulated, Stream};
use crate::browser::socket::SocketEvent;
use crate::browser::transport::DownEvent;
use crate::browser::transport::poll::PollLoop;
use crate::browser::transport::sse::SseStream;
use crate::emulated::WireError;
use crate::metrics::Transport;
use gloo_timers::callback::Timeout;
use std::rc::Rc;

impl Emulated {
    /// Attach the stream or start the poll loop, asking for frames after
    /// the last one processed.
    pub(super) fn attach(&self) {
        let Some(session) = self.session() else { return };
        let me = self.me.clone();
        let sink: Rc<dyn Fn(DownEvent)> = Rc::new(move |ev| {
            if let Some(me) = me.upgrade().filter(|m| !m.ended.get()) {
                me.on_down(ev);
            }
        });
        let stream = match self.mode {
            Transport::LongPoll => {
                let me = self.me.clone();
                let next = move || {
                    let me = me.upgrade().filter(|m| !m.ended.get())?;
                    let after = me.down.get().after().to_string();
                    Some(me.ends.url("poll", &[("session", &session), ("after", &after)]))
                };
                Stream::Poll(PollLoop::start(next, sink))
            }
            _ => {
                let after = self.down.get().after().to_string();
                let url = self.ends.url("sse", &[("session", &session), ("after", &after)]);
                match SseStream::open(&url, sink) {
                    Ok(s) => Stream::Sse(s),
                    Err(e) => return self.end(1006, e, false),
                }
            }
        };
        *self.stream.borrow_mut() = Some(stream);
    }

    fn on_down(&self, ev: DownEvent) {
        match ev {
            DownEvent::Frame(n, frame) => {
                self.alive();
                let mut down = self.down.get();
                let fresh = down.accept(n);
                self.down.set(down);
                match frame {
                    Ok(frame) if fresh => (self.sink)(SocketEvent::Message(frame)),
                    Ok(_) => {}
                    Err(e) => web_sys::console::warn_1(&format!("use_websocket: fallback frame {n}: {e}").into()),
                }
            }
            DownEvent::Alive => self.alive(),
            DownEvent::Closed(info) => self.end(info.code, info.reason, true),
            DownEvent::Refused(WireError::Closed(code, why)) => self.end(code, why, false),
            DownEvent::Refused(WireError::Retry(why)) | DownEvent::Broken(why) => self.broke(why),
        }
    }

    fn alive(&self) {
        let mut r = self.revive.get();
        r.alive();
        self.revive.set(r);
    }

    /// The stream or poll broke: re-attach after a short pause, a bounded
    /// number of times in a row; before anything arrived on it, end at once
    /// (the hook then tries the next transport).
    fn broke(&self, why: String) {
        let old = self.stream.borrow_mut().take();
        drop(old);
        let mut r = self.revive.get();
        let pause = r.broke();
        self.revive.set(r);
        let Some(pause) = pause else {
            let when = if r.ever_alive() { "connection lost" } else { "broken before its first frame" };
            return self.end(1006, format!("{when} ({why})"), false);
        };
        let me = self.me.clone();
        let t = Timeout::new(pause, move || {
            if let Some(me) = me.upgrade().filter(|m| !m.ended.get()) {
                me.reattach.borrow_mut().take();
                me.attach();
            }
        });
        *self.reattach.borrow_mut() = Some(t);
    }
}
