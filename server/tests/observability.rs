//! What operators and users can see, over real sockets: `/metrics` read
//! with a real Prometheus text parser as connections, rooms, members,
//! resumes, refusals and client reports come and go; `POST /client-metrics`
//! and its refusals; presence (who is in a room) as people join, leave and drop.

mod common;

use common::frames::*;
use common::*;
use std::net::SocketAddr;
use tether_protocol::{ClientMsg, Cursor, ServerMsg};

/// `/metrics`, parsed.
async fn scrape(addr: SocketAddr) -> prometheus_parse::Scrape {
    let (status, body) = http(addr, "GET", "/metrics").await;
    assert_eq!(status, 200);
    prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_owned()))).expect("Prometheus text")
}

/// The value of `name` with the given labels (all must match).
fn value(s: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    s.samples.iter().find(|x| x.metric == name && labels.iter().all(|(k, v)| x.labels.get(k) == Some(*v))).map(|x| {
        match &x.value {
            prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Untyped(v) => *v,
            prometheus_parse::Value::Histogram(h) => h.iter().map(|b| b.count).fold(0.0, f64::max),
            prometheus_parse::Value::Summary(_) => f64::NAN,
        }
    })
}

/// POST `body` to `path`, with extra header lines; returns the status.
async fn post_body(addr: SocketAddr, path: &str, body: &str, headers: &str) -> u16 {
    post_raw(addr, path, body, headers).await.0
}

/// The status and the whole response (head and body).
async fn post_raw(addr: SocketAddr, path: &str, body: &str, headers: &str) -> (u16, String) {
    request(addr, "POST", path, &format!("{headers}Content-Type: text/plain;charset=UTF-8\r\n"), body).await
}

#[tokio::test]
async fn metrics_follow_connections_rooms_members_resumes_and_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("t.db")).await;
    let url = server.ws_url();
    let m = scrape(server.addr).await;
    assert_eq!(value(&m, "tether_connections_open", &[]), Some(0.0));
    assert_eq!(value(&m, "tether_room_members", &[]), Some(0.0));

    let (mut a, mut b) = pair_in(&url, "obs").await;
    let m = scrape(server.addr).await;
    assert_eq!(value(&m, "tether_connections_open", &[]), Some(2.0));
    assert_eq!(value(&m, "tether_connections_by_transport", &[("transport", "websocket")]), Some(2.0));
    assert_eq!(value(&m, "tether_room_members", &[]), Some(2.0));
    assert_eq!(value(&m, "tether_rooms", &[]), Some(1.0));

    let seq = post_ok(&mut a, "obs", "obs-1", "hello").await;
    recv_message(&mut b).await;
    a.send(&post("obs", "obs-1", "hello")).await; // a retry: suppressed as a duplicate
    recv_ack(&mut a).await;
    a.send(&post("obs", "obs-2", "")).await;
    assert!(matches!(a.recv().await, ServerMsg::Rejected { .. }));
    let epoch = joined(&mut a, "obs2", None).await.0;
    let m = scrape(server.addr).await;
    assert_eq!(value(&m, "tether_messages_stored_total", &[]), Some(1.0));
    assert_eq!(value(&m, "tether_duplicate_posts_total", &[]), Some(1.0));
    assert_eq!(value(&m, "tether_rejects_total", &[("reason", "empty_body")]), Some(1.0));
    assert_eq!(value(&m, "tether_rooms", &[]), Some(2.0));
    assert_eq!(value(&m, "tether_room_members", &[]), Some(3.0));

    // Resumes: one replayed exactly, one from a lost epoch.
    let mut c = Client::hello(&url, "cy").await;
    let obs_epoch = joined(&mut b, "obs", None).await.0;
    joined(&mut c, "obs", Some(Cursor { epoch: obs_epoch, seq: seq - 1 })).await;
    joined(&mut c, "obs2", Some(Cursor { epoch: format!("{epoch}-old"), seq: 5 })).await;
    let m = scrape(server.addr).await;
    assert_eq!(value(&m, "tether_resumes_total", &[("recovered", "true")]), Some(1.0));
    assert_eq!(value(&m, "tether_resumes_total", &[("recovered", "false")]), Some(1.0));

    drop(a);
    drop(b);
    drop(c);
    wait_metric(server.addr, "tether_connections_open", 0).await;
    let m = scrape(server.addr).await;
    assert_eq!(value(&m, "tether_connections_by_transport", &[("transport", "websocket")]), Some(0.0));
    assert_eq!(value(&m, "tether_room_members", &[]), Some(0.0), "members leave with their connections");
    server.stop().await;
}

