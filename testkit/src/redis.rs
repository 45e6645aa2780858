//! A real Redis 7 (Debian's `redis-server`) on a free loopback port, no
//! persistence, killed on drop; `stop` and `start_again` (same port) let a
//! test take it away mid-conversation.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::nginx::free_port;

#[derive(Debug, thiserror::Error)]
pub enum RedisError {
    #[error("redis-server is not installed (Debian package `redis-server`; scripts/setup.sh installs it)")]
    Missing,
    #[error("redis: {0}")]
    Io(#[from] std::io::Error),
    #[error("redis-server did not listen on {0} within 10 s")]
    NotListening(u16),
}

pub struct Redis {
    child: Option<Child>,
    port: u16,
}

fn binary() -> Option<PathBuf> {
    ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].iter().map(PathBuf::from).find(|p| p.exists())
}

/// Whether the binary is here (tests print what is missing otherwise).
pub fn available() -> bool {
    binary().is_some()
}

impl Redis {
    pub fn start() -> Result<Self, RedisError> {
        let mut redis = Self { child: None, port: free_port()? };
        redis.start_again()?;
        Ok(redis)
    }

    /// Starts it again on the same port (after [`Redis::stop`]).
    pub fn start_again(&mut self) -> Result<(), RedisError> {
        let bin = binary().ok_or(RedisError::Missing)?;
        let port = self.port.to_string();
        let child = Command::new(bin)
            .args(["--port", &port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .current_dir(Path::new("/tmp"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        crate::cleanup_after_exit(&format!("kill -9 {} 2>/dev/null", child.id()))?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(RedisError::NotListening(self.port))
    }

    /// Kills it (SIGKILL): every connection drops, every message in flight is lost.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Freezes it (SIGSTOP), as a hung Redis: connections stay open, and
    /// nothing is answered or delivered until [`Redis::resume`].
    pub fn pause(&self) -> Result<(), RedisError> {
        self.signal("-STOP")
    }

    /// Undoes [`Redis::pause`].
    pub fn resume(&self) -> Result<(), RedisError> {
        self.signal("-CONT")
    }

    fn signal(&self, sig: &str) -> Result<(), RedisError> {
        let Some(child) = &self.child else { return Ok(()) };
        Command::new("kill").args([sig, &child.id().to_string()]).status()?;
        Ok(())
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}
