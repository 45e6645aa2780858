//! Load-generator connections: real WebSockets (tokio-tungstenite) speaking
//! Tether's protocol, or plain text for the Node `ws` peer.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tether_protocol::{ClientMsg, ServerMsg};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// tungstenite zeroes its whole read buffer (128 KiB by default) before
/// each read: the generator, which shares the cores with the server it
/// measures, spent a tenth of its CPU on that. Every frame here is small;
/// a larger one still arrives (the buffer grows to hold it).
const READ_BUFFER: usize = 4096;

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Which server the generator talks to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Dialect {
    /// tether-server: hello, join, post, acks.
    Tether,
    /// The Node `ws` broadcast server: any text goes to every other client.
    Plain,
}

pub fn text(msg: &ClientMsg) -> Message {
    Message::text(serde_json::to_string(msg).expect("client frames serialise"))
}

/// Connects; for Tether also says hello and waits for `welcome`.
pub async fn connect(url: &str, dialect: Dialect, nick: &str) -> Result<Ws, String> {
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER);
    let (mut ws, _) =
        tokio_tungstenite::connect_async_with_config(url, Some(config), false).await.map_err(|e| e.to_string())?;
    if dialect == Dialect::Tether {
        ws.send(text(&ClientMsg::Hello { nick: nick.into() })).await.map_err(|e| e.to_string())?;
        wait_for(&mut ws, |m| matches!(m, ServerMsg::Welcome { .. })).await?;
    }
    Ok(ws)
}

/// Joins `room` (Tether only) and waits for `joined`.
pub async fn join(ws: &mut Ws, dialect: Dialect, room: &str) -> Result<(), String> {
    if dialect == Dialect::Tether {
        ws.send(text(&ClientMsg::Join { room: room.into(), since: None })).await.map_err(|e| e.to_string())?;
        wait_for(ws, |m| matches!(m, ServerMsg::Joined { .. })).await?;
    }
    Ok(())
}

async fn wait_for(ws: &mut Ws, want: impl Fn(&ServerMsg) -> bool) -> Result<(), String> {
    loop {
        let next = tokio::time::timeout(Duration::from_secs(30), ws.next()).await.map_err(|_| "timed out")?;
        match next {
            Some(Ok(Message::Text(t))) => {
                if serde_json::from_str::<ServerMsg>(&t).is_ok_and(|m| want(&m)) {
                    return Ok(());
                }
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.to_string()),
            None => return Err("closed".into()),
        }
    }
}

/// Opens `n` connections, `parallel` at a time, each with its own nick.
pub async fn open_many(url: &str, dialect: Dialect, n: usize, parallel: usize) -> Vec<Ws> {
    let url = url.to_owned();
    futures_util::stream::iter(0..n)
        .map(|i| {
            let url = url.clone();
            async move {
                for _ in 0..5 {
                    if let Ok(ws) = connect(&url, dialect, &format!("u{i}")).await {
                        return Some(ws);
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                None
            }
        })
        .buffer_unordered(parallel)
        .filter_map(|w| async move { w })
        .collect()
        .await
}

/// Keeps a connection alive in the background (reading answers pings), and
/// hands each text frame to `on_text`.
pub fn hold(mut ws: Ws, mut on_text: impl FnMut(&str) + Send + 'static) {
    tokio::spawn(async move {
        while let Some(Ok(m)) = ws.next().await {
            if let Message::Text(t) = m {
                on_text(&t);
            }
        }
    });
}
