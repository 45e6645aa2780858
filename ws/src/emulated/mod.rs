//! The emulated connection's bookkeeping (the HTTP fallback, see the crate
//! README): where its endpoints are, how frames are numbered and
//! acknowledged in both directions, and its JSON, all without `web_sys`, so
//! the rules that keep a frame from being lost or doubled when an HTTP
//! response is lost are tested natively.
//!
//! Upstream, frames are numbered 1, 2, 3… per session and POSTed in order,
//! one POST in flight at a time; a POST that fails is retried with the same
//! numbers (the server skips what it already took). Downstream, the client
//! keeps the number of the last frame it processed and asks for frames after
//! it; anything at or below it is a duplicate and dropped.

mod reattach;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
mod wire;

pub use reattach::Reattach;
pub use wire::{CloseInfo, PollReply, SessionStarted, WireError, WireFrame, accepted, decode_binary, send_body};

use crate::backoff::{BackoffConfig, RandomSource};
use crate::codec::Frame;
use crate::url::Quoted;
use std::collections::VecDeque;

/// Most frames in one POST.
pub const MAX_BATCH_FRAMES: usize = 64;
/// Most payload bytes in one POST (a single larger frame still goes alone).
pub const MAX_BATCH_BYTES: usize = 64 * 1024;
/// Frames that may wait for their POST; beyond that `push` refuses (the
/// driver keeps them in its own queue).
pub const UPSTREAM_CAPACITY: usize = 4096;

/// The emulated connection's URLs for a WebSocket URL: the same host, port
/// and path over http(s), endpoints under the path, the URL's own query
/// kept on each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    base: String,
    query: String,
}

impl Endpoints {
    /// From an absolute `ws:`/`wss:` URL (as the hook resolves it).
    pub fn new(ws_url: &str) -> Result<Self, String> {
        let (scheme, rest) =
            ws_url.split_once("://").ok_or_else(|| format!("{}: not an absolute URL", Quoted(ws_url)))?;
        let http = match scheme.to_ascii_lowercase().as_str() {
            "ws" | "http" => "http",
            "wss" | "https" => "https",
            other => return Err(format!("{}: scheme {other} has no HTTP fallback", Quoted(ws_url))),
        };
        let rest = &rest[..rest.find('#').unwrap_or(rest.len())];
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        Ok(Self { base: format!("{http}://{}", path.trim_end_matches('/')), query: query.to_owned() })
    }

    /// `{base}/{endpoint}?{the URL's query&}{params}`, values percent-encoded.
    pub fn url(&self, endpoint: &str, params: &[(&str, &str)]) -> String {
        let mut q: Vec<String> = Vec::new();
        if !self.query.is_empty() {
            q.push(self.query.clone());
        }
        q.extend(params.iter().map(|(k, v)| format!("{k}={}", encode(v))));
        let sep = if q.is_empty() { "" } else { "?" };
        format!("{}/{endpoint}{sep}{}", self.base, q.join("&"))
    }
}

fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One POST: the number of its first frame and the frames.
#[derive(Clone, Debug, PartialEq)]
pub struct Post {
    /// `seq`: the number of the first frame.
    pub seq: u64,
    /// The frames, in order.
    pub frames: Vec<Frame>,
}

/// The upstream was full: the frame was not taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpstreamFull;

/// Client → server: numbering, one POST in flight, retries with the same
/// numbers.
#[derive(Debug)]
pub struct Upstream {
    /// The number the next frame gets.
    next: u64,
    /// Frames not yet accepted by the server, oldest first.
    pending: VecDeque<(u64, Frame)>,
    /// How many of `pending` the POST under way carries.
    in_flight: Option<usize>,
    /// The size of the last POST that failed: its retry carries the same.
    retry: Option<usize>,
    /// POSTs failed in a row.
    failures: u32,
    backoff: BackoffConfig,
}

impl Default for Upstream {
    fn default() -> Self {
        Self::new()
    }
}

impl Upstream {
    /// Nothing sent yet; the first frame is number 1. Retries back off from
    /// 250 ms to 5 s, with full jitter.
    pub fn new() -> Self {
        Self {
            next: 1,
            pending: VecDeque::new(),
            in_flight: None,
            retry: None,
            failures: 0,
            backoff: BackoffConfig { base_ms: 250.0, cap_ms: 5_000.0 },
        }
    }

    /// Number a frame and keep it until the server accepts it.
    pub fn push(&mut self, frame: Frame) -> Result<u64, UpstreamFull> {
        if self.pending.len() >= UPSTREAM_CAPACITY {
            return Err(UpstreamFull);
        }
        let n = self.next;
        self.next += 1;
        self.pending.push_back((n, frame));
        Ok(n)
    }

    /// The POST to make now, if none is in flight and something waits: the
    /// oldest unaccepted frames (the same ones again after a failure).
    pub fn next_post(&mut self) -> Option<Post> {
        if self.in_flight.is_some() || self.pending.is_empty() {
            return None;
        }
        let count = match self.retry {
            Some(n) => n.min(self.pending.len()),
            None => {
                let mut bytes = 0;
                let mut count = 0;
                for (_, f) in self.pending.iter().take(MAX_BATCH_FRAMES) {
                    if count > 0 && bytes + f.len() > MAX_BATCH_BYTES {
                        break;
                    }
                    bytes += f.len();
                    count += 1;
                }
                count
            }
        };
        self.in_flight = Some(count);
        let seq = self.pending[0].0;
        Some(Post { seq, frames: self.pending.iter().take(count).map(|(_, f)| f.clone()).collect() })
    }

    /// The server accepted every frame up to `last`.
    pub fn accepted(&mut self, last: u64) {
        while self.pending.front().is_some_and(|(n, _)| *n <= last) {
            self.pending.pop_front();
        }
        self.in_flight = None;
        self.retry = None;
        self.failures = 0;
    }

    /// The POST failed (network, 5xx, 429): how long to wait before
    /// retrying it, and how many have failed in a row.
    pub fn failed(&mut self, rng: &mut dyn RandomSource) -> (f64, u32) {
        self.retry = self.in_flight.take().or(self.retry);
        self.failures = self.failures.saturating_add(1);
        (self.backoff.delay_ms(self.failures - 1, rng), self.failures)
    }

    /// A POST is under way.
    pub fn busy(&self) -> bool {
        self.in_flight.is_some()
    }

    /// Nothing waits and nothing is in flight.
    pub fn idle(&self) -> bool {
        self.in_flight.is_none() && self.pending.is_empty()
    }

    /// Frames not yet accepted, oldest first, taken out (the connection
    /// moves to another transport and sends them there).
    pub fn take_unaccepted(&mut self) -> Vec<Frame> {
        self.in_flight = None;
        self.retry = None;
        self.pending.drain(..).map(|(_, f)| f).collect()
    }
}

/// Server → client: the number of the last frame processed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Downstream {
    after: u64,
}

impl Downstream {
    /// The number to ask for frames after (`after`, `Last-Event-ID`).
    pub fn after(&self) -> u64 {
        self.after
    }

    /// Frame `n` arrived: true if it is new (process it), false if it was
    /// already processed (a replay after a lost response: drop it).
    pub fn accept(&mut self, n: u64) -> bool {
        if n <= self.after {
            return false;
        }
        self.after = n;
        true
    }
}
