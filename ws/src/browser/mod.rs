//! The hook in a browser: a subscriber, the connection it is subscribed to
//! (its own, or a shared one), and the effect that follows the URL.

mod conn;
mod page;
mod publish;
pub mod registry;
mod shared;
mod socket;
mod sub;

pub use conn::now_ms;
pub use shared::live_shared;

use crate::codec::Codec;
use crate::options::UseWebSocketOptions;
use crate::url::resolve_url;
use crate::{Command, SendFn, UseWebSocketReturn, WsError};
use conn::Conn;
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use sub::Sub;

/// One hook instance.
struct Hook<Tx: 'static, Rx: Send + Sync + 'static, C> {
    sub: Rc<Sub<Tx, Rx>>,
    conn: RefCell<Option<Rc<Conn<Tx, Rx, C>>>>,
    opts: UseWebSocketOptions<Tx, Rx, C>,
}

impl<Tx, Rx, C> Hook<Tx, Rx, C>
where
    Tx: 'static,
    Rx: Clone + Send + Sync + 'static,
    C: Codec<Tx, Rx> + Clone,
{
    fn conn(&self) -> Option<Rc<Conn<Tx, Rx, C>>> {
        self.conn.borrow().clone()
    }

    /// The URL signal changed (or the hook mounted: `first`).
    fn url_changed(&self, url: Result<String, WsError>, first: bool) {
        match &url {
            Ok(_) => self.sub.clear_url_error(),
            Err(e) => {
                self.sub.report(e.clone());
            }
        }
        let url = url.map_err(|e| e.to_string());
        let open = first && self.opts.immediate;
        if !self.opts.share {
            let conn = self.conn().unwrap_or_else(|| {
                let conn = Conn::new(&self.opts, self.opts.codec.clone());
                conn.subscribe(self.sub.clone());
                *self.conn.borrow_mut() = Some(conn.clone());
                conn
            });
            conn.step(|d, now| {
                d.set_url(url, now);
                if open {
                    d.open(now);
                }
            });
            return;
        }
        let key = shared::Key::new::<Tx, Rx, C>(url.as_ref().unwrap_or_else(|e| e));
        let (conn, created) = shared::get_or_create(&key, || Conn::new(&self.opts, self.opts.codec.clone()));
        if let Some(old) = self.conn.borrow_mut().replace(conn.clone()) {
            if Rc::ptr_eq(&old, &conn) {
                return;
            }
            old.unsubscribe(&self.sub);
        }
        if created {
            conn.on_dispose(move || shared::forget(&key));
            conn.step(|d, now| d.set_url(url, now));
        }
        conn.subscribe(self.sub.clone());
        // A newcomer opens an idle shared connection, but never resets the
        // backoff of one that is already trying.
        if self.opts.immediate && matches!(conn.state(), crate::ConnState::Idle) {
            conn.step(|d, now| d.open(now));
        }
    }

    fn dispose(&self) {
        self.sub.dispose();
        if let Some(conn) = self.conn.borrow_mut().take() {
            conn.unsubscribe(&self.sub);
        }
    }
}

fn page_href() -> String {
    web_sys::window().and_then(|w| w.location().href().ok()).unwrap_or_default()
}

pub(crate) fn use_websocket<Tx, Rx, C>(
    url: Signal<String>,
    opts: UseWebSocketOptions<Tx, Rx, C>,
) -> UseWebSocketReturn<Tx, Rx>
where
    Tx: 'static,
    Rx: Clone + Send + Sync + 'static,
    C: Codec<Tx, Rx> + Clone,
{
    let sub = Sub::new(&opts);
    let (state, message, error, metrics) = (sub.sig.state, sub.sig.message, sub.sig.error, sub.sig.metrics);
    let hook = SendWrapper::new(Rc::new(Hook { sub, conn: RefCell::new(None), opts }));

    // Attach now, so `send` queues from the first moment; the effect then
    // follows changes of the URL.
    let initial = url.get_untracked();
    hook.url_changed(resolve_url(&initial, &page_href()), true);
    let h = hook.clone();
    Effect::new(move |prev: Option<String>| {
        let u = url.get();
        if *prev.as_ref().unwrap_or(&initial) != u {
            h.url_changed(resolve_url(&u, &page_href()), false);
        }
        u
    });
    let h = hook.clone();
    on_cleanup(move || h.dispose());

    let command = |f: fn(&mut crate::driver::Driver, f64)| -> Command {
        let h = hook.clone();
        Arc::new(move || {
            if let Some(conn) = h.conn().filter(|_| h.sub.mounted()) {
                conn.step(f);
            }
        })
    };
    let sender = |direct: bool| -> SendFn<Tx> {
        let h = hook.clone();
        Arc::new(move |tx: &Tx| {
            let conn = h.conn().filter(|_| h.sub.mounted()).ok_or(WsError::Disposed)?;
            if direct { conn.try_send(tx, &h.sub) } else { conn.send(tx, &h.sub) }
        })
    };
    UseWebSocketReturn {
        state: state.read_only().into(),
        message: message.read_only().into(),
        error: error.read_only().into(),
        metrics: metrics.read_only().into(),
        send: sender(false),
        try_send: sender(true),
        open: command(|d, now| d.open(now)),
        close: command(|d, now| d.close(now)),
        reconnect_now: command(|d, now| d.open(now)),
    }
}
