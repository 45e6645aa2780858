//! Where each instance can be reached, so an instance can pass on a request
//! for an emulated session another instance holds (emulated/forward.rs).
//!
//! Every instance has a random id, put in front of its session tokens, and
//! registers `id → advertised URL` in Redis under a key that expires unless
//! refreshed: a crashed instance drops out by itself, a stopped one deletes
//! its key. Redis is already what the instances share; nothing else is needed.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use axum::http::Uri;
use base64::Engine;
use rand::RngCore;
use redis::AsyncCommands;
use redis::aio::MultiplexedConnection;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::BusError;
use crate::sync::lock;

/// Registrations live this long unless refreshed.
const TTL_SECS: u64 = 15;
/// Refreshed this often: two refreshes may be lost before an entry expires.
const REFRESH: Duration = Duration::from_secs(5);
/// After Redis failed to answer, lookups fail at once for this long rather
/// than each waiting out the connect timeout.
const BACKOFF: Duration = Duration::from_secs(1);

fn key(id: &str) -> String {
    format!("tether:instance:{id}")
}

/// Why the registry could not say where an instance is: the caller should
/// ask the client to retry, not tell it the session is gone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    #[error("Redis cannot answer: {0}")]
    Redis(String),
    #[error("the registry holds {0:?}, not an http://host:port URL")]
    BadEntry(String),
}

/// Whether `s` is an id [`Peers::new`] could have made: checked before a
/// client-supplied token prefix goes anywhere near Redis.
pub fn is_id(s: &str) -> bool {
    s.len() == 8 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `url` as `http://host:port` (no trailing slash) if it is exactly that:
/// plain HTTP, a port, nothing before the host, nothing after the port.
pub fn base_url(url: &str) -> Option<String> {
    let uri = url.parse::<Uri>().ok()?;
    let authority = uri.authority()?;
    let base = format!("http://{authority}");
    let plain = uri.scheme_str() == Some("http") && !authority.as_str().contains('@') && authority.port().is_some();
    // Compared as text: parsing drops a fragment and an empty query.
    (plain && matches!(url.strip_prefix(base.as_str()), Some("" | "/"))).then_some(base)
}

/// The shared Redis connection, or when it last failed.
#[derive(Default)]
struct Link {
    conn: Option<MultiplexedConnection>,
    down_until: Option<Instant>,
}

/// This instance's id and the Redis connection used to look others up.
pub struct Peers {
    id: String,
    client: redis::Client,
    /// Held only to copy or replace the handle, never across a connect.
    link: Mutex<Link>,
    /// Addresses found, kept for a registration's lifetime so a Redis
    /// outage does not cut off sessions whose owner is known.
    known: Mutex<HashMap<String, (String, Instant)>>,
}

impl Peers {
    pub fn new(url: &str) -> Result<Self, BusError> {
        let mut bytes = [0u8; 6];
        rand::rng().fill_bytes(&mut bytes);
        let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        Ok(Self { id, client: redis::Client::open(url)?, link: Mutex::default(), known: Mutex::default() })
    }

    /// 8 URL-safe characters, never containing `.` (the token separator);
    /// also this instance's name on the bus.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The URL instance `id` advertised, `Ok(None)` when it is not
    /// registered (stopped, crashed long enough ago).
    pub async fn address_of(&self, id: &str) -> Result<Option<String>, LookupError> {
        let ttl = Duration::from_secs(TTL_SECS);
        if let Some((url, at)) = lock(&self.known).get(id)
            && at.elapsed() < ttl
        {
            return Ok(Some(url.clone()));
        }
        let mut conn = self.connection().await?;
        let found = match conn.get::<_, Option<String>>(key(id)).await {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(error = %e, "peers: lookup failed");
                *lock(&self.link) = Link { conn: None, down_until: Some(Instant::now() + BACKOFF) };
                return Err(LookupError::Redis(e.to_string()));
            }
        };
        let Some(raw) = found else {
            return match settled(&mut conn).await {
                true => Ok(None),
                false => Err(LookupError::Redis("restarted moments ago: instances are registering again".into())),
            };
        };
        let url = base_url(&raw).ok_or(LookupError::BadEntry(raw))?;
        let mut known = lock(&self.known);
        known.retain(|_, (_, at)| at.elapsed() < ttl);
        known.insert(id.to_owned(), (url.clone(), Instant::now()));
        Ok(Some(url))
    }

    /// Drops what is known of `id` (its address refused a connection).
    pub fn forget(&self, id: &str) {
        lock(&self.known).remove(id);
    }

    async fn connection(&self) -> Result<MultiplexedConnection, LookupError> {
        {
            let link = lock(&self.link);
            if let Some(c) = &link.conn {
                return Ok(c.clone());
            }
            if link.down_until.is_some_and(|t| Instant::now() < t) {
                return Err(LookupError::Redis("unreachable a moment ago".into()));
            }
        }
        match self.client.get_multiplexed_async_connection_with_config(&super::redis::config()).await {
            Ok(c) => {
                *lock(&self.link) = Link { conn: Some(c.clone()), down_until: None };
                Ok(c)
            }
            Err(e) => {
                tracing::warn!(error = %e, "peers: cannot reach Redis to find an instance");
                lock(&self.link).down_until = Some(Instant::now() + BACKOFF);
                Err(LookupError::Redis(e.to_string()))
            }
        }
    }

    /// Registers this instance at `url` until `shutdown` (then unregisters),
    /// refreshing the entry so it outlives Redis restarts.
    pub fn advertise(self: std::sync::Arc<Self>, url: String, shutdown: CancellationToken) {
        tokio::spawn(async move {
            let mut conn: Option<redis::aio::MultiplexedConnection> = None;
            let mut ticks = tokio::time::interval(REFRESH);
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = ticks.tick() => {}
                }
                // A connection that broke since the last tick is replaced at
                // once, so a restarted Redis has this entry within a REFRESH.
                for _ in 0..2 {
                    if conn.is_none() {
                        conn = self
                            .client
                            .get_multiplexed_async_connection_with_config(&super::redis::config())
                            .await
                            .ok();
                    }
                    let Some(c) = conn.as_mut() else { break };
                    match c.set_ex::<_, _, ()>(key(&self.id), &url, TTL_SECS).await {
                        Ok(()) => break,
                        Err(e) => {
                            tracing::warn!(error = %e, "peers: cannot register this instance in Redis");
                            conn = None;
                        }
                    }
                }
            }
            self.unregister().await;
        });
    }

    /// Tells the others this instance is gone (they answer 404 for its
    /// sessions at once rather than trying it). Best effort, bounded.
    pub async fn unregister(&self) {
        let del = async {
            let mut c = self.client.get_multiplexed_async_connection_with_config(&super::redis::config()).await?;
            c.del::<_, ()>(key(&self.id)).await
        };
        if let Ok(Err(e)) = tokio::time::timeout(Duration::from_secs(2), del).await {
            tracing::debug!(error = %e, "peers: cannot unregister this instance");
        }
    }
}

