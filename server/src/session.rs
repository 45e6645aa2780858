//! What a connection has said so far (nick, joined rooms, its rate-limit
//! buckets) and how each client frame is answered. Kept apart from socket
//! plumbing so protocol rules read in one place.
//!
//! Every frame gets a specific answer: a reply, an error or refusal naming
//! the reason, or a close with a code that says why.

mod join;
mod post;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use axum::extract::ws::Message;
use tether_protocol::{ClientMsg, ErrorCode, MAX_BODY_CHARS, PROTOCOL_VERSION, ServerMsg, close_code, validate_nick};

use crate::AppState;
use crate::outbox::{ConnId, Outbox};
use crate::post_order::PostOrder;
use crate::rate::{TokenBucket, retry_ms};

/// Malformed frames in a row after which the client is clearly broken and
/// gets closed with 1008 instead of an endless stream of errors.
pub const MAX_MALFORMED_STREAK: u32 = 50;
/// Posts refused as rate-limited count as abuse only once the client has
/// had this long to hear the first refusal of a run of refusals (a run ends
/// after this long without one): a backlog sent in one go (a reconnect) is
/// not flooding; going on regardless of the refusals is.
pub const ABUSE_GRACE: Duration = Duration::from_secs(1);

pub struct Session {
    state: AppState,
    outbox: Outbox,
    nick: Option<String>,
    joined: HashSet<String>,
    malformed_streak: u32,
    posts: TokenBucket,
    /// Rate-limited posts in the current run of refusals, after
    /// [`ABUSE_GRACE`]; past the limit the client is flooding.
    post_strikes: u32,
    /// When the current run of refusals began, and its latest refusal.
    refused_since: Option<Instant>,
    last_refused: Option<Instant>,
    /// Joins and history requests share one bucket: both read history.
    joins: TokenBucket,
    rooms_created: u32,
    /// Refused posts that later ones must not overtake.
    order: PostOrder,
}

fn error(code: ErrorCode, message: &str) -> ServerMsg {
    ServerMsg::Error { code, message: message.to_owned(), retry_after_ms: None }
}

impl Session {
    pub fn new(state: AppState, outbox: Outbox) -> Self {
        let l = &state.settings().limits;
        let now = Instant::now();
        let posts = TokenBucket::new(l.post_burst, l.post_rate, now);
        let joins = TokenBucket::new(l.join_burst, l.join_rate, now);
        let order = PostOrder::new(l.post_rate);
        Self {
            state,
            outbox,
            nick: None,
            joined: HashSet::new(),
            malformed_streak: 0,
            posts,
            post_strikes: 0,
            refused_since: None,
            last_refused: None,
            joins,
            rooms_created: 0,
            order,
        }
    }

    pub fn conn_id(&self) -> ConnId {
        self.outbox.id
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// Said a valid hello.
    pub fn greeted(&self) -> bool {
        self.nick.is_some()
    }

    pub async fn on_frame(&mut self, frame: Message) {
        let parsed = match &frame {
            Message::Text(text) => ClientMsg::decode(text.as_str()),
            Message::Binary(_) => {
                self.state.metrics().frames_malformed.inc();
                self.outbox.closer.close(close_code::UNSUPPORTED, "binary frames are not supported");
                return;
            }
            // tungstenite answers pings itself; close is handled by the caller.
            Message::Ping(_) | Message::Pong(_) | Message::Close(_) => return,
        };
        match parsed {
            Ok(msg) => {
                self.malformed_streak = 0;
                self.dispatch(msg).await;
            }
            Err(e) => self.malformed(&e),
        }
    }

    /// A frame that is not a message: answered with which kind of wrong it
    /// is (not the parser's text: clients never see internals), closed with
    /// 1008 if it keeps happening.
    fn malformed(&mut self, why: &tether_protocol::DecodeError) {
        use tether_protocol::DecodeError;
        let what = match why {
            DecodeError::TooBig(_) => "not a valid Tether frame: too big",
            DecodeError::NotText => "not a valid Tether frame: not UTF-8 text",
            DecodeError::NotJson(_) => "not a valid Tether frame: not JSON",
            DecodeError::NotAMessage(_) => "not a valid Tether frame: not a known message or missing fields",
        };
        self.state.metrics().frames_malformed.inc();
        self.malformed_streak += 1;
        if self.malformed_streak >= MAX_MALFORMED_STREAK {
            self.outbox.closer.close(close_code::POLICY, "too many malformed frames");
            return;
        }
        self.outbox.push(&error(ErrorCode::BadFrame, what));
    }

    async fn dispatch(&mut self, msg: ClientMsg) {
        if let ClientMsg::Hello { nick } = msg {
            return self.hello(nick);
        }
        let Some(nick) = self.nick.clone() else {
            self.outbox.push(&error(ErrorCode::HelloRequired, "send hello first"));
            return;
        };
        match msg {
            ClientMsg::Hello { .. } => {}
            ClientMsg::Join { room, since } => self.join(room, since).await,
            ClientMsg::Leave { room } => {
                self.state.hub().leave(&room, self.outbox.id).await;
                self.joined.remove(&room);
                self.outbox.push(&ServerMsg::Left { room });
            }
            ClientMsg::Post { room, id, body } => self.post(nick, room, id, body).await,
            ClientMsg::History { room, before } => self.history(room, before).await,
            ClientMsg::Ping { nonce } => {
                if !self.state.faults().pongs_stalled() {
                    self.outbox.push(&ServerMsg::Pong { nonce });
                }
            }
        }
    }

    /// The first `hello` greets (welcome, then the room list). Later ones
    /// are cheap: the same nickname again (several components or tabs
    /// sharing one connection each say hello) gets the small `welcome` only,
    /// never the room list again; another nickname is refused (presence and
    /// posts are by the greeted name). Both take a join-bucket token, so
    /// `hello` cannot be used to pull frames in a loop.
    fn hello(&mut self, nick: String) {
        if let Some(current) = self.nick.clone() {
            if !self.join_allowed("hello") {
                return;
            }
            if current == nick {
                let welcome = ServerMsg::Welcome { nick, protocol: PROTOCOL_VERSION, max_body_chars: MAX_BODY_CHARS };
                self.outbox.push(&welcome);
            } else {
                let message = format!("already greeted as {current:?}; open a new connection to change nickname");
                self.outbox.push(&error(ErrorCode::BadNick, &message));
            }
            return;
        }
        if let Err(e) = validate_nick(&nick) {
            self.outbox.push(&error(ErrorCode::BadNick, &e.to_string()));
            return;
        }
        let welcome =
            ServerMsg::Welcome { nick: nick.clone(), protocol: PROTOCOL_VERSION, max_body_chars: MAX_BODY_CHARS };
        self.nick = Some(nick);
        self.state.hub().greet(&self.outbox, &welcome);
    }

    /// Takes a join-bucket token, or answers `rate_limited` and says no.
    fn join_allowed(&mut self, what: &str) -> bool {
        match self.joins.take(Instant::now()) {
            Ok(()) => true,
            Err(wait) => {
                self.state.metrics().rate_limited.inc();
                let ms = retry_ms(wait);
                let message = format!("too many {what} requests; retry in {:.1} s", ms as f64 / 1000.0);
                self.outbox.push(&ServerMsg::Error { code: ErrorCode::RateLimited, message, retry_after_ms: Some(ms) });
                false
            }
        }
    }

    /// Leaves every joined room so broadcasts stop targeting a dead queue.
    pub async fn leave_all(&mut self) {
        for room in self.joined.drain() {
            self.state.hub().leave(&room, self.outbox.id).await;
        }
    }
}
