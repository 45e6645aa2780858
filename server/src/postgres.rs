//! The shared [`Store`] for several instances: PostgreSQL through a
//! deadpool-postgres pool.
//!
//! Per-room seqs come from `UPDATE rooms SET last_seq = last_seq + 1 …
//! RETURNING`, in the transaction that inserts the message: the row lock
//! serialises appends to one room across every instance until commit, so
//! seqs have no gaps or duplicates, and a message with seq N is committed
//! before any with seq N+1 can be. The trait is blocking (the hub calls it on
//! the blocking pool), so the store owns a small runtime of its own that
//! drives the pool's connections; its methods `block_on` that runtime.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use deadpool_postgres::{Config, Pool, PoolConfig, Runtime, Timeouts};
use tether_protocol::ChatMessage;
use tokio_postgres::NoTls;
use tokio_postgres::error::SqlState;

use crate::store::{Appended, RoomInfo, Store, StoreError};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS rooms (
    name     TEXT PRIMARY KEY,
    epoch    TEXT NOT NULL,
    last_seq BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS messages (
    room      TEXT NOT NULL REFERENCES rooms(name),
    seq       BIGINT NOT NULL,
    client_id TEXT NOT NULL UNIQUE,
    author    TEXT NOT NULL,
    body      TEXT NOT NULL,
    ts_ms     BIGINT NOT NULL,
    PRIMARY KEY (room, seq)
);
CREATE TABLE IF NOT EXISTS health (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    ts_ms BIGINT NOT NULL
);
";

/// Two instances starting together must not race on `CREATE TABLE`.
const SCHEMA_LOCK: i64 = 0x7e7e_0012;
/// How long any one wait for the database may take before it counts as down
/// (so `/healthz` answers promptly while PostgreSQL is unreachable).
const TIMEOUT: Duration = Duration::from_secs(3);
/// The server ends any statement (or wait for a lock) that takes longer.
const STATEMENT_TIMEOUT_MS: u64 = 5_000;
/// Longest any one store call may wait for PostgreSQL: a stalled server
/// (stopped, or a network that black-holes) must fail the call, not hang
/// it while its caller holds a room lock and `/healthz` waits behind it.
const CALL_TIMEOUT: Duration = Duration::from_secs(8);
const COLUMNS: &str = "room, seq, client_id, author, body, ts_ms";

pub struct PgStore {
    pool: Pool,
    /// `Option` only so `Drop` can shut it down without blocking.
    rt: Option<tokio::runtime::Runtime>,
    read_only: AtomicBool,
}

impl PgStore {
    /// Connects to `url` (`postgres://user@host:port/db`) and creates the
    /// tables if missing. Fails if the database cannot be reached now.
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("tether-pg")
            .enable_all()
            .build()
            .map_err(|e| StoreError::PostgresPool(format!("runtime: {e}")))?;
        let mut cfg = Config::new();
        cfg.url = Some(url.to_owned());
        cfg.connect_timeout = Some(TIMEOUT);
        cfg.options =
            Some(format!("-c statement_timeout={STATEMENT_TIMEOUT_MS} -c lock_timeout={STATEMENT_TIMEOUT_MS}"));
        let timeouts = Timeouts { wait: Some(TIMEOUT), create: Some(TIMEOUT), recycle: Some(TIMEOUT) };
        cfg.pool = Some(PoolConfig { max_size: 16, timeouts, ..PoolConfig::default() });
        let pool =
            cfg.create_pool(Some(Runtime::Tokio1), NoTls).map_err(|e| StoreError::PostgresPool(e.to_string()))?;
        let store = Self { pool, rt: Some(rt), read_only: AtomicBool::new(false) };
        let pool = store.pool.clone();
        store.run(async move {
            let mut client = get(&pool).await?;
            let tx = client.transaction().await?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK]).await?;
            tx.batch_execute(SCHEMA).await?;
            tx.commit().await?;
            Ok(())
        })?;
        Ok(store)
    }

    /// Runs `fut` on the store's own runtime and waits for it. A channel, not
    /// `block_on`, so this works from any thread, async worker included (as
    /// at startup), without tokio's nested-runtime check.
    fn run<T: Send + 'static>(
        &self,
        fut: impl Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Result<T, StoreError> {
        let rt = self.rt.as_ref().ok_or_else(|| StoreError::PostgresPool("store closed".into()))?;
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        rt.spawn(async move {
            let result = tokio::time::timeout(CALL_TIMEOUT, fut).await.unwrap_or_else(|_| {
                Err(StoreError::PostgresPool(format!("no answer from PostgreSQL within {CALL_TIMEOUT:?}")))
            });
            let _ = tx.send(result);
        });
        rx.recv().map_err(|_| StoreError::PostgresPool("store runtime stopped".into()))?
    }

    fn read_only(&self) -> bool {
        self.read_only.load(Ordering::Relaxed)
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

async fn get(pool: &Pool) -> Result<deadpool_postgres::Object, StoreError> {
    pool.get().await.map_err(|e| StoreError::PostgresPool(e.to_string()))
}

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
