//! The [`Store`] operations as SQL, and rows turned back into messages.
//! Apart from the pool and its runtime (which are about never hanging) so
//! that what each call asks of PostgreSQL, and what it relies on, reads in
//! one place.

use std::sync::atomic::Ordering;

use deadpool_postgres::Pool;
use tether_protocol::ChatMessage;
use tokio_postgres::error::SqlState;

use super::{PgStore, get};
use crate::store::{Appended, RoomInfo, Store, StoreError};

const COLUMNS: &str = "room, seq, client_id, author, body, ts_ms";

fn to_seq(v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative seq {v}")))
}

fn to_sql(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn message(row: &tokio_postgres::Row) -> Result<ChatMessage, StoreError> {
    Ok(ChatMessage {
        room: row.try_get(0)?,
        seq: to_seq(row.try_get(1)?)?,
        id: row.try_get(2)?,
        author: row.try_get(3)?,
        body: row.try_get(4)?,
        ts_ms: row.try_get(5)?,
    })
}

/// A write transaction; read-only (so writes fail genuinely) under the test fault.
async fn begin<'a>(
    client: &'a mut deadpool_postgres::Object,
    read_only: bool,
) -> Result<deadpool_postgres::Transaction<'a>, StoreError> {
    let tx = client.transaction().await?;
    if read_only {
        tx.batch_execute("SET TRANSACTION READ ONLY").await?;
    }
    Ok(tx)
}

/// One attempt at an append; `None` when another instance stored the same
/// client id concurrently (the unique constraint fired): try again.
async fn try_append(pool: &Pool, read_only: bool, m: &ChatMessage) -> Result<Option<Appended>, StoreError> {
    let mut client = get(pool).await?;
    let tx = begin(&mut client, read_only).await?;
    let select = format!("SELECT {COLUMNS} FROM messages WHERE client_id = $1");
    if let Some(row) = tx.query_opt(&select, &[&m.id]).await? {
        return Ok(Some(Appended { message: message(&row)?, duplicate: true }));
    }
    let row = tx
        .query_opt("UPDATE rooms SET last_seq = last_seq + 1 WHERE name = $1 RETURNING last_seq", &[&m.room])
        .await?
        .ok_or_else(|| StoreError::NoSuchRoom(m.room.clone()))?;
    let seq: i64 = row.try_get(0)?;
    let insert = "INSERT INTO messages (room, seq, client_id, author, body, ts_ms) VALUES ($1, $2, $3, $4, $5, $6)";
    let stored = match tx.execute(insert, &[&m.room, &seq, &m.id, &m.author, &m.body, &m.ts_ms]).await {
        Ok(_) => tx.commit().await,
        Err(e) => Err(e),
    };
    match stored {
        Ok(()) => Ok(Some(Appended { message: ChatMessage { seq: to_seq(seq)?, ..m.clone() }, duplicate: false })),
        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

impl Store for PgStore {
    fn ensure_room(&self, room: &str) -> Result<RoomInfo, StoreError> {
        let (ro, pool, room) = (self.read_only(), self.pool.clone(), room.to_owned());
        self.run(async move {
            let mut client = get(&pool).await?;
            let tx = begin(&mut client, ro).await?;
            let fresh = uuid::Uuid::new_v4().to_string();
            let inserted = tx
                .execute(
                    "INSERT INTO rooms (name, epoch) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                    &[&room, &fresh],
                )
                .await?;
            let row = tx.query_one("SELECT epoch FROM rooms WHERE name = $1", &[&room]).await?;
            tx.commit().await?;
            Ok(RoomInfo { epoch: row.try_get(0)?, created: inserted == 1 })
        })
    }

    fn append(&self, room: &str, id: &str, author: &str, body: &str, ts_ms: i64) -> Result<Appended, StoreError> {
        let m = ChatMessage {
            room: room.to_owned(),
            seq: 0,
            id: id.to_owned(),
            author: author.to_owned(),
            body: body.to_owned(),
            ts_ms,
        };
        let (ro, pool, id) = (self.read_only(), self.pool.clone(), id.to_owned());
        self.run(async move {
            // A lost race on the client id means the other insert committed,
            // so the second attempt finds it; more attempts cannot be needed.
            for _ in 0..3 {
                if let Some(appended) = try_append(&pool, ro, &m).await? {
                    return Ok(appended);
                }
            }
            Err(StoreError::Corrupt(format!("client id {id:?} neither stored nor found")))
        })
    }

    fn after(&self, room: &str, seq: u64, limit: usize) -> Result<Vec<ChatMessage>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let (pool, room) = (self.pool.clone(), room.to_owned());
        self.run(async move {
            let client = get(&pool).await?;
            let sql = format!("SELECT {COLUMNS} FROM messages WHERE room = $1 AND seq > $2 ORDER BY seq LIMIT $3");
            let stmt = client.prepare_cached(&sql).await?;
            client.query(&stmt, &[&room, &to_sql(seq), &limit]).await?.iter().map(message).collect()
        })
    }

    fn recent(&self, room: &str, limit: usize) -> Result<Vec<ChatMessage>, StoreError> {
        self.before(room, u64::MAX, limit, usize::MAX)
    }

    fn before(&self, room: &str, seq: u64, limit: usize, max_bytes: usize) -> Result<Vec<ChatMessage>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let (pool, room) = (self.pool.clone(), room.to_owned());
        let rows = self.run(async move {
            let client = get(&pool).await?;
            let sql = format!("SELECT {COLUMNS} FROM messages WHERE room = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3");
            let stmt = client.prepare_cached(&sql).await?;
            client
                .query(&stmt, &[&room, &to_sql(seq), &limit])
                .await?
                .iter()
                .map(message)
                .collect::<Result<Vec<_>, _>>()
        })?;
        let mut bytes = 0usize;
        let mut out: Vec<ChatMessage> = rows
            .into_iter()
            .take_while(|m| {
                let within = bytes <= max_bytes;
                bytes = bytes.saturating_add(m.id.len() + m.author.len() + m.body.len());
                within
            })
            .collect();
        out.reverse();
        Ok(out)
    }

    fn check_writable(&self) -> Result<(), StoreError> {
        let ro = self.read_only();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
        let now = i64::try_from(now).unwrap_or(i64::MAX);
        let pool = self.pool.clone();
        self.run(async move {
            let mut client = get(&pool).await?;
            let tx = begin(&mut client, ro).await?;
            tx.execute(
                "INSERT INTO health (id, ts_ms) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET ts_ms = $1",
                &[&now],
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn set_read_only(&self, on: bool) -> Result<(), StoreError> {
        self.read_only.store(on, Ordering::Relaxed);
        Ok(())
    }

    fn rooms(&self) -> Result<Vec<String>, StoreError> {
        let pool = self.pool.clone();
        self.run(async move {
            let client = get(&pool).await?;
            let rows = client.query("SELECT name FROM rooms ORDER BY name", &[]).await?;
            rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
        })
    }

    fn last_seq(&self, room: &str) -> Result<u64, StoreError> {
        let (pool, room) = (self.pool.clone(), room.to_owned());
        self.run(async move {
            let client = get(&pool).await?;
            let row = client.query_opt("SELECT last_seq FROM rooms WHERE name = $1", &[&room]).await?;
            to_seq(row.map(|r| r.try_get(0)).transpose()?.unwrap_or(0))
        })
    }

    fn close(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
