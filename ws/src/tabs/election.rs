//! Who leads: the epoch, the lock this tab waits for or holds, and the
//! frozen-leader watch (see the module docs of [`crate::tabs`]).

use super::TabId;

/// Timing of leader beats and of the frozen-leader verdict.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ElectionConfig {
    /// How often the leader beats (and followers check). Default 1 000 ms:
    /// hidden tabs' timers are throttled to about once a second.
    pub beat_ms: f64,
    /// Silence after which followers probe the leader. Default 5 000 ms,
    /// several beats, so a briefly busy leader is not even asked.
    pub frozen_after_ms: f64,
    /// How long a probed leader has to answer before it is replaced.
    /// Default 500 ms (in practice the next tick).
    pub probe_grace_ms: f64,
}

impl Default for ElectionConfig {
    fn default() -> Self {
        Self { beat_ms: 1_000.0, frozen_after_ms: 5_000.0, probe_grace_ms: 500.0 }
    }
}

/// What the glue must do with locks and the socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ElectionCmd {
    /// Queue for the lock of this epoch.
    Request(u64),
    /// Leave the queue of this epoch's lock.
    Abort(u64),
    /// Release this epoch's lock (held).
    Release(u64),
    /// This tab now leads this epoch: open the socket, beat.
    Lead(u64),
    /// This tab no longer leads: close its socket.
    StepDown,
    /// Ask the leader to beat now (post a `Hello`): a leader whose timers are
    /// throttled (a background tab) still answers a message at once; only a
    /// hung page cannot.
    Probe,
}

/// The election state of one tab.
#[derive(Debug)]
pub struct Election {
    cfg: ElectionConfig,
    me: TabId,
    epoch: u64,
    leading: bool,
    /// Started (the highest epoch in use is known).
    started: bool,
    requested: Option<u64>,
    leader: Option<TabId>,
    /// The last beat from the leader of our epoch (or when we started waiting).
    heard_at: f64,
    /// The previous `tick`, to tell our own freeze from the leader's.
    ticked_at: f64,
    /// When the silent leader was asked to beat.
    probed_at: Option<f64>,
    /// Leaders seen, for `leader_changes`.
    leaders_seen: u32,
    cmds: Vec<ElectionCmd>,
}

impl Election {
    /// A tab that has not started yet.
    pub fn new(me: TabId, cfg: ElectionConfig) -> Self {
        Self {
            cfg,
            me,
            epoch: 0,
            leading: false,
            started: false,
            requested: None,
            leader: None,
            heard_at: 0.0,
            ticked_at: 0.0,
            probed_at: None,
            leaders_seen: 0,
            cmds: Vec::new(),
        }
    }

    /// The commands decided since the last call, in order.
    pub fn take_commands(&mut self) -> Vec<ElectionCmd> {
        std::mem::take(&mut self.cmds)
    }

    /// The current epoch.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Whether this tab leads.
    pub fn leading(&self) -> bool {
        self.leading
    }

    /// The leader this tab follows (itself when leading), if known.
    pub fn leader(&self) -> Option<TabId> {
        self.leader
    }

    /// Times leadership moved after the first leader.
    pub fn leader_changes(&self) -> u32 {
        self.leaders_seen.saturating_sub(1)
    }

    /// Start: `highest` is the highest epoch whose lock is held or wanted
    /// (from the lock manager), or one heard meanwhile, if higher.
    pub fn start(&mut self, highest: u64, now: f64) {
        if self.started {
            return;
        }
        self.started = true;
        self.epoch = self.epoch.max(highest);
        self.heard_at = now;
        self.ticked_at = now;
        self.request();
    }

    fn request(&mut self) {
        self.requested = Some(self.epoch);
        self.cmds.push(ElectionCmd::Request(self.epoch));
    }

    fn new_leader(&mut self, tab: TabId) {
        if self.leader != Some(tab) {
            self.leader = Some(tab);
            self.leaders_seen += 1;
        }
    }

