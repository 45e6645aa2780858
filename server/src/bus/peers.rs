//! Where each instance can be reached, so an instance can pass on a request
//! for an emulated session another instance holds (emulated/forward.rs).
//!
//! Every instance has a random id, put in front of its session tokens, and
//! registers `id → advertised URL` in Redis under a key that expires unless
//! refreshed: a crashed instance drops out by itself, a stopped one deletes
//! its key. Redis is already what the instances share; nothing else is needed.

use std::time::Duration;

use base64::Engine;
use rand::RngCore;
use redis::AsyncCommands;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use super::BusError;

/// Registrations live this long unless refreshed.
const TTL_SECS: u64 = 15;
/// Refreshed this often: two refreshes may be lost before an entry expires.
const REFRESH: Duration = Duration::from_secs(5);

fn key(id: &str) -> String {
    format!("tether:instance:{id}")
}

/// This instance's id and the Redis connection used to look others up.
pub struct Peers {
    id: String,
    client: redis::Client,
    conn: Mutex<Option<redis::aio::MultiplexedConnection>>,
}

impl Peers {
    pub fn new(url: &str) -> Result<Self, BusError> {
        let mut bytes = [0u8; 6];
        rand::rng().fill_bytes(&mut bytes);
        let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        Ok(Self { id, client: redis::Client::open(url)?, conn: Mutex::new(None) })
    }

    /// 8 URL-safe characters, never containing `.` (the token separator).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The URL instance `id` advertised, or `None` when it is not
    /// registered (stopped, crashed long enough ago) or Redis cannot say.
    pub async fn address_of(&self, id: &str) -> Option<String> {
        let mut guard = self.conn.lock().await;
        if guard.is_none() {
            match self.client.get_multiplexed_async_connection_with_config(&super::redis::config()).await {
                Ok(c) => *guard = Some(c),
                Err(e) => {
                    tracing::warn!(error = %e, "peers: cannot reach Redis to find an instance");
                    return None;
                }
            }
        }
        let mut conn = guard.as_ref()?.clone();
        drop(guard);
        match conn.get::<_, Option<String>>(key(id)).await {
            Ok(url) => url,
            Err(e) => {
                tracing::warn!(error = %e, "peers: lookup failed");
                *self.conn.lock().await = None;
                None
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
                if conn.is_none() {
                    conn = self.client.get_multiplexed_async_connection_with_config(&super::redis::config()).await.ok();
                }
                let Some(c) = conn.as_mut() else { continue };
                if let Err(e) = c.set_ex::<_, _, ()>(key(&self.id), &url, TTL_SECS).await {
                    tracing::warn!(error = %e, "peers: cannot register this instance in Redis");
                    conn = None;
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
}