/// Whether Redis has been up long enough for every live instance to have
/// registered again: until then, a missing entry proves nothing. (When
/// Redis will not say, yes: an unregistered owner must not be retried forever.)
async fn settled(conn: &mut MultiplexedConnection) -> bool {
    let info: Result<String, _> = redis::cmd("INFO").arg("server").query_async(conn).await;
    let uptime = info.ok().and_then(|i| {
        i.lines().find_map(|l| l.strip_prefix("uptime_in_seconds:")).and_then(|v| v.trim().parse::<u64>().ok())
    });
    uptime.is_none_or(|up| up > 2 * REFRESH.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_short_url_safe_and_never_contain_the_separator() {
        let (a, b) = (Peers::new("redis://127.0.0.1:1").unwrap(), Peers::new("redis://127.0.0.1:1").unwrap());
        assert_ne!(a.id(), b.id());
        assert_eq!(a.id().len(), 8);
        assert!(a.id().chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{}", a.id());
    }

    #[test]
    fn only_the_id_format_is_an_id() {
        let p = Peers::new("redis://127.0.0.1:1").unwrap();
        assert!(is_id(p.id()));
        for bad in ["", "abc", "abcdEF-_9", "abcd.EF_", "abcd EF_", "ab*dEF-_"] {
            assert!(!is_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_base_url_is_http_with_host_and_port_only() {
        assert_eq!(base_url("http://10.0.0.5:8080"), Some("http://10.0.0.5:8080".into()));
        assert_eq!(base_url("http://tether-1:8080/"), Some("http://tether-1:8080".into()));
        assert_eq!(base_url("http://[::1]:8080"), Some("http://[::1]:8080".into()));
        for bad in [
            "https://tether-1:8080",
            "tether-1:8080",
            "http://tether-1",
            "http://tether-1:8080/x",
            "http://tether-1:8080/?a=b",
            "http://tether-1:8080?",
            "http://u:p@tether-1:8080",
            "http://tether-1:8080#f",
        ] {
            assert_eq!(base_url(bad), None, "{bad:?}");
        }
    }
}
