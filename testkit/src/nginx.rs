//! A real nginx (Debian's package) started for one test on a free loopback
//! port, from a config in a temporary directory, and stopped on drop.
//!
//! Tests use it the way deployments do: as a reverse proxy (well or badly
//! configured), a static host or a load balancer. Only the `server { … }`
//! blocks differ between tests; the boilerplate that makes nginx run as a
//! non-daemon without touching `/var/lib/nginx` lives here once.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Why nginx could not be started.
#[derive(Debug, thiserror::Error)]
pub enum NginxError {
    #[error("nginx is not installed (Debian package `nginx`; scripts/setup.sh installs it)")]
    Missing,
    #[error("nginx: {0}")]
    Io(#[from] std::io::Error),
    #[error("nginx did not start listening on {port} within 10 s; error log:\n{log}")]
    NotListening { port: u16, log: String },
}

/// A running nginx; killed (SIGTERM, then SIGKILL) when dropped.
pub struct Nginx {
    child: Child,
    port: u16,
    dir: PathBuf,
}

/// Where Debian puts the binary; `PATH` may not include `/usr/sbin`.
fn binary() -> Option<PathBuf> {
    ["/usr/sbin/nginx", "/usr/bin/nginx"].iter().map(PathBuf::from).find(|p| p.exists())
}

/// Whether the binary is here (tests print what is missing otherwise).
pub fn available() -> bool {
    binary().is_some()
}

/// A free loopback port (bound and released; good enough for tests).
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// nginx as a plain round-robin load balancer over instances on `ports`
/// (loopback), WebSocket upgrades forwarded: the README's snippet, for
/// `Nginx::start`. No affinity of any kind.
pub fn round_robin(ports: &[u16]) -> String {
    let servers: String = ports.iter().map(|p| format!("server 127.0.0.1:{p}; ")).collect();
    format!(
        "map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
         upstream tether {{ {servers}}}
         server {{
           listen 127.0.0.1:{{port}};
           location / {{
             proxy_pass http://tether;
             proxy_http_version 1.1;
             proxy_set_header Upgrade $http_upgrade;
             proxy_set_header Connection $connection_upgrade;
             proxy_set_header Host $http_host;
             proxy_read_timeout 1h;
           }}
         }}"
    )
}

impl Nginx {
    /// Starts nginx with `servers` as the body of its `http { }` block.
    /// `servers` may use the placeholder `{port}` for the port nginx must
    /// listen on (`listen 127.0.0.1:{port};`) and `{dir}` for the temporary
    /// directory (for a static root copied there, say).
    pub fn start(servers: &str) -> Result<Self, NginxError> {
        let bin = binary().ok_or(NginxError::Missing)?;
        let dir = std::env::temp_dir().join(format!("tether-nginx-{}-{}", std::process::id(), crate::unique()));
        std::fs::create_dir_all(&dir)?;
        let port = free_port()?;
        let d = dir.display();
        let body = servers.replace("{port}", &port.to_string()).replace("{dir}", &d.to_string());
        let conf = format!(
            "daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log info;\n\
             events {{ worker_connections 4096; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}/client_body;\n  proxy_temp_path {d}/proxy;\n  \
             fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  \
             types {{ text/html html; application/javascript js; application/wasm wasm; text/css css; }}\n\
             {body}\n}}\n"
        );
        let conf_path = dir.join("nginx.conf");
        std::fs::write(&conf_path, conf)?;
        let child = Command::new(bin)
            .arg("-c")
            .arg(&conf_path)
            .arg("-p")
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        crate::cleanup_after_exit(&format!("kill -9 {} 2>/dev/null; rm -rf {d}", child.id()))?;
        let mut nginx = Self { child, port, dir };
        nginx.wait_listening()?;
        Ok(nginx)
    }

    fn wait_listening(&mut self) -> Result<(), NginxError> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let log = std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default();
        Err(NginxError::NotListening { port: self.port, log })
    }

    /// The port nginx listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The temporary directory holding the config (and `{dir}` content).
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SAFETY: plain kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                let _ = std::fs::remove_dir_all(&self.dir);
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
