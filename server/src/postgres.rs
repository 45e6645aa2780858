//! The shared [`Store`](crate::store::Store) for several instances:
//! PostgreSQL through a deadpool-postgres pool.
//!
//! Per-room seqs come from `UPDATE rooms SET last_seq = last_seq + 1 …
//! RETURNING`, in the transaction that inserts the message: the row lock
//! serialises appends to one room across every instance until commit, so
//! seqs have no gaps or duplicates, and a message with seq N is committed
//! before any with seq N+1 can be. The trait is blocking (the hub calls it on
//! the blocking pool), so the store owns a small runtime of its own that
//! drives the pool's connections; its methods `block_on` that runtime.

mod queries;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use deadpool_postgres::{Config, Pool, PoolConfig, Runtime, Timeouts};
use tokio_postgres::NoTls;

use crate::store::StoreError;

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
