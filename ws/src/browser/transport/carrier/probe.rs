//! Probing WebSocket while on a fallback, and switching back to it
//! make-before-break: the probe sends the handshake frames and must get a
//! frame back; sends are then held until the fallback's POSTs drain, the
//! WebSocket takes over, the fallback session is closed.

use super::{Carrier, PROBE_BUFFER, Probe, SWITCH_POLL_MS, SWITCH_WAIT_TRIES};
use crate::browser::socket::{Live, SocketEvent};
use crate::browser::transport::Pipe;
use crate::close_code;
use crate::driver::timer_delay_ms;
use gloo_timers::callback::Timeout;

impl Carrier {
    /// WebSocket probes started on this hook, whatever came of them.
    pub fn probes(&self) -> u32 {
        self.probes.get()
    }

    pub(super) fn schedule_probe(&self) {
        let delay = self.selector.borrow_mut().next_probe_ms();
        let Some(ms) = delay else { return };
        let me = self.me.clone();
        *self.probe_timer.borrow_mut() = Some(Timeout::new(timer_delay_ms(ms), move || {
            if let Some(c) = me.upgrade() {
                c.probe_timer.borrow_mut().take();
                c.start_probe();
            }
        }));
    }

    pub(super) fn start_probe(&self) {
        if self.probe.borrow().is_some() {
            return;
        }
        let attempt = self.selector.borrow_mut().probe();
        let Some(attempt) = attempt else { return };
        self.probe_timer.borrow_mut().take();
        self.probes.set(self.probes.get().saturating_add(1));
        if let Some(host) = self.host() {
            host.probing();
        }
        let id = self.fresh_generation();
        let me = self.me.clone();
        let sink = move |ev| {
            if let Some(c) = me.upgrade() {
                c.on_pipe(id, ev);
            }
        };
        let url = self.url.borrow().clone();
        match Live::connect(&url, &self.protocols, sink) {
            Ok(live) => {
                *self.probe.borrow_mut() = Some(Probe { live, id, frames: Vec::new(), verified: false });
                *self.probe_deadline.borrow_mut() = attempt.deadline_ms.map(|ms| {
                    let me = self.me.clone();
                    Timeout::new(timer_delay_ms(ms), move || {
                        if let Some(c) = me.upgrade() {
                            let unverified = c.probe.borrow().as_ref().is_some_and(|p| p.id == id && !p.verified);
                            if unverified {
                                c.probe_failed("no frame in time");
                            }
                        }
                    })
                });
            }
            Err(e) => self.probe_failed(&e),
        }
    }

    pub(super) fn on_probe(&self, ev: SocketEvent) {
        match ev {
            SocketEvent::Open => {
                let frames = self.host().map(|h| h.handshake_frames(true)).unwrap_or_default();
                let mut probe = self.probe.borrow_mut();
                let Some(p) = probe.as_mut() else { return };
                for f in &frames {
                    p.live.transmit(f);
                }
                if frames.is_empty() {
                    p.verified = true; // nothing to answer: open is all there is
                    drop(probe);
                    self.try_switch(0);
                }
            }
            SocketEvent::Message(frame) => {
                let mut probe = self.probe.borrow_mut();
                let Some(p) = probe.as_mut() else { return };
                p.frames.push(frame);
                let (first, overflow) = (!std::mem::replace(&mut p.verified, true), p.frames.len() > PROBE_BUFFER);
                drop(probe);
                if overflow {
                    self.probe_failed("too many frames while waiting to switch");
                } else if first {
                    self.probe_deadline.borrow_mut().take();
                    self.try_switch(0);
                }
            }
            SocketEvent::Error => {}
            SocketEvent::Close { code, reason, .. } => self.probe_failed(&format!("closed {code} {reason}")),
        }
    }

    pub(super) fn probe_failed(&self, why: &str) {
        web_sys::console::info_1(
            &format!("use_websocket: WebSocket probe failed ({why}); staying on the fallback").into(),
        );
        let probe = self.probe.borrow_mut().take();
        drop(probe);
        self.probe_deadline.borrow_mut().take();
        let remember = self.selector.borrow_mut().probe_failed();
        self.store(remember);
        self.release_held();
        self.schedule_probe();
    }

    /// Switch to the verified probe once the fallback has nothing left to
    /// POST (sends meanwhile are held), or after waiting long enough (then
    /// what it had not delivered moves to the WebSocket).
    pub(super) fn try_switch(&self, tries: u32) {
        let idle = self.pipe.borrow().as_ref().is_none_or(Pipe::upstream_idle);
        if idle || tries >= SWITCH_WAIT_TRIES {
            return self.switch();
        }
        let me = self.me.clone();
        *self.switch_wait.borrow_mut() = Some(Timeout::new(SWITCH_POLL_MS, move || {
            if let Some(c) = me.upgrade() {
                c.try_switch(tries + 1);
            }
        }));
    }

    pub(super) fn switch(&self) {
        self.switch_wait.borrow_mut().take();
        let probe = self.probe.borrow_mut().take();
        let Some(probe) = probe else { return self.release_held() };
        self.probe_deadline.borrow_mut().take();
        self.probe_timer.borrow_mut().take();
        let old = self.pipe.borrow_mut().replace(Pipe::Ws(probe.live));
        self.id.set(probe.id);
        self.presented.set(true);
        let mut resend = old.as_ref().map(Pipe::take_unaccepted).unwrap_or_default();
        if let Some(old) = old {
            old.shutdown(close_code::NORMAL, "back on WebSocket");
        }
        let remember = self.selector.borrow_mut().probe_succeeded();
        self.store(remember);
        resend.append(&mut self.held.borrow_mut());
        let Some(host) = self.host() else { return };
        host.switched();
        for f in &resend {
            self.transmit(f);
        }
        for f in probe.frames {
            if self.id.get() != probe.id {
                return;
            }
            host.event(SocketEvent::Message(f));
        }
    }

    /// A switch that will not happen: held frames go to the current pipe.
    pub(super) fn release_held(&self) {
        self.switch_wait.borrow_mut().take();
        let held = std::mem::take(&mut *self.held.borrow_mut());
        for f in &held {
            self.transmit(f);
        }
    }

    pub(super) fn stop_probing(&self) {
        let probe = self.probe.borrow_mut().take();
        drop(probe);
        self.probe_deadline.borrow_mut().take();
        self.probe_timer.borrow_mut().take();
        if self.switch_wait.borrow_mut().take().is_some() {
            self.release_held();
        }
    }
}
