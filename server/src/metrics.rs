//! Prometheus metrics, so operators (and browser tests, via testctl) can see
//! leaks and misbehaving clients without reading logs.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::{counter::Counter, gauge::Gauge};
use prometheus_client::registry::Registry;
use tether_protocol::{ClientReport, RejectReason};

/// `reason="…"`: why a post was refused, as the protocol names it.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: String,
}

/// `recovered="true"|"false"`: whether a resume replayed exactly what was missed.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RecoveredLabel {
    pub recovered: String,
}

/// `transport="websocket"|"sse"|"longpoll"`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TransportLabel {
    pub transport: String,
}

type Histograms = Family<TransportLabel, Histogram, fn() -> Histogram>;

/// Buckets from 10 ms to about 5 min, doubling: reconnect times and round
/// trips both live in that range.
fn seconds_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.01, 2.0, 15))
}

/// Every metric the server exports. Cheap to update from any task.
pub struct Metrics {
    registry: Registry,
    connections_open: Gauge,
    pub connections_total: Counter,
    pub messages_stored: Counter,
    pub frames_malformed: Counter,
    pub duplicate_posts: Counter,
    pub slow_consumer_closes: Counter,
    pub rate_limited: Counter,
    pub connections_refused: Counter,
    connections_by_transport: Family<TransportLabel, Gauge>,
    /// Emulated sessions (HTTP fallback) started since start, counted when
    /// the session is created: a client may post its handshake on a session
    /// whose stream never attaches (the browser held the request back, its
    /// deadline passed), and that session still reached the server.
    emulated_sessions: Counter,
    /// Rooms that exist.
    pub rooms: Gauge,
    /// Room memberships now (a connection in three rooms counts three times).
    pub members: Gauge,
    rejects: Family<ReasonLabel, Counter>,
    resumes: Family<RecoveredLabel, Counter>,
    client_reconnect: Histograms,
    client_rtt: Histograms,
    pub client_reports: Counter,
    /// Transactions that stored posts: with group commit, fewer than posts.
    pub store_commits: Counter,
    /// Emulated-session requests passed on to the instance holding the session.
    pub emulated_forwarded: Counter,
    /// Emulated-session requests this instance tried to pass on, answered or not.
    pub emulated_forward_attempts: Counter,
    /// Content-Security-Policy violations reported by browsers (`/csp-report`).
    pub csp_violations: Counter,
    /// Reports (`/client-metrics`, `/csp-report`) refused: over the sender's budget.
    pub reports_refused: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let connections_open = Gauge::default();
        let connections_total = Counter::default();
        let messages_stored = Counter::default();
        let frames_malformed = Counter::default();
        let duplicate_posts = Counter::default();
        let slow_consumer_closes = Counter::default();
        let rate_limited = Counter::default();
        let connections_refused = Counter::default();
        let connections_by_transport = Family::<TransportLabel, Gauge>::default();
        let emulated_sessions = Counter::default();
        let rooms = Gauge::default();
        let members = Gauge::default();
        let rejects = Family::<ReasonLabel, Counter>::default();
        let resumes = Family::<RecoveredLabel, Counter>::default();
        let client_reconnect: Histograms = Family::new_with_constructor(seconds_histogram);
        let client_rtt: Histograms = Family::new_with_constructor(seconds_histogram);
        let client_reports = Counter::default();
        let store_commits = Counter::default();
        registry.register("tether_store_commits", "Transactions (fsyncs) that stored posts", store_commits.clone());
        let emulated_forwarded = Counter::default();
        registry.register(
            "tether_emulated_forwarded",
            "Fallback requests passed on to the instance holding their session",
            emulated_forwarded.clone(),
        );
        let emulated_forward_attempts = Counter::default();
        registry.register(
            "tether_emulated_forward_attempts",
            "Fallback requests this instance tried to pass on to another, answered or not",
            emulated_forward_attempts.clone(),
        );
        let csp_violations = Counter::default();
        registry.register(
            "tether_csp_violations",
            "Content-Security-Policy violations reported by browsers",
            csp_violations.clone(),
        );
        let reports_refused = Counter::default();
        registry.register(
            "tether_reports_refused",
            "Reports (/client-metrics, /csp-report) refused: over the sender's budget",
            reports_refused.clone(),
        );
        registry.register(
            "tether_connections_by_transport",
            "Client connections open now, by transport",
            connections_by_transport.clone(),
        );
        registry.register("tether_rooms", "Rooms that exist", rooms.clone());
        registry.register("tether_room_members", "Room memberships now, over all rooms", members.clone());
        registry.register("tether_rejects", "Posts refused, by reason", rejects.clone());
        registry.register(
            "tether_resumes",
            "Joins with a resume cursor, by whether the gap was replayed exactly",
            resumes.clone(),
        );
        registry.register(
            "tether_client_reconnect_seconds",
            "Client-reported time from losing the connection to having it back",
            client_reconnect.clone(),
        );
        registry.register("tether_client_rtt_seconds", "Client-reported heartbeat round trips", client_rtt.clone());
        registry.register("tether_client_reports", "Metrics reports received from clients", client_reports.clone());
        // The text encoder appends `_total` to counter names.
        registry.register("tether_connections_open", "WebSocket connections open now", connections_open.clone());
        registry.register(
            "tether_connections",
            "WebSocket connections accepted since start",
            connections_total.clone(),
        );
        registry.register(
            "tether_emulated_sessions",
            "Emulated sessions (HTTP fallback: SSE or long-poll) started since start",
            emulated_sessions.clone(),
        );
        registry.register("tether_messages_stored", "Chat messages durably stored", messages_stored.clone());
        registry.register(
            "tether_frames_malformed",
            "Client frames that were not a valid message",
            frames_malformed.clone(),
        );
        registry.register(
            "tether_duplicate_posts",
            "Posts whose client id was already stored (retries)",
            duplicate_posts.clone(),
        );
        registry.register(
            "tether_slow_consumer_closes",
            "Connections closed with 1013 because their outgoing queue was full",
            slow_consumer_closes.clone(),
        );
        registry.register(
            "tether_rate_limited",
            "Posts, joins and history requests refused by a rate limit",
            rate_limited.clone(),
        );
        registry.register(
            "tether_connections_refused",
            "WebSocket upgrades refused by the per-IP or total connection cap",
            connections_refused.clone(),
        );
        Self {
            registry,
            connections_open,
            connections_total,
            emulated_sessions,
            messages_stored,
            frames_malformed,
            duplicate_posts,
            slow_consumer_closes,
            rate_limited,
            connections_refused,
            connections_by_transport,
            rooms,
            members,
            rejects,
            resumes,
            client_reconnect,
            client_rtt,
            client_reports,
            store_commits,
            emulated_forwarded,
            emulated_forward_attempts,
            csp_violations,
            reports_refused,
        }
    }

    /// A post was refused for `reason`.
    pub fn rejected(&self, reason: RejectReason) {
        let reason = serde_json::to_value(reason).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        self.rejects.get_or_create(&ReasonLabel { reason }).inc();
    }

    /// A join came with a cursor; `recovered` says whether it was replayed exactly.
    pub fn resumed(&self, recovered: bool) {
        self.resumes.get_or_create(&RecoveredLabel { recovered: recovered.to_string() }).inc();
    }

    /// Folds a client's report (already validated) into the histograms.
    pub fn client_report(&self, report: &ClientReport) {
        let label = TransportLabel { transport: report.transport.clone() };
        let reconnect = self.client_reconnect.get_or_create(&label);
        for ms in &report.reconnect_ms {
            reconnect.observe(ms / 1000.0);
        }
        let rtt = self.client_rtt.get_or_create(&label);
        for ms in &report.rtt_ms {
            rtt.observe(ms / 1000.0);
        }
        self.client_reports.inc();
    }

    /// Counts a connection as open until the returned guard drops, so every
    /// exit path (error, panic, shutdown) decrements the gauge.
    pub fn connection_opened(&self) -> OpenConnection {
        self.connections_total.inc();
        self.connections_open.inc();
        let by_transport =
            self.connections_by_transport.get_or_create(&TransportLabel { transport: "websocket".into() }).clone();
        by_transport.inc();
        OpenConnection(self.connections_open.clone(), by_transport)
    }

    /// An emulated session (HTTP fallback) was created.
    pub fn emulated_session_started(&self) {
        self.emulated_sessions.inc();
    }

    /// Counts an emulated session (HTTP fallback) under `transport` until
    /// the guard drops. `tether_connections_open` stays WebSocket-only (CONTRACT.md).
    pub fn transport_opened(&self, transport: &str) -> OpenTransport {
        let gauge =
            self.connections_by_transport.get_or_create(&TransportLabel { transport: transport.into() }).clone();
        gauge.inc();
        OpenTransport(gauge)
    }

    pub fn connections_open(&self) -> i64 {
        self.connections_open.get()
    }

    /// The Prometheus/OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// Decrements `tether_connections_open` (and the by-transport gauge) when dropped.
pub struct OpenConnection(Gauge, Gauge);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.dec();
        self.1.dec();
    }
}

/// Decrements one by-transport gauge when dropped.
pub struct OpenTransport(Gauge);

impl Drop for OpenTransport {
    fn drop(&mut self) {
        self.0.dec();
    }
}
