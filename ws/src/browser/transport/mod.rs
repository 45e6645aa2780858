//! The transports a connection can ride on: a WebSocket ([`Live`]) or the
//! emulated connection over HTTP (`Emulated`, SSE or long-poll down, POST
//! up), behind one interface (`Pipe`) that reports the same
//! [`SocketEvent`]s, and the [`Carrier`] that picks among them. Without the
//! `fallback` feature only the WebSocket is compiled, and the carrier is the
//! one in `direct`.

#[cfg(feature = "fallback")]
mod carrier;
#[cfg(not(feature = "fallback"))]
mod direct;
#[cfg(feature = "fallback")]
mod emulated;
#[cfg(feature = "fallback")]
mod http;
#[cfg(feature = "fallback")]
mod poll;
#[cfg(feature = "fallback")]
mod sse;

#[cfg(feature = "fallback")]
pub(crate) use carrier::Carrier;
#[cfg(not(feature = "fallback"))]
pub(crate) use direct::Carrier;

use super::socket::SocketEvent;
#[cfg(feature = "fallback")]
use {
    super::socket::Live,
    crate::codec::Frame,
    crate::emulated::{CloseInfo, WireError},
    crate::metrics::Transport,
    emulated::Emulated,
    std::rc::Rc,
};

/// The connection the carrier works for.
pub(crate) trait Host {
    /// Every subscriber's handshake frames, encoded: for the transport that
    /// just opened (`probe == false`: they count as sent on it) or for a probe.
    #[cfg(feature = "fallback")]
    fn handshake_frames(&self, probe: bool) -> Vec<Frame>;
    /// The connection's events: `Open` once a transport works, frames, the
    /// browser's errors, `Close` once none is left.
    fn event(&self, ev: SocketEvent);
    /// A probe took over: the connection now runs on a WebSocket.
    #[cfg(feature = "fallback")]
    fn switched(&self);
    /// The attempt moved on to the next transport (its connect timeout
    /// starts again).
    #[cfg(feature = "fallback")]
    fn next_transport(&self);
    /// A WebSocket probe started: the metrics show it.
    #[cfg(feature = "fallback")]
    fn probing(&self);
    /// Frames counted as sent that the server never accepted (a fallback
    /// closed with them waiting for their POST): they go back to the front
    /// of the send queue, oldest first, to go out on the next connection.
    #[cfg(feature = "fallback")]
    fn unsent(&self, frames: Vec<Frame>);
}

/// What the carrier is built with: the subprotocols, and how to fall back.
#[derive(Clone)]
pub(crate) struct CarrierSettings {
    pub protocols: Vec<String>,
    #[cfg(feature = "fallback")]
    pub fallback: crate::fallback::FallbackConfig,
}

/// What an SSE stream or a poll reports to its emulated connection.
#[cfg(feature = "fallback")]
pub(crate) enum DownEvent {
    /// Frame number n (or why it could not be read).
    Frame(u64, Result<Frame, String>),
    /// A heartbeat or an empty poll: the stream works.
    Alive,
    /// The server ended the session.
    Closed(CloseInfo),
    /// The stream or poll failed; re-attaching may help.
    Broken(String),
    /// The server answered the poll with an error.
    Refused(WireError),
}

/// One transport instance.
#[cfg(feature = "fallback")]
pub(crate) enum Pipe {
    Ws(Live),
    Emu(Rc<Emulated>),
}

#[cfg(feature = "fallback")]
impl Pipe {
    /// Open `transport` to the WebSocket URL `url`, reporting to `sink`.
    pub fn open(
        transport: Transport,
        url: &str,
        protocols: &[String],
        reattach_limit: u32,
        sink: impl Fn(SocketEvent) + Clone + 'static,
    ) -> Result<Self, String> {
        match transport {
            Transport::WebSocket => Live::connect(url, protocols, sink).map(Pipe::Ws),
            mode => Emulated::start(url, mode, reattach_limit, sink).map(Pipe::Emu),
        }
    }

    pub fn transmit(&self, frame: &Frame) -> bool {
        match self {
            Pipe::Ws(l) => l.transmit(frame),
            Pipe::Emu(e) => e.transmit(frame),
        }
    }

    /// Start a graceful close; the close is reported when it is done.
    pub fn close(&self, code: u16, reason: &str) {
        match self {
            Pipe::Ws(l) => l.close(code, reason),
            Pipe::Emu(e) => e.close(code, reason),
        }
    }

    /// End now, reporting nothing more.
    pub fn shutdown(&self, code: u16, reason: &str) {
        match self {
            Pipe::Ws(l) => l.shutdown(code, reason),
            Pipe::Emu(e) => e.shutdown(),
        }
    }

    /// Nothing is waiting to go up (always true for a WebSocket, which has
    /// handed everything to the browser).
    pub fn upstream_idle(&self) -> bool {
        match self {
            Pipe::Ws(_) => true,
            Pipe::Emu(e) => e.upstream_idle(),
        }
    }

    /// Frames the server has not accepted yet, taken out.
    pub fn take_unaccepted(&self) -> Vec<Frame> {
        match self {
            Pipe::Ws(_) => Vec::new(),
            Pipe::Emu(e) => e.take_unaccepted(),
        }
    }
}
