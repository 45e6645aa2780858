//! Acks across instances: an ack never reaches a user ahead of a message
//! with a lower seq that another instance stored.

use crate::cluster::{Viewer, bus_only, database, redis, skip, wait_health};
use crate::common::frames::post;
use tether_protocol::ServerMsg;

/// The app resumes from the highest seq it holds, its own acked messages
/// included: an ack must not reach a user before a lower seq another
/// instance stored, or a reconnect in between skips that message for good.
/// With the bus away, the other instance's message can only come from the
/// store, so the ack would overtake it every time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ack_never_overtakes_a_lower_seq_stored_by_the_other_instance() {
    if skip() {
        return;
    }
    let (store, mut bus) = (database("ackorder"), redis());
    let (one, two) = (bus_only(&store, &bus.url()), bus_only(&store, &bus.url()));
    wait_health(one.addr, 200).await;
    wait_health(two.addr, 200).await;
    let mut ann = Viewer::join(one.addr, "ann", "o").await;
    let mut bob = Viewer::join(two.addr, "bob", "o").await;
    bus.stop();
    bob.post("b0", "first").await;
    bob.read_until(1).await;
    ann.client.send(&post("o", "a0", "second")).await;
    loop {
        match ann.client.recv().await {
            ServerMsg::Message { message } => ann.seen.push(message),
            ServerMsg::Ack { id, seq, .. } => {
                assert_eq!(id, "a0");
                let below: Vec<u64> = ann.seqs().into_iter().filter(|&s| s < seq).collect();
                assert_eq!(below, (1..seq).collect::<Vec<_>>(), "ann's ack for seq {seq} came before some of these");
                break;
            }
            _ => {}
        }
    }
}
