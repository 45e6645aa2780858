//! One browser `WebSocket` and the four handlers attached to it.
//!
//! The handlers are owned `Closure`s stored next to the socket, never
//! `forget()`-leaked: `shutdown` (also run on drop) detaches them from the
//! socket before they are freed, so the browser can never call into a freed
//! closure and a replaced socket can never report into the hook again.

use super::registry;
use crate::codec::Frame;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, CloseEvent, Event, MessageEvent, WebSocket};

/// What the socket reports, tagged with the generation of the socket it came
/// from so the hook can ignore anything but its current one.
pub(crate) enum SocketEvent {
    Open,
    Message(Frame),
    /// The browser's `error` event: no detail, and a close always follows.
    Error,
    Close {
        code: u16,
        reason: String,
        was_clean: bool,
    },
}

/// A socket with its handlers attached.
pub(crate) struct Live {
    ws: WebSocket,
    on_open: Closure<dyn FnMut(Event)>,
    on_message: Closure<dyn FnMut(MessageEvent)>,
    on_error: Closure<dyn FnMut(Event)>,
    on_close: Closure<dyn FnMut(CloseEvent)>,
    mark: Rc<registry::SocketMark>,
}

impl Live {
    /// Create the socket. Fails synchronously for a URL the browser rejects.
    pub fn connect(
        url: &str,
        protocols: &[String],
        sink: impl Fn(SocketEvent) + Clone + 'static,
    ) -> Result<Self, String> {
        let ws = if protocols.is_empty() {
            WebSocket::new(url)
        } else {
            let list: js_sys::Array = protocols.iter().map(|p| JsValue::from_str(p)).collect();
            WebSocket::new_with_str_sequence(url, &list)
        }
        .map_err(|e| js_error_text(&e, "the browser refused the URL"))?;
        ws.set_binary_type(BinaryType::Arraybuffer);
        let mark = registry::socket_created(&ws);
        let s = sink.clone();
        let on_open = Closure::<dyn FnMut(Event)>::new(move |_| s(SocketEvent::Open));
        let s = sink.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            let data = e.data();
            let frame = match data.as_string() {
                Some(text) => Frame::Text(text),
                None => Frame::Binary(
                    data.dyn_ref::<js_sys::ArrayBuffer>()
                        .map_or_else(Vec::new, |b| js_sys::Uint8Array::new(b).to_vec()),
                ),
            };
            s(SocketEvent::Message(frame));
        });
        // onerror carries no detail and is always followed by onclose, which
        // is where the decision is made; reacting to both is how other
        // clients end up scheduling two reconnects. It is only reported.
        let s = sink.clone();
        let on_error = Closure::<dyn FnMut(Event)>::new(move |_| s(SocketEvent::Error));
        let s = sink;
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
            s(SocketEvent::Close { code: e.code(), reason: e.reason(), was_clean: e.was_clean() });
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(Self { ws, on_open, on_message, on_error, on_close, mark })
    }

    /// Hand a frame to the browser. Only while OPEN: after the socket starts
    /// closing, the browser would accept and silently discard it.
    pub fn transmit(&self, frame: &Frame) -> bool {
        self.ws.ready_state() == WebSocket::OPEN
            && match frame {
                Frame::Text(t) => self.ws.send_with_str(t).is_ok(),
                Frame::Binary(b) => self.ws.send_with_u8_array(b).is_ok(),
            }
    }

    /// Start a graceful close, keeping the handlers to see it finish.
    pub fn close(&self, code: u16, reason: &str) {
        if matches!(self.ws.ready_state(), WebSocket::CONNECTING | WebSocket::OPEN) {
            let _ = self.ws.close_with_code_and_reason(code, reason);
        }
    }

    /// Detach every handler, then close if still connecting or open.
    pub fn shutdown(&self, code: u16, reason: &str) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onerror(None);
        self.ws.set_onclose(None);
        self.close(code, reason);
        // Let go of only once it is closing: a socket the browser refused to
        // close stays held, so the debug leak check still reports it.
        if matches!(self.ws.ready_state(), WebSocket::CLOSING | WebSocket::CLOSED) {
            self.mark.release();
        }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        // Idempotent: detaching twice and closing a closing socket are no-ops.
        self.shutdown(1000, "replaced");
        let _ = (&self.on_open, &self.on_message, &self.on_error, &self.on_close);
    }
}

/// A browser exception as text (its message), through `Display`: `{:?}` of a
/// `JsValue` pulls wasm-bindgen's `debugString` glue into every app, and would
/// print nothing in a build with `-Zfmt-debug=none` (README, "App size").
pub(crate) fn js_error_text(e: &JsValue, otherwise: &str) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| otherwise.into())
}