#[tokio::test]
async fn client_reports_fill_histograms_and_bad_ones_are_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("t.db")).await;
    let good = r#"{"transport":"websocket","reconnect_ms":[250.0,1200.0],"rtt_ms":[12.0,30.0,45.0]}"#;
    assert_eq!(post_body(server.addr, "/client-metrics", good, "").await, 204);
    let m = scrape(server.addr).await;
    assert_eq!(value(&m, "tether_client_reports_total", &[]), Some(1.0));
    assert_eq!(value(&m, "tether_client_rtt_seconds", &[("transport", "websocket")]), Some(3.0), "3 samples");
    assert_eq!(value(&m, "tether_client_reconnect_seconds", &[("transport", "websocket")]), Some(2.0));

    assert_eq!(post_body(server.addr, "/client-metrics", "not json", "").await, 400);
    let too_many = format!(r#"{{"transport":"websocket","reconnect_ms":[],"rtt_ms":[{}]}}"#, vec!["1"; 65].join(","));
    assert_eq!(post_body(server.addr, "/client-metrics", &too_many, "").await, 400);
    let negative = r#"{"transport":"websocket","reconnect_ms":[-1],"rtt_ms":[]}"#;
    assert_eq!(post_body(server.addr, "/client-metrics", negative, "").await, 400);
    let huge = format!(r#"{{"transport":"{}","reconnect_ms":[],"rtt_ms":[]}}"#, "x".repeat(10_000));
    assert_eq!(post_body(server.addr, "/client-metrics", &huge, "").await, 413);
    let foreign = post_body(server.addr, "/client-metrics", good, "Origin: http://evil.test\r\n").await;
    assert_eq!(foreign, 403, "a foreign page cannot write our metrics");
    let m = scrape(server.addr).await;
    assert_eq!(value(&m, "tether_client_reports_total", &[]), Some(1.0), "refused reports count nothing");
    server.stop().await;
}

#[tokio::test]
async fn a_flood_of_reports_from_one_address_is_refused_with_when_to_retry() {
    use tether_server::report::REPORT_BURST;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("t.db")).await;
    let good = r#"{"transport":"websocket","reconnect_ms":[250.0],"rtt_ms":[12.0]}"#;
    let flood = REPORT_BURST as usize + 20;
    let mut taken = 0;
    let mut refused = None;
    for _ in 0..flood {
        match post_raw(server.addr, "/client-metrics", good, "").await {
            (204, _) => taken += 1,
            (429, text) => refused = Some(text),
            (other, text) => panic!("unexpected {other}: {text}"),
        }
    }
    // The budget refills at a few per second while the loop runs.
    assert!((REPORT_BURST as usize..REPORT_BURST as usize + 10).contains(&taken), "{taken} taken of {flood}");
    let text = refused.expect("the flood was refused");
    assert!(text.to_ascii_lowercase().contains("retry-after: "), "{text}");
    assert!(text.contains("too many reports from this address"), "{text}");
    // The CSP report endpoint shares the budget: a flood cannot fill the log.
    let csp = r#"{"csp-report":{"violated-directive":"script-src","blocked-uri":"inline"}}"#;
    assert_eq!(post_body(server.addr, "/csp-report", csp, "").await, 429);
    let m = scrape(server.addr).await;
    assert_eq!(value(&m, "tether_client_reports_total", &[]), Some(taken as f64), "only admitted reports count");
    assert_eq!(value(&m, "tether_csp_violations_total", &[]), Some(0.0));
    assert!(value(&m, "tether_reports_refused_total", &[]).is_some_and(|n| n >= (flood - taken + 1) as f64));
    server.stop().await;
}

/// The next presence frame `c` receives.
async fn presence(c: &mut Client) -> ServerMsg {
    loop {
        match serde_json::from_str::<ServerMsg>(&c.recv_any_text().await).unwrap() {
            m @ (ServerMsg::Presence { .. } | ServerMsg::MemberJoined { .. } | ServerMsg::MemberLeft { .. }) => {
                return m;
            }
            _ => continue,
        }
    }
}

#[tokio::test]
async fn presence_follows_people_joining_leaving_and_dropping() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir.path().join("t.db")).await;
    let url = server.ws_url();
    let mut ann = Client::hello(&url, "ann").await;
    ann.send(&join("room", None)).await;
    assert_eq!(
        presence(&mut ann).await,
        ServerMsg::Presence { room: "room".into(), members: vec!["ann".into()], total: 1 }
    );
    let mut bob = Client::hello(&url, "bob").await;
    bob.send(&join("room", None)).await;
    assert_eq!(presence(&mut ann).await, ServerMsg::MemberJoined { room: "room".into(), nick: "bob".into() });
    assert_eq!(
        presence(&mut bob).await,
        ServerMsg::Presence { room: "room".into(), members: vec!["ann".into(), "bob".into()], total: 2 }
    );
    // A second connection of bob's is not a second bob.
    let mut bob2 = Client::hello(&url, "bob").await;
    bob2.send(&join("room", None)).await;
    presence(&mut bob2).await;
    bob.send(&ClientMsg::Leave { room: "room".into() }).await;
    drop(bob2);
    assert_eq!(presence(&mut ann).await, ServerMsg::MemberLeft { room: "room".into(), nick: "bob".into() });
    ann.recv_nothing(std::time::Duration::from_millis(200)).await;
    server.stop().await;
}
