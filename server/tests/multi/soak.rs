//! A longer conversation across two instances through repeated faults:
//! SIGKILL of either instance (its users resume on the other, it comes back
//! on a new port), and Redis restarts. Prints the figures as `SOAK: …`.

use std::collections::BTreeSet;

use crate::cluster::{Viewer, database, instance, redis, skip, wait_health};
use crate::common::process::Proc;

const ROUNDS: usize = 8;
const EACH: usize = 5;
const USERS: usize = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_across_instances_with_kills_and_redis_restarts_loses_and_duplicates_nothing() {
    if skip() {
        return;
    }
    let (store, mut bus) = (database("soak"), redis());
    let mut procs: Vec<Proc> = vec![instance(&store, &bus.url()), instance(&store, &bus.url())];
    for p in &procs {
        wait_health(p.addr, 200).await;
    }
    let mut users = Vec::new();
    let mut on = Vec::new();
    for u in 0..USERS {
        users.push(Viewer::join(procs[u % 2].addr, &format!("u{u}"), "soak").await);
        on.push(u % 2);
    }
    let (mut kills, mut redis_restarts, mut resumes) = (0, 0, 0);
    for round in 0..ROUNDS {
        for (u, v) in users.iter_mut().enumerate() {
            for k in 0..EACH {
                v.try_post(&format!("u{u}-r{round}-{k}"), "soak").await;
            }
        }
        if round % 2 == 1 {
            // Kill one instance with posts in flight; its users resume on the other.
            let dead = (round / 2) % 2;
            procs[dead].child.kill().expect("SIGKILL");
            procs[dead].child.wait().expect("reap");
            kills += 1;
            let alive = procs[1 - dead].addr;
            for (u, v) in users.iter_mut().enumerate() {
                if on[u] == dead {
                    v.resume(alive).await;
                    on[u] = 1 - dead;
                    resumes += 1;
                }
            }
            procs[dead] = instance(&store, &bus.url());
            wait_health(procs[dead].addr, 200).await;
            // Spread the users again over both instances.
            for (u, v) in users.iter_mut().enumerate().filter(|(u, _)| u % 2 == dead) {
                v.read_until(v.seen.len()).await;
                v.resume(procs[dead].addr).await;
                on[u] = dead;
                resumes += 1;
            }
        } else if round == 2 || round == 6 {
            bus.stop();
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            bus.start_again().expect("restart redis");
            redis_restarts += 1;
        }
        let so_far = (round + 1) * EACH * USERS;
        for v in users.iter_mut() {
            v.read_until(so_far).await;
        }
    }
    let total = ROUNDS * EACH * USERS;
    let sent: BTreeSet<String> = (0..USERS)
        .flat_map(|u| (0..ROUNDS).flat_map(move |r| (0..EACH).map(move |k| format!("u{u}-r{r}-{k}"))))
        .collect();
    for v in &users {
        let shown: Vec<&String> = v.seen.iter().map(|m| &m.id).collect();
        let unique: BTreeSet<&String> = shown.iter().copied().collect();
        let lost = sent.iter().filter(|id| !unique.contains(id)).count();
        let duplicated = shown.len() - unique.len();
        let out_of_order = v.seen.windows(2).filter(|w| w[1].seq != w[0].seq + 1).count();
        eprintln!(
            "SOAK {}: sent {total} shown {} lost {lost} duplicated {duplicated} out_of_order {out_of_order} \
             instance_kills {kills} redis_restarts {redis_restarts} resumes {resumes}",
            v.nick,
            shown.len()
        );
        v.assert_complete(total);
        assert_eq!(v.seen, users[0].seen, "{} disagrees on the order", v.nick);
    }
}
