//! Prometheus metrics, so operators (and browser tests, via testctl) can see
//! leaks and misbehaving clients without reading logs.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::{counter::Counter, gauge::Gauge};
use prometheus_client::registry::Registry;

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
        // The text encoder appends `_total` to counter names.
        registry.register("tether_connections_open", "WebSocket connections open now", connections_open.clone());
        registry.register(
            "tether_connections",
            "WebSocket connections accepted since start",
            connections_total.clone(),
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
            messages_stored,
            frames_malformed,
            duplicate_posts,
            slow_consumer_closes,
            rate_limited,
            connections_refused,
        }
    }

    /// Counts a connection as open until the returned guard drops, so every
    /// exit path (error, panic, shutdown) decrements the gauge.
    pub fn connection_opened(&self) -> OpenConnection {
        self.connections_total.inc();
        self.connections_open.inc();
        OpenConnection(self.connections_open.clone())
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

/// Decrements `tether_connections_open` when dropped.
pub struct OpenConnection(Gauge);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.dec();
    }
}
