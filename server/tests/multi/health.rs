//! What `/healthz` says while a shared component is away (PostgreSQL down
//! or stalled, Redis hung), that nothing is acked meanwhile, and that each
//! instance recovers when it is back.

use crate::cluster::{Viewer, bus_only, database, instance, redis, skip, wait_for, wait_health};
use crate::common::frames::post;
use crate::common::http;
use tether_protocol::ServerMsg;
use tether_testkit::postgres::Postgres;

/// One instance on a PostgreSQL of its own (stopping or pausing the shared
/// one would break the other tests), and ann in room `p` with one message.
async fn on_own_postgres() -> (Postgres, tether_testkit::redis::Redis, crate::common::process::Proc, Viewer) {
    let pg = Postgres::start().expect("start PostgreSQL");
    let bus = redis();
    let one = instance(&pg.url("tether"), &bus.url());
    wait_health(one.addr, 200).await;
    let mut ann = Viewer::join(one.addr, "ann", "p").await;
    ann.post("a0", "before").await;
    ann.read_until(1).await;
    (pg, bus, one, ann)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_is_503_while_postgres_is_down_and_nothing_is_acked_meanwhile() {
    if skip() {
        return;
    }
    let (pg, _bus, one, mut ann) = on_own_postgres().await;
    pg.stop().expect("stop PostgreSQL");
    let why = wait_health(one.addr, 503).await;
    assert!(why.contains("store cannot write"), "{why}");
    ann.client.send(&post("p", "a1", "while down")).await;
    loop {
        match ann.client.recv().await {
            ServerMsg::Rejected { id, .. } if id == "a1" => break,
            ServerMsg::Ack { id, .. } => panic!("{id} acked while PostgreSQL is down"),
            _ => {}
        }
    }
    pg.start_again().expect("restart PostgreSQL");
    wait_health(one.addr, 200).await;
    ann.post("a1", "after").await;
    ann.read_until(2).await;
    ann.assert_complete(2);
    assert_eq!(http(one.addr, "GET", "/healthz").await.0, 200);
}

/// Runs its closure when dropped: resumes a paused (SIGSTOPped) service
/// even if the test fails, else it stays stopped.
struct Resume<F: FnMut()>(F);

impl<F: FnMut()> Drop for Resume<F> {
    fn drop(&mut self) {
        (self.0)();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_postgres_fails_posts_and_health_instead_of_hanging() {
    if skip() {
        return;
    }
    let (pg, _bus, one, mut ann) = on_own_postgres().await;
    pg.pause().expect("SIGSTOP PostgreSQL");
    let paused = Resume(|| {
        let _ = pg.resume();
    });
    ann.client.send(&post("p", "a1", "while stalled")).await;
    let rejected = |m: &ServerMsg| matches!(m, ServerMsg::Rejected { id, .. } if id == "a1");
    wait_for(&mut ann.client, std::time::Duration::from_secs(20), "a1 refused while PostgreSQL hangs", rejected).await;
    let why = wait_health(one.addr, 503).await;
    assert!(why.contains("store cannot write"), "{why}");
    drop(paused);
    wait_health(one.addr, 200).await;
    ann.post("a1", "after").await;
    ann.read_until(2).await;
    ann.assert_complete(2);
}

/// A hung Redis keeps its sockets open and answers nothing: no error ever
/// reaches the subscriber, only silence. The instance notices that it no
/// longer hears even its own beats, says so on /healthz, and recovers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_redis_turns_healthz_503_and_fanout_recovers_after_it() {
    if skip() {
        return;
    }
    let (store, bus) = (database("hung"), redis());
    let (one, two) = (bus_only(&store, &bus.url()), bus_only(&store, &bus.url()));
    wait_health(one.addr, 200).await;
    wait_health(two.addr, 200).await;
    let mut ann = Viewer::join(one.addr, "ann", "h").await;
    let mut bob = Viewer::join(two.addr, "bob", "h").await;
    ann.post("a0", "before").await;
    bob.read_until(1).await;
    bus.pause().expect("SIGSTOP Redis");
    let paused = Resume(|| {
        let _ = bus.resume();
    });
    let why = wait_health(one.addr, 503).await;
    assert!(why.contains("bus unavailable"), "{why}");
    drop(paused);
    wait_health(one.addr, 200).await;
    wait_health(two.addr, 200).await;
    ann.post("a1", "after").await;
    bob.post("b1", "after").await;
    ann.read_until(3).await;
    bob.read_until(3).await;
    ann.assert_complete(3);
    bob.assert_complete(3);
    assert_eq!(ann.seen, bob.seen);
}
