//! What the current pipe's events mean. Before its first frame, an error,
//! a close or the deadline passing moves on to the next transport; once it
//! proved itself they are the connection's own and go to the host, with
//! whatever the server never accepted handed back. Apart from opening and
//! the driver's commands because this is where a transport is judged.

use super::Carrier;
use crate::browser::socket::SocketEvent;
use crate::browser::transport::Pipe;
use crate::close_code;
use crate::codec::Frame;
use crate::fallback::{AfterFailure, Remember};

impl Carrier {
    pub(super) fn on_pipe(&self, id: u64, ev: SocketEvent) {
        let probe_id = self.probe.borrow().as_ref().map(|p| p.id);
        if probe_id == Some(id) {
            return self.on_probe(ev);
        }
        if id != self.id.get() {
            return;
        }
        let Some(host) = self.host() else { return };
        match ev {
            SocketEvent::Open => {
                let mut spoke = false;
                if self.cfg.enabled {
                    let frames = host.handshake_frames(false);
                    self.presented.set(true);
                    for f in &frames {
                        self.transmit(f);
                    }
                    spoke = !frames.is_empty();
                    *self.handshake.borrow_mut() = frames;
                }
                let working = self.selector.borrow_mut().opened(spoke);
                if let Some(remember) = working {
                    self.working(remember);
                    host.event(SocketEvent::Open);
                }
            }
            SocketEvent::Message(frame) => {
                let first = self.selector.borrow_mut().first_frame();
                if let Some(remember) = first {
                    self.working(remember);
                    host.event(SocketEvent::Open);
                    if id != self.id.get() {
                        return; // the app closed or moved the connection from on_open
                    }
                }
                host.event(SocketEvent::Message(frame));
            }
            SocketEvent::Error => {
                if self.selector.borrow().verified() || self.closing.get() {
                    host.event(SocketEvent::Error);
                }
            }
            SocketEvent::Close { code, reason, was_clean } => {
                let old = self.pipe.borrow_mut().take();
                self.deadline.borrow_mut().take();
                let verified = self.selector.borrow().verified();
                if verified || self.closing.get() {
                    let unsent = self.unaccepted(old.as_ref());
                    self.stop_probing();
                    self.selector.borrow_mut().lost();
                    drop(old);
                    if !unsent.is_empty() {
                        host.unsent(unsent);
                    }
                    host.event(SocketEvent::Close { code, reason, was_clean });
                } else {
                    self.fall(code, reason, was_clean);
                }
            }
        }
    }

    /// What `pipe` took but the server never accepted, less the rest of
    /// the handshake it opened with (the next connection sends its own),
    /// then the frames held for a switch.
    fn unaccepted(&self, pipe: Option<&Pipe>) -> Vec<Frame> {
        let mut frames = pipe.map(Pipe::take_unaccepted).unwrap_or_default();
        let handshake = std::mem::take(&mut *self.handshake.borrow_mut());
        let rest = (0..=handshake.len()).map(|j| &handshake[j..]).find(|h| frames.starts_with(h)).unwrap_or(&[]);
        frames.drain(..rest.len());
        frames.append(&mut self.held.borrow_mut());
        frames
    }

    /// The current transport works.
    fn working(&self, remember: Remember) {
        self.deadline.borrow_mut().take();
        self.store(remember);
        let recheck = self.selector.borrow().recheck_now();
        if self.probe_soon.replace(false) || recheck {
            self.start_probe();
        } else {
            self.schedule_probe();
        }
    }

    pub(super) fn deadline_passed(&self, id: u64, ms: f64) {
        if id != self.id.get() || self.selector.borrow().verified() {
            return;
        }
        let old = self.pipe.borrow_mut().take();
        if let Some(p) = old {
            p.shutdown(close_code::NORMAL, "no frame in time");
        }
        self.fall(close_code::CONNECT_TIMEOUT, format!("no frame within {ms} ms"), false);
    }

    /// The current transport failed before its first frame: the next one,
    /// or report the connection lost.
    fn fall(&self, code: u16, reason: String, was_clean: bool) {
        let next = self.selector.borrow_mut().failed_with(code == close_code::CONNECT_TIMEOUT);
        match next {
            AfterFailure::Try(attempt) => {
                if let Some(host) = self.host() {
                    host.next_transport();
                }
                if let Err(e) = self.open_pipe(attempt) {
                    self.fall(1006, e, false);
                }
            }
            AfterFailure::Lost => {
                self.id.set(self.fresh_generation());
                if let Some(host) = self.host() {
                    host.event(SocketEvent::Close { code, reason, was_clean });
                }
            }
        }
    }
}
