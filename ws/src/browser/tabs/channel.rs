//! The tabs' `BroadcastChannel`: post [`Wire`] messages, hear the others'.
//! The handler is owned and detached on drop, never leaked.

use crate::browser::socket::js_error_text;
use crate::tabs::wire::Wire;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{BroadcastChannel, MessageEvent};

pub(crate) struct Channel {
    bc: BroadcastChannel,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
}

impl Channel {
    pub fn open(name: &str, sink: impl Fn(Wire) + 'static) -> Result<Self, String> {
        let bc = BroadcastChannel::new(name).map_err(|e| js_error_text(&e, "no BroadcastChannel"))?;
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            if let Some(w) = e.data().as_string().as_deref().and_then(Wire::decode) {
                sink(w);
            }
        });
        bc.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        Ok(Self { bc, _on_message: on_message })
    }

    pub fn post(&self, w: &Wire) {
        let _ = self.bc.post_message(&JsValue::from_str(&w.encode()));
    }
}

impl Drop for Channel {
    fn drop(&mut self) {
        self.bc.set_onmessage(None);
        self.bc.close();
    }
}
