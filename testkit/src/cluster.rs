//! The multi-instance deployment of the README, for tests: two
//! tether-server instances on one PostgreSQL and one Redis, behind a real
//! nginx as a round-robin load balancer that forwards WebSocket upgrades.
//! Each part is the real one, on free loopback ports, gone with the test.

use std::path::{Path, PathBuf};

use crate::http::{self, HttpError};
use crate::nginx::{Nginx, NginxError, round_robin};
use crate::postgres::{Postgres, PostgresError};
use crate::redis::{Redis, RedisError};
use crate::supervisor::{Supervisor, SupervisorError};

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(transparent)]
    Postgres(#[from] PostgresError),
    #[error(transparent)]
    Redis(#[from] RedisError),
    #[error(transparent)]
    Nginx(#[from] NginxError),
    #[error("tether-server: {0}")]
    Server(#[from] SupervisorError),
    #[error("asking an instance: {0}")]
    Http(#[from] HttpError),
    #[error("instance on port {0}: no tether_connections_open in /metrics")]
    NoMetric(u16),
}

/// Two instances, their balancer and the services they share. Fields drop
/// in order: the servers go before the database and bus under them.
pub struct Cluster {
    /// Each kept on its port across a kill and restart, so the balancer
    /// finds a restarted instance again.
    pub servers: [Supervisor; 2],
    pub nginx: Nginx,
    _redis: Redis,
    _pg: Postgres,
}

impl Cluster {
    /// Starts everything, the instances serving the app in `static_dir`,
    /// behind nginx's plain round robin ([`round_robin`], the README's snippet).
    pub async fn start(server_bin: PathBuf, static_dir: &Path) -> Result<Self, ClusterError> {
        Self::start_behind(server_bin, static_dir, |a, b| round_robin(&[a, b])).await
    }

    /// As [`Cluster::start`], with nginx's `server` blocks from `config`
    /// (given both instances' ports; see [`Nginx::start`] for `{port}`).
    pub async fn start_behind(
        server_bin: PathBuf,
        static_dir: &Path,
        config: impl Fn(u16, u16) -> String,
    ) -> Result<Self, ClusterError> {
        let pg = Postgres::start()?;
        let redis = Redis::start()?;
        let args = vec![
            "--static-dir".to_owned(),
            static_dir.display().to_string(),
            "--store".into(),
            pg.url("tether"),
            "--bus".into(),
            redis.url(),
        ];
        let mut servers = [Supervisor::new(server_bin.clone(), args.clone()), Supervisor::new(server_bin, args)];
        for s in &mut servers {
            s.start().await?;
        }
        let nginx = Nginx::start(&config(servers[0].port(), servers[1].port()))?;
        Ok(Self { servers, nginx, _redis: redis, _pg: pg })
    }

    /// WebSocket connections open now on each instance, from its /metrics.
    pub async fn open_conns(&self) -> Result<[i64; 2], ClusterError> {
        let mut counts = [0; 2];
        for (count, server) in counts.iter_mut().zip(&self.servers) {
            let (_, body) = http::request(server.port(), "GET", "/metrics").await?;
            let v = body.lines().find_map(|l| l.strip_prefix("tether_connections_open ")?.trim().parse::<f64>().ok());
            *count = v.ok_or(ClusterError::NoMetric(server.port()))? as i64;
        }
        Ok(counts)
    }
}
