//! The hook outside a browser (server-side rendering, native tests, a worker
//! without `window`): inert. Signals hold their initial values, commands do
//! nothing, and `send` says why it cannot send. It never panics, so a
//! component using the hook renders on a server the same as in the browser
//! before its first connection.

use crate::{ConnState, Metrics, UseWebSocketReturn, WsError};
use leptos::prelude::*;
use std::sync::Arc;

pub(crate) fn use_websocket<Tx: 'static, Rx: Send + Sync + 'static>() -> UseWebSocketReturn<Tx, Rx> {
    let nothing = || -> crate::Command { Arc::new(|| {}) };
    let refuse = || -> crate::SendFn<Tx> { Arc::new(|_: &Tx| Err(WsError::NotInBrowser)) };
    UseWebSocketReturn {
        state: Signal::stored(ConnState::Idle),
        message: Signal::stored(None),
        error: Signal::stored(None),
        metrics: Signal::stored(Metrics::default()),
        transport: Signal::stored(crate::Transport::WebSocket),
        send: refuse(),
        try_send: refuse(),
        open: nothing(),
        close: nothing(),
        reconnect_now: nothing(),
    }
}

#[cfg(test)]
mod tests {
    use crate::*;
    use leptos::prelude::*;

    #[test]
    fn outside_a_browser_the_hook_is_inert_and_never_panics() {
        let owner = Owner::new();
        owner.with(|| {
            let url = RwSignal::new("/ws".to_owned());
            let ws = use_websocket_with_options::<String, String, _>(
                url,
                UseWebSocketOptions::with_codec(TextCodec).share(true).heartbeat(1, 1, |n| n.to_string(), |_| None),
            );
            assert_eq!(ws.state.get_untracked(), ConnState::Idle);
            assert_eq!((ws.send)(&"hi".to_owned()), Err(WsError::NotInBrowser));
            assert_eq!((ws.try_send)(&"hi".to_owned()), Err(WsError::NotInBrowser));
            (ws.open)();
            (ws.reconnect_now)();
            (ws.close)();
            url.set("ws://elsewhere/ws".into());
            assert_eq!(ws.state.get_untracked(), ConnState::Idle);
            assert_eq!(ws.message.get_untracked(), None);
            assert_eq!(ws.metrics.get_untracked(), Metrics::default());
            let json: UseWebSocketReturn<u32, u32> = use_websocket("ws://x/ws");
            assert_eq!((json.send)(&1), Err(WsError::NotInBrowser));
        });
        owner.cleanup();
    }
}
