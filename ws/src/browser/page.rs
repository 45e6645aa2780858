//! The page's network and visibility, as events: `online`/`offline` on the
//! window and `visibilitychange` on the document. Dropping a [`PageWatch`]
//! detaches its listeners.

use gloo_events::EventListener;
use std::rc::Rc;
use web_sys::VisibilityState;

/// What changed on the page.
#[derive(Clone, Copy, Debug)]
pub(crate) enum PageEvent {
    Online(bool),
    Visible(bool),
}

/// Listeners on the page, alive as long as this value.
pub(crate) struct PageWatch {
    _listeners: Vec<EventListener>,
}

impl PageWatch {
    /// The current state (online, visible), and a watch that reports changes to `sink`.
    pub fn start(sink: impl Fn(PageEvent) + 'static) -> ((bool, bool), Self) {
        let Some(window) = web_sys::window() else { return ((true, true), Self { _listeners: Vec::new() }) };
        let document = window.document();
        let online = window.navigator().on_line();
        let visible = document.as_ref().is_none_or(|d| d.visibility_state() == VisibilityState::Visible);
        let sink = Rc::new(sink);
        let mut listeners = Vec::new();
        for (name, up) in [("online", true), ("offline", false)] {
            let sink = sink.clone();
            listeners.push(EventListener::new(&window, name, move |_| sink(PageEvent::Online(up))));
        }
        if let Some(doc) = document {
            let target = doc.clone();
            listeners.push(EventListener::new(&doc, "visibilitychange", move |_| {
                sink(PageEvent::Visible(target.visibility_state() == VisibilityState::Visible))
            }));
        }
        ((online, visible), Self { _listeners: listeners })
    }
}
