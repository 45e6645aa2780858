//! The SSE half of the emulated connection: one `EventSource` and its
//! listeners, owned together. Dropping it detaches the listeners and closes
//! the stream, so nothing is left running (counted in the registry).

use super::DownEvent;
use crate::browser::registry;
use crate::codec::Frame;
use crate::emulated::{CloseInfo, decode_binary};
use gloo_events::EventListener;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{EventSource, MessageEvent};

pub(crate) struct SseStream {
    es: EventSource,
    _listeners: Vec<EventListener>,
}

impl SseStream {
    /// Open `url` (`{base}/sse?session=…&after=…`), reporting to `sink`.
    pub fn open(url: &str, sink: Rc<dyn Fn(DownEvent)>) -> Result<Self, String> {
        let es = EventSource::new(url).map_err(|_| format!("EventSource refused {}", crate::url::Quoted(url)))?;
        registry::event_source(true);
        let numbered = |e: &MessageEvent| e.last_event_id().trim().parse::<u64>().ok();
        let data = |e: &MessageEvent| e.data().as_string().unwrap_or_default();
        let mut listeners = Vec::new();
        let s = sink.clone();
        listeners.push(EventListener::new(&es, "message", move |e| {
            let Some(e) = e.dyn_ref::<MessageEvent>() else { return };
            match numbered(e) {
                Some(n) => s(DownEvent::Frame(n, Ok(Frame::Text(data(e))))),
                None => s(DownEvent::Frame(0, Err("an SSE frame without an id".into()))),
            }
        }));
        let s = sink.clone();
        listeners.push(EventListener::new(&es, "b", move |e| {
            let Some(e) = e.dyn_ref::<MessageEvent>() else { return };
            s(DownEvent::Frame(numbered(e).unwrap_or(0), decode_binary(&data(e))))
        }));
        let s = sink.clone();
        listeners.push(EventListener::new(&es, "ping", move |_| s(DownEvent::Alive)));
        let s = sink.clone();
        listeners.push(EventListener::new(&es, "close", move |e| {
            let info = e
                .dyn_ref::<MessageEvent>()
                .and_then(|e| serde_json::from_str::<CloseInfo>(&data(e)).ok())
                .unwrap_or(CloseInfo { code: 1006, reason: "session ended".into() });
            s(DownEvent::Closed(info))
        }));
        let s = sink;
        listeners.push(EventListener::new(&es, "error", move |_| s(DownEvent::Broken("event stream error".into()))));
        Ok(Self { es, _listeners: listeners })
    }
}

impl Drop for SseStream {
    fn drop(&mut self) {
        // Listeners go with `_listeners` right after; close first so the
        // browser stops reconnecting on its own.
        self.es.close();
        registry::event_source(false);
    }
}
