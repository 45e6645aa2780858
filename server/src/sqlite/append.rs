//! Appending posts: one post inside a transaction, and a batch in one
//! transaction with or without a savepoint per post.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use tether_protocol::ChatMessage;

use super::{COLUMNS, collect, row_to_message, to_seq};
use crate::store::{Appended, NewPost, StoreError};
use crate::wal_sync::WalSync;

/// One append inside the caller's transaction (not committed here): the
/// original message if `id` is already stored, else the next seq.
///
/// The common case (a new id, an existing room) is one statement: the
/// insert finds the room's next seq itself (the end of the room's part of
/// the key, where the row goes anyway) and skips an id already stored; only
/// when it inserted nothing do we look for why.
pub(super) fn append_in(
    conn: &Connection,
    room: &str,
    id: &str,
    author: &str,
    body: &str,
    ts_ms: i64,
) -> Result<Appended, StoreError> {
    let inserted: Option<i64> = conn
        .prepare_cached(
            "INSERT INTO messages (room, seq, client_id, author, body, ts_ms) \
             SELECT name, COALESCE((SELECT MAX(seq) FROM messages WHERE room = ?1), 0) + 1, ?2, ?3, ?4, ?5 \
             FROM rooms WHERE name = ?1 \
             ON CONFLICT(client_id) DO NOTHING RETURNING seq",
        )?
        .query_row(params![room, id, author, body, ts_ms], |r| r.get(0))
        .optional()?;
    let Some(seq) = inserted else {
        let existing = conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM messages WHERE client_id = ?1"))?
            .query_row([id], row_to_message)
            .optional()?;
        let row = existing.ok_or_else(|| StoreError::NoSuchRoom(room.to_owned()))?;
        let message = collect(std::iter::once(Ok(row)))?.remove(0);
        return Ok(Appended { message, duplicate: true });
    };
    let message = ChatMessage {
        room: room.to_owned(),
        seq: to_seq(seq)?,
        id: id.to_owned(),
        author: author.to_owned(),
        body: body.to_owned(),
        ts_ms,
    };
    Ok(Appended { message, duplicate: false })
}

/// One transaction for `posts`, with one result per post; `None` (nothing
/// stored) at the first post that failed after it may have written
/// something, which only [`append_each`] can store around.
pub(super) fn append_all(
    conn: &mut Connection,
    wal: &WalSync,
    posts: &[NewPost],
) -> Result<Option<Vec<Result<Appended, StoreError>>>, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut out = Vec::with_capacity(posts.len());
    for p in posts {
        match append_in(&tx, &p.room, &p.id, &p.author, &p.body, p.ts_ms) {
            Ok(appended) => out.push(Ok(appended)),
            // Found missing before anything was written.
            Err(e @ StoreError::NoSuchRoom(_)) => out.push(Err(e)),
            // Dropping the transaction rolls the whole batch back.
            Err(_) => return Ok(None),
        }
    }
    tx.commit()?;
    wal.committed();
    Ok(Some(out))
}

/// One transaction for `posts`, each post in its own savepoint, so one that
/// fails takes nothing else with it and leaves no gap in the seqs.
pub(super) fn append_each(
    conn: &mut Connection,
    wal: &WalSync,
    posts: &[NewPost],
) -> Result<Vec<Result<Appended, StoreError>>, StoreError> {
    let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut out = Vec::with_capacity(posts.len());
    for p in posts {
        let sp = tx.savepoint()?;
        match append_in(&sp, &p.room, &p.id, &p.author, &p.body, p.ts_ms) {
            Ok(appended) => {
                sp.commit()?;
                out.push(Ok(appended));
            }
            // SQLite rolled the whole transaction back itself (a full disk,
            // an I/O error): going on would commit the rest post by post in
            // autocommit mode, so every post of the batch gets the error.
            Err(e) if sp.is_autocommit() => return Err(e),
            // Dropping the savepoint rolls back what this post wrote.
            Err(e) => out.push(Err(e)),
        }
    }
    tx.commit()?;
    wal.committed();
    Ok(out)
}
