//! What the binary does after parsing flags, as a library function so the
//! testkit's tests can run the genuine startup path in a child process.

use std::future::Future;
use std::io::Write;

use crate::{AppState, Config, serve};

/// Opens storage, binds, prints `listening on http://HOST:PORT` (scripts
/// wait for exactly that line to learn the port), then serves until
/// `shutdown` resolves.
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Box<dyn std::error::Error>> {
    config.validate()?;
    let open_files = crate::fdlimit::raise_to_hard();
    tracing::debug!(?open_files, "open-files limit");
    let state = AppState::from_config(&config)?;
    if let Some(url) = &config.bus {
        state.start_bus(url, std::time::Duration::from_millis(config.bus_resync_ms))?;
    }
    let listener = tokio::net::TcpListener::bind(&config.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
    let addr = listener.local_addr()?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on http://{addr}")?;
    out.flush()?;
    drop(out);
    if config.bus.is_some() {
        match advertised(config.advertise_url.as_deref(), addr)? {
            Some(url) => state.advertise(url),
            None => tracing::warn!(
                %addr,
                "no --advertise-url and bound to an unspecified address: other instances cannot pass on \
                 requests for this one's fallback sessions (those clients will start new sessions)"
            ),
        }
    }
    let store = if config.store.is_some() { "postgres".to_owned() } else { config.db.display().to_string() };
    tracing::info!(%addr, %store, bus = config.bus.is_some(), "serving");
    serve(listener, state.clone(), shutdown).await?;
    if let Some(peers) = state.peers() {
        peers.unregister().await;
    }
    tracing::info!("stopped cleanly");
    Ok(())
}

/// Where the other instances reach this one: `--advertise-url`, else the
/// bound address when it is a specific one.
fn advertised(flag: Option<&str>, bound: std::net::SocketAddr) -> Result<Option<String>, String> {
    match flag {
        Some(url) => crate::bus::peers::base_url(url)
            .map(Some)
            .ok_or_else(|| format!("--advertise-url must be http://host:port and nothing more, not {url:?}")),
        None if bound.ip().is_unspecified() => Ok(None),
        None => Ok(Some(format!("http://{bound}"))),
    }
}

/// Resolves on Ctrl-C or SIGTERM. If a handler cannot be installed, that
/// signal is simply not awaited (the process can still be killed).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

#[cfg(test)]
mod tests {
    use super::advertised;

    #[test]
    fn the_advertised_url_is_the_flag_or_a_specific_bound_address() {
        let bound = "10.0.0.5:8080".parse().unwrap();
        let any = "0.0.0.0:8080".parse().unwrap();
        assert_eq!(advertised(None, bound), Ok(Some("http://10.0.0.5:8080".into())));
        assert_eq!(advertised(None, any), Ok(None), "0.0.0.0 is no address to reach");
        assert_eq!(advertised(Some("http://tether-1:8080/"), any), Ok(Some("http://tether-1:8080".into())));
        assert!(advertised(Some("https://tether-1"), bound).is_err(), "instances talk plain HTTP");
        assert!(advertised(Some("tether-1:8080"), bound).is_err());
        assert!(advertised(Some("http://tether-1:8080/app"), bound).is_err(), "requests keep their own paths");
        assert!(advertised(Some("http://tether-1:8080/?x=1"), bound).is_err());
    }
}