    /// The browser granted the lock of `epoch`.
    pub fn granted(&mut self, epoch: u64, now: f64) {
        if epoch != self.epoch || self.requested != Some(epoch) {
            // Stale: we moved on to a higher epoch meanwhile.
            self.cmds.push(ElectionCmd::Release(epoch));
            return;
        }
        self.requested = None;
        self.leading = true;
        self.heard_at = now;
        self.new_leader(self.me);
        self.cmds.push(ElectionCmd::Lead(epoch));
    }

    /// A message from the leader `from` of `epoch` (a beat, a frame...).
    /// Returns whether it is this tab's current leader, whose word counts.
    pub fn heard(&mut self, from: TabId, epoch: u64, now: f64) -> bool {
        if from == self.me || epoch < self.epoch {
            return false; // a stale leader: it steps down when it hears us
        }
        if epoch > self.epoch {
            self.adopt(epoch);
        }
        if self.leading {
            return false; // one holder per epoch: cannot happen
        }
        self.new_leader(from);
        self.heard_at = now;
        self.probed_at = None;
        true
    }

    /// Any tab's word about the epoch it is in (a follower's message).
    pub fn epoch_seen(&mut self, epoch: u64, now: f64) {
        if self.started && epoch > self.epoch {
            self.adopt(epoch);
            self.heard_at = now;
        } else if !self.started {
            self.epoch = self.epoch.max(epoch);
        }
    }

    /// Move to a higher epoch: step down if leading, re-queue.
    fn adopt(&mut self, epoch: u64) {
        if !self.started {
            self.epoch = epoch;
            return;
        }
        if self.leading {
            self.leading = false;
            self.cmds.push(ElectionCmd::StepDown);
            self.cmds.push(ElectionCmd::Release(self.epoch));
        }
        if let Some(old) = self.requested.take() {
            self.cmds.push(ElectionCmd::Abort(old));
        }
        self.epoch = epoch;
        self.leader = None;
        self.request();
    }

    /// Called every `beat_ms`. A follower that heard nothing from a leader
    /// for `frozen_after_ms` probes it, and if it still says nothing within
    /// `probe_grace_ms`, replaces it: epoch + 1, whose lock is free.
    /// Returns true when it gave up on the leader.
    pub fn tick(&mut self, now: f64) -> bool {
        let since_tick = now - self.ticked_at;
        self.ticked_at = now;
        if !self.started || self.leading {
            return false;
        }
        if since_tick > self.cfg.frozen_after_ms / 2.0 {
            // We were frozen ourselves (or throttled hard): the silence is
            // ours, not the leader's; listen again before judging.
            self.heard_at = now;
            self.probed_at = None;
            return false;
        }
        if now - self.heard_at < self.cfg.frozen_after_ms {
            return false;
        }
        match self.probed_at {
            None => {
                self.probed_at = Some(now);
                self.cmds.push(ElectionCmd::Probe);
                false
            }
            Some(at) if now - at < self.cfg.probe_grace_ms => false,
            Some(_) => {
                self.probed_at = None;
                self.adopt(self.epoch + 1);
                self.heard_at = now;
                true
            }
        }
    }

    /// The leader said it is leaving (its lock is released with it).
    pub fn leader_left(&mut self, from: TabId) {
        if self.leader == Some(from) && !self.leading {
            self.leader = None;
        }
    }

    /// This tab is going away: give up the lock or the place in its queue.
    pub fn stop(&mut self) {
        if self.leading {
            self.leading = false;
            self.cmds.push(ElectionCmd::StepDown);
            self.cmds.push(ElectionCmd::Release(self.epoch));
        }
        if let Some(e) = self.requested.take() {
            self.cmds.push(ElectionCmd::Abort(e));
        }
        self.started = false;
    }
}

#[cfg(test)]
mod tests;
