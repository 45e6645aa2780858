//! SQLite's group commit ([`Store::append_batch`]): one transaction for
//! many posts, and a post that fails takes nothing else with it and leaves
//! no trace (no half-written post, no gap in its room's seqs), whether it
//! fails before writing anything or after.

use tether_server::store::{NewPost, StoreError};
use tether_server::{SqliteStore, Store};

fn post(room: &str, id: &str) -> NewPost {
    NewPost { room: room.into(), id: id.into(), author: "ann".into(), body: format!("body of {id}"), ts_ms: 7 }
}

/// (seq, or the error's kind) per post.
fn outcomes(results: &[Result<tether_server::store::Appended, StoreError>]) -> Vec<Result<(u64, bool), String>> {
    results
        .iter()
        .map(|r| match r {
            Ok(a) => Ok((a.message.seq, a.duplicate)),
            Err(StoreError::NoSuchRoom(_)) => Err("no such room".into()),
            Err(StoreError::Corrupt(_)) => Err("corrupt".into()),
            Err(e) => Err(e.to_string()),
        })
        .collect()
}

#[test]
fn a_post_to_a_missing_room_fails_alone_and_repeats_in_a_batch_are_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
    store.ensure_room("a").unwrap();
    let batch = [post("a", "1"), post("ghost", "2"), post("a", "3"), post("a", "1")];
    let results = store.append_batch(&batch).unwrap();
    assert_eq!(outcomes(&results), vec![Ok((1, false)), Err("no such room".into()), Ok((2, false)), Ok((1, true))]);
    let stored: Vec<(u64, String)> = store.after("a", 0, 10).unwrap().into_iter().map(|m| (m.seq, m.id)).collect();
    assert_eq!(stored, vec![(1, "1".into()), (2, "3".into())]);
}

/// A post that fails after it wrote its row (here: a room whose messages
/// were corrupted to a negative seq, so the new seq cannot be read back)
/// must leave the messages as they were, and the posts around it in the
/// same batch must still be stored, gap-free.
#[test]
fn a_post_failing_after_it_wrote_leaves_no_trace_and_the_rest_of_its_batch_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let store = SqliteStore::open(&path).unwrap();
    store.ensure_room("a").unwrap();
    store.ensure_room("bad").unwrap();
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute(
        "INSERT INTO messages (room, seq, client_id, author, body, ts_ms) VALUES ('bad', -6, 'corrupt', 'x', 'y', 0)",
        [],
    )
    .unwrap();
    let batch = [post("a", "1"), post("bad", "2"), post("a", "3")];
    let results = store.append_batch(&batch).unwrap();
    assert_eq!(outcomes(&results), vec![Ok((1, false)), Err("corrupt".into()), Ok((2, false))]);
    let in_bad: Vec<i64> = raw
        .prepare("SELECT seq FROM messages WHERE room = 'bad'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(in_bad, vec![-6], "the failed post was not stored");
    let stored: Vec<(u64, String)> = store.after("a", 0, 10).unwrap().into_iter().map(|m| (m.seq, m.id)).collect();
    assert_eq!(stored, vec![(1, "1".into()), (2, "3".into())]);
    assert_eq!(store.append("a", "4", "ann", "next", 8).unwrap().message.seq, 3);
}
