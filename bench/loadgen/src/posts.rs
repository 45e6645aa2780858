//! Server write path: posts per second with N concurrent posters, each in
//! its own room (so what is measured is the disk path, not the broadcast),
//! each sending its next post only once the previous one is acked (and an
//! ack means the post is on disk).

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tether_protocol::{ClientMsg, ServerMsg};
use tokio_tungstenite::tungstenite::Message;

use crate::clients::{Dialect, connect, join, text};
use crate::procs::Proc;

/// Acked posts per second over `secs`, with `posters` closed-loop posters.
pub async fn posts_per_sec(server: &Proc, posters: usize, secs: f64) -> f64 {
    let url = server.ws_url();
    let mut conns = Vec::new();
    for p in 0..posters {
        let mut ws = connect(&url, Dialect::Tether, &format!("w{p}")).await.expect("poster connects");
        join(&mut ws, Dialect::Tether, &format!("write-{p}")).await.expect("poster joins");
        conns.push(ws);
    }
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(secs);
    let tasks: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(p, mut ws)| {
            tokio::spawn(async move {
                let mut acked = 0usize;
                while Instant::now() < deadline {
                    let id = format!("w{posters}-{p}-{acked}");
                    let post = ClientMsg::Post {
                        room: format!("write-{p}"),
                        id: id.clone(),
                        body: "a small chat message".into(),
                    };
                    if ws.send(text(&post)).await.is_err() {
                        break;
                    }
                    // Skip the broadcasts of everyone's posts until our ack.
                    let ok = loop {
                        match tokio::time::timeout(Duration::from_secs(30), ws.next()).await {
                            Ok(Some(Ok(Message::Text(t)))) => match serde_json::from_str::<ServerMsg>(&t) {
                                Ok(ServerMsg::Ack { id: got, .. }) if got == id => break true,
                                Ok(ServerMsg::Rejected { .. }) => break false,
                                _ => {}
                            },
                            Ok(Some(Ok(_))) => {}
                            _ => break false,
                        }
                    };
                    if !ok {
                        break;
                    }
                    acked += 1;
                }
                acked
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap_or(0);
    }
    total as f64 / start.elapsed().as_secs_f64()
}
