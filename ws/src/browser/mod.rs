//! The hook in a browser: a subscriber, the connection it is subscribed to
//! (its own, or a shared one), and the effect that follows the URL.

mod conn;
mod link;
mod next_task;
mod page;
mod publish;
pub mod registry;
mod settings;
mod shared;
mod socket;
mod sub;
#[cfg(feature = "tabs")]
mod tabs;
mod transport;

pub use conn::now_ms;
pub use shared::live_shared;

use crate::codec::Codec;
use crate::options::UseWebSocketOptions;
use crate::url::resolve_url;
use crate::{Command, SendFn, UseWebSocketReturn, WsError};
use conn::Conn;
use leptos::prelude::*;
use link::{Control, Link};
use send_wrapper::SendWrapper;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use sub::Sub;

/// One hook instance.
struct Hook<Tx: 'static, Rx: Send + Sync + 'static, C: 'static> {
    sub: Rc<Sub<Tx, Rx>>,
    conn: RefCell<Option<Link<Tx, Rx, C>>>,
    opts: UseWebSocketOptions<Tx, Rx, C>,
}

impl<Tx, Rx, C> Hook<Tx, Rx, C>
where
    Tx: 'static,
    Rx: Clone + Send + Sync + 'static,
    C: Codec<Tx, Rx> + Clone,
{
    fn conn(&self) -> Option<Link<Tx, Rx, C>> {
        self.conn.borrow().clone()
    }

    /// The cross-tab node for `url`, or why there cannot be one.
    #[cfg(feature = "tabs")]
    fn tab_node(&self, url: &Result<String, String>) -> Result<Link<Tx, Rx, C>, String> {
        if let Some(why) = tabs::unavailable() {
            return Err(why);
        }
        let name = url.as_ref().unwrap_or_else(|e| e);
        let base = format!("tether-ws/{} {name} {}", crate::tabs::wire::WIRE_VERSION, self.opts.tabs_key);
        let key = shared::Key::new::<Tx, Rx, C>(&base);
        if let Some(node) = shared::lookup::<tabs::TabNode<Tx, Rx, C>>(&key) {
            return Ok(Link::Tabs(node));
        }
        let settings = conn::ConnSettings::from_options(&self.opts);
        let node = tabs::TabNode::new(base, url.clone(), settings, self.opts.immediate)?;
        shared::remember(&key, &node);
        node.on_dispose(move || shared::forget(&key));
        Ok(Link::Tabs(node))
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
        // Why this page's connection stands in for the tabs' one.
        #[cfg(feature = "tabs")]
        let mut fallback = None;
        #[cfg(feature = "tabs")]
        if self.opts.across_tabs {
            match self.tab_node(&url) {
                Ok(link) => {
                    self.attach(link);
                    return;
                }
                Err(why) => fallback = Some(why),
            }
        }
        if !self.opts.share && !self.opts.across_tabs() {
            let conn = match self.conn() {
                Some(Link::Page(c)) => c,
                _ => {
                    let conn = Conn::new(&self.opts, self.opts.codec.clone());
                    conn.subscribe(self.sub.clone());
                    *self.conn.borrow_mut() = Some(Link::Page(conn.clone()));
                    conn
                }
            };
            conn.set_url(url, open);
            return;
        }
        let key = shared::Key::new::<Tx, Rx, C>(url.as_ref().unwrap_or_else(|e| e));
        let (conn, created) = shared::get_or_create(&key, || Conn::new(&self.opts, self.opts.codec.clone()));
        if created {
            conn.on_dispose(move || shared::forget(&key));
            conn.set_url(url, false);
            #[cfg(feature = "tabs")]
            if let Some(why) = fallback {
                let stamp =
                    conn::Stamp { role: crate::metrics::Role::Standalone, fallback: Some(why), ..Default::default() };
                conn.set_stamp(stamp);
            }
        }
        if !self.attach(Link::Page(conn.clone())) {
            return;
        }
        // A newcomer opens an idle shared connection, but never resets the
        // backoff of one that is already trying.
        if self.opts.immediate && matches!(conn.state(), crate::ConnState::Idle) {
            conn.step(|d, now| d.open(now));
        }
    }

    /// Subscribe to `link`, leaving the previous one; false if it is the same.
    fn attach(&self, link: Link<Tx, Rx, C>) -> bool {
        let old = self.conn.borrow_mut().replace(link.clone());
        if let Some(old) = old {
            if old.same(&link) {
                return false;
            }
            old.unsubscribe(&self.sub);
        }
        link.subscribe(self.sub.clone());
        true
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
        // The caller's signal may be gone: an effect already notified runs
        // once more after unmount.
        let Some(u) = url.try_get() else { return prev.unwrap_or_default() };
        if *prev.as_ref().unwrap_or(&initial) != u {
            h.url_changed(resolve_url(&u, &page_href()), false);
        }
        u
    });
    let h = hook.clone();
    on_cleanup(move || h.dispose());

    let command = |cmd: Control| -> Command {
        let h = hook.clone();
        Arc::new(move || {
            if let Some(conn) = h.conn().filter(|_| h.sub.mounted()) {
                conn.command(cmd);
            }
        })
    };
    let sender = |direct: bool| -> SendFn<Tx> {
        let h = hook.clone();
        Arc::new(move |tx: &Tx| {
            let conn = h.conn().filter(|_| h.sub.mounted()).ok_or(WsError::Disposed)?;
            conn.send(tx, &h.sub, direct)
        })
    };
    UseWebSocketReturn {
        state: state.read_only().into(),
        message: message.read_only().into(),
        error: error.read_only().into(),
        metrics: metrics.read_only().into(),
        transport: Memo::new(move |_| metrics.with(|m| m.transport)).into(),
        send: sender(false),
        try_send: sender(true),
        open: command(Control::Open),
        close: command(Control::Close),
        reconnect_now: command(Control::Open),
    }
}
