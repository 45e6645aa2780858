//! One emulated connection (the HTTP fallback): a session started with
//! `POST {base}/session`, frames POSTed in order with one request in flight,
//! frames received over SSE or long-polling with duplicates dropped, and
//! `DELETE` at the end. It reports the same [`SocketEvent`]s as a WebSocket,
//! so everything above it works the same on every transport.
//!
//! A broken stream or poll that has worked is re-attached with the last
//! frame number processed (`after`) a bounded number of times before the
//! connection counts as lost (one that never worked ends at once, so the
//! hook falls back); a failed POST is retried with the same numbers. Every
//! request is aborted and every listener detached when it ends.

use super::http::{Req, fetch};
use super::poll::PollLoop;
use super::sse::SseStream;
use crate::backoff::RandomSource;
use crate::browser::registry;
use crate::browser::socket::SocketEvent;
use crate::codec::Frame;
use crate::emulated::{Downstream, Endpoints, Reattach, SessionStarted, Upstream, WireError};
use crate::metrics::Transport;
use gloo_timers::callback::Timeout;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use web_sys::AbortController;

mod receive;
mod send;

enum Stream {
    Sse(#[allow(dead_code)] SseStream),
    Poll(#[allow(dead_code)] PollLoop),
}

pub(crate) struct Emulated {
    me: Weak<Self>,
    ends: Endpoints,
    mode: Transport,
    sink: Rc<dyn Fn(SocketEvent)>,
    session: RefCell<Option<String>>,
    up: RefCell<Upstream>,
    down: Cell<Downstream>,
    stream: RefCell<Option<Stream>>,
    /// Aborts the session's requests (start, POSTs) when it ends.
    abort: Option<AbortController>,
    post_retry: RefCell<Option<Timeout>>,
    reattach: RefCell<Option<Timeout>>,
    /// Whether and when a broken stream or poll is attached again.
    revive: Cell<Reattach>,
    ended: Cell<bool>,
    rng: RefCell<Box<dyn RandomSource>>,
}

impl Emulated {
    /// Start a session for the WebSocket URL `url`, receiving over `mode`
    /// (SSE or long-poll), reporting to `sink`; `limit` re-attachments in a row.
    pub fn start(
        url: &str,
        mode: Transport,
        limit: u32,
        sink: impl Fn(SocketEvent) + 'static,
    ) -> Result<Rc<Self>, String> {
        let ends = Endpoints::new(url)?;
        let this = Rc::new_cyclic(|me| Self {
            me: me.clone(),
            ends,
            mode,
            sink: Rc::new(sink),
            session: RefCell::new(None),
            up: RefCell::new(Upstream::new()),
            down: Cell::new(Downstream::default()),
            stream: RefCell::new(None),
            abort: AbortController::new().ok(),
            post_retry: RefCell::new(None),
            reattach: RefCell::new(None),
            revive: Cell::new(Reattach::new(limit)),
            ended: Cell::new(false),
            rng: RefCell::new(Box::new(js_sys::Math::random)),
        });
        let me = this.me.clone();
        let url = this.ends.url("session", &[]);
        let signal = this.abort.as_ref().map(AbortController::signal);
        wasm_bindgen_futures::spawn_local(async move {
            let answer =
                fetch(Req { method: "POST", url: &url, body: None, signal: signal.as_ref(), keepalive: false }).await;
            let Some(me) = me.upgrade().filter(|m| !m.ended.get()) else { return };
            match answer {
                Ok((200 | 201, body)) => match serde_json::from_str::<SessionStarted>(&body) {
                    Ok(s) => me.started(s.session),
                    Err(e) => me.end(1002, format!("unreadable session answer: {e}"), false),
                },
                Ok((status, body)) => match WireError::from_status(status, &body) {
                    WireError::Closed(code, why) => me.end(code, why, false),
                    WireError::Retry(why) => me.end(1006, why, false),
                },
                Err(e) => me.end(1006, e, false),
            }
        });
        Ok(this)
    }

    fn started(&self, session: String) {
        registry::session(true);
        *self.session.borrow_mut() = Some(session);
        self.attach();
        (self.sink)(SocketEvent::Open);
        self.pump();
    }

    /// Queue a frame for its POST. False once the connection ended (or
    /// before it opened, or when too much waits): the caller keeps the frame.
    pub fn transmit(&self, frame: &Frame) -> bool {
        if self.ended.get() || self.session.borrow().is_none() {
            return false;
        }
        let ok = self.up.borrow_mut().push(frame.clone()).is_ok();
        if ok {
            self.pump();
        }
        ok
    }

    /// Nothing waits to be POSTed and no POST is in flight.
    pub fn upstream_idle(&self) -> bool {
        self.up.borrow().idle()
    }

    /// Frames the server has not accepted yet, taken out, oldest first.
    pub fn take_unaccepted(&self) -> Vec<Frame> {
        self.up.borrow_mut().take_unaccepted()
    }

    fn session(&self) -> Option<String> {
        self.session.borrow().clone()
    }

    /// Stop everything: stream or poll, timers, requests in flight.
    fn teardown(&self) {
        let stream = self.stream.borrow_mut().take();
        drop(stream);
        self.post_retry.borrow_mut().take();
        self.reattach.borrow_mut().take();
        if let Some(a) = &self.abort {
            a.abort();
        }
    }

    /// The connection ended by itself (the server closed it, or it broke).
    fn end(&self, code: u16, reason: String, was_clean: bool) {
        if self.ended.replace(true) {
            return;
        }
        self.teardown();
        if self.session.borrow_mut().take().is_some() {
            registry::session(false);
        }
        (self.sink)(SocketEvent::Close { code, reason, was_clean });
    }

    /// Tell the server the session is over (`DELETE`, which outlives the page).
    fn delete(&self) {
        let Some(session) = self.session.borrow_mut().take() else { return };
        registry::session(false);
        let url = self.ends.url("session", &[("session", &session)]);
        wasm_bindgen_futures::spawn_local(async move {
            let _ = fetch(Req { method: "DELETE", url: &url, body: None, signal: None, keepalive: true }).await;
        });
    }

    /// A graceful close asked for by the app: the close is reported a moment
    /// later, as a WebSocket's would be.
    pub fn close(&self, code: u16, reason: &str) {
        if self.ended.replace(true) {
            return;
        }
        self.teardown();
        self.delete();
        let sink = self.sink.clone();
        let reason = reason.to_owned();
        wasm_bindgen_futures::spawn_local(async move { sink(SocketEvent::Close { code, reason, was_clean: true }) });
    }

    /// End now without reporting anything (replaced, written off, unmounted).
    pub fn shutdown(&self) {
        if self.ended.replace(true) {
            return;
        }
        self.teardown();
        self.delete();
    }
}

impl Drop for Emulated {
    fn drop(&mut self) {
        self.shutdown();
    }
}
