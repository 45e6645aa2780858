//! The tabs' `BroadcastChannel`: post [`Wire`] messages (as bytes), hear the others'.
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
            let bytes = e.data().dyn_into::<js_sys::Uint8Array>().ok().map(|a| a.to_vec());
            if let Some(w) = bytes.as_deref().and_then(Wire::from_bytes) {
                sink(w);
            }
        });
        bc.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        Ok(Self { bc, _on_message: on_message })
    }

    pub fn post(&self, w: &Wire) {
        let _ = self.bc.post_message(&js_sys::Uint8Array::from(&w.to_bytes()[..]));
    }
}

impl Drop for Channel {
    fn drop(&mut self) {
        self.bc.set_onmessage(None);
        self.bc.close();
    }
}
