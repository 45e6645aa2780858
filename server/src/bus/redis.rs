//! The Redis side of the bus: one connection publishes, one subscribes;
//! each reconnects with backoff for as long as the server runs.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use redis::AsyncCommands;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{CHANNEL, Envelope, Event, Health, Incoming};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

fn config() -> redis::AsyncConnectionConfig {
    redis::AsyncConnectionConfig::new().set_connection_timeout(CONNECT_TIMEOUT).set_response_timeout(CONNECT_TIMEOUT)
}

/// Publishes queued events. An event that cannot be published (Redis down)
/// is dropped after one reconnect attempt: it is already in the store.
pub async fn publisher(
    client: redis::Client,
    instance: String,
    mut events: mpsc::Receiver<Event>,
    shutdown: CancellationToken,
) {
    let mut conn: Option<redis::aio::MultiplexedConnection> = None;
    loop {
        let event = tokio::select! {
            _ = shutdown.cancelled() => return,
            e = events.recv() => match e { Some(e) => e, None => return },
        };
        let Ok(payload) = serde_json::to_string(&Envelope { from: instance.clone(), event }) else { continue };
        for _attempt in 0..2 {
            if conn.is_none() {
                match client.get_multiplexed_async_connection_with_config(&config()).await {
                    Ok(c) => conn = Some(c),
                    Err(e) => {
                        tracing::warn!(error = %e, "bus: cannot connect to Redis to publish");
                        break;
                    }
                }
            }
            let Some(c) = conn.as_mut() else { break };
            match c.publish::<_, _, ()>(CHANNEL, &payload).await {
                Ok(()) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "bus: publish failed");
                    conn = None;
                }
            }
        }
    }
}

/// Subscribes and forwards others' events; on every (re)subscription sends
/// [`Incoming::Resubscribed`] so the hub reads back what it missed.
pub async fn subscriber(
    client: redis::Client,
    instance: String,
    health: Arc<Health>,
    incoming: mpsc::Sender<Incoming>,
    shutdown: CancellationToken,
) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let attempt = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(CHANNEL).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        match tokio::time::timeout(CONNECT_TIMEOUT, attempt).await {
            Ok(Ok(pubsub)) => {
                tracing::info!("bus: subscribed to Redis");
                health.set(None);
                backoff = FIRST_BACKOFF;
                if incoming.send(Incoming::Resubscribed).await.is_err() {
                    return;
                }
                let mut stream = pubsub.into_on_message();
                loop {
                    let msg = tokio::select! {
                        _ = shutdown.cancelled() => return,
                        m = stream.next() => m,
                    };
                    let Some(msg) = msg else { break };
                    let Ok(payload) = msg.get_payload::<String>() else { continue };
                    match serde_json::from_str::<Envelope>(&payload) {
                        Ok(env) if env.from == instance => {}
                        Ok(env) => {
                            if incoming.send(Incoming::Event { from: env.from, event: env.event }).await.is_err() {
                                return;
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "bus: unreadable event ignored"),
                    }
                }
                tracing::warn!("bus: lost the Redis subscription");
                health.set(Some("lost the Redis subscription; reconnecting".into()));
            }
            Ok(Err(e)) => health.set(Some(format!("cannot subscribe to Redis: {e}"))),
            Err(_) => health.set(Some("cannot subscribe to Redis: timed out".into())),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
