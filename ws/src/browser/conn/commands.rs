//! Carrying out the driver's commands: transmitting frames (handing back
//! the ones the transport would not take), the socket's lifecycle, pings
//! and timers.

use super::Conn;
use crate::WsError;
use crate::codec::Codec;
use crate::driver::{Cmd, timer_delay_ms};
use gloo_timers::callback::Timeout;

impl<Tx, Rx, C> Conn<Tx, Rx, C>
where
    Tx: 'static,
    Rx: Clone + Send + Sync + 'static,
    C: Codec<Tx, Rx>,
{
    pub(super) fn run_commands(&self) {
        loop {
            let cmds = self.driver.borrow_mut().take_commands();
            if cmds.is_empty() {
                return;
            }
            let mut unsent = Vec::new();
            for cmd in cmds {
                match cmd {
                    Cmd::Transmit { frame, queued_at } => {
                        let ok = unsent.is_empty() && self.transmit(&frame);
                        match queued_at {
                            _ if ok => {}
                            Some(at) => unsent.push((frame, at)),
                            None => {
                                self.direct_failed.set(true);
                                self.driver.borrow_mut().not_transmitted(&frame);
                            }
                        }
                    }
                    other => self.execute(other),
                }
            }
            if !unsent.is_empty() {
                self.driver.borrow_mut().untransmitted(unsent);
            }
        }
    }

    fn execute(&self, cmd: Cmd) {
        match cmd {
            Cmd::Connect { url } => self.connect(&url),
            Cmd::Close { code, reason } => self.carrier.close(code, reason),
            Cmd::Abandon { code, reason } => {
                if self.carrier.abandon(code, reason) {
                    self.closed(code, reason, false);
                }
            }
            Cmd::Transmit { .. } => unreachable!("handled in run_commands"),
            Cmd::Handshake => self.handshake(),
            Cmd::Expired(n) => self.subs.report(&WsError::Expired(n)),
            Cmd::Ping { nonce } => {
                let frame = self.ping.as_ref().and_then(|p| self.codec.encode(&p(nonce)).ok());
                if let Some(frame) = frame
                    && self.transmit(&frame)
                {
                    self.driver.borrow_mut().sent_by_glue(frame.len());
                }
            }
            Cmd::SetTimer { kind, delay_ms } => {
                let me = self.me.clone();
                let t = Timeout::new(timer_delay_ms(delay_ms), move || {
                    if let Some(conn) = me.upgrade() {
                        conn.step(|d, now| d.on_timer(kind, now));
                    }
                });
                self.timers.borrow_mut().insert(kind, t); // replaces (and cancels) any older one
            }
            Cmd::CancelTimer(kind) => {
                self.timers.borrow_mut().remove(&kind);
            }
            Cmd::Warn(w) => web_sys::console::warn_1(&format!("use_websocket: {w}").into()),
        }
    }
}
