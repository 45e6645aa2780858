//! The transports a connection can ride on: a WebSocket ([`Live`]) or the
//! emulated connection over HTTP ([`Emulated`], SSE or long-poll down, POST
//! up), behind one interface ([`Pipe`]) that reports the same
//! [`SocketEvent`]s, and the [`Carrier`] that picks among them.

mod carrier;
mod emulated;
mod http;
mod poll;
mod sse;

pub(crate) use carrier::{Carrier, Host};

use super::socket::{Live, SocketEvent};
use crate::codec::Frame;
use crate::emulated::{CloseInfo, WireError};
use crate::metrics::Transport;
use emulated::Emulated;
use std::rc::Rc;

/// What an SSE stream or a poll reports to its emulated connection.
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
pub(crate) enum Pipe {
    Ws(Live),
    Emu(Rc<Emulated>),
}

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
