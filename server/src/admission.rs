//! Connection caps per IP address and in total, checked before the
//! WebSocket upgrade so a refused client costs almost nothing.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
}

#[derive(Debug)]
pub struct Admission {
    per_ip: usize,
    total: usize,
    counts: Arc<Mutex<Counts>>,
}

/// Why a connection was refused, as the HTTP answer says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("too many connections from your address")]
    PerIp,
    #[error("server is at its connection limit")]
    Total,
}

impl Refused {
    pub fn status(self) -> StatusCode {
        match self {
            Refused::PerIp => StatusCode::TOO_MANY_REQUESTS,
            Refused::Total => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// Holds one connection's place; frees it when dropped.
#[derive(Debug)]
pub struct Ticket {
    ip: Option<IpAddr>,
    counts: Arc<Mutex<Counts>>,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut c = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        c.total = c.total.saturating_sub(1);
        if let Some(ip) = self.ip
            && let Some(n) = c.per_ip.get_mut(&ip)
        {
            *n -= 1;
            if *n == 0 {
                c.per_ip.remove(&ip);
            }
        }
    }
}

impl Admission {
    pub fn new(per_ip: usize, total: usize) -> Self {
        Self { per_ip, total, counts: Arc::default() }
    }

    /// `ip` is `None` when the peer address is unknown (a router served by
    /// other code): then only the total cap applies, rather than lumping
    /// every such client under one address.
    pub fn admit(&self, ip: Option<IpAddr>) -> Result<Ticket, Refused> {
        let mut c = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if c.total >= self.total {
            return Err(Refused::Total);
        }
        if let Some(ip) = ip {
            let n = c.per_ip.entry(ip).or_default();
            if *n >= self.per_ip {
                return Err(Refused::PerIp);
            }
            *n += 1;
        }
        c.total += 1;
        Ok(Ticket { ip, counts: self.counts.clone() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_per_ip_and_total_and_frees_on_drop() {
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        let b = Some(IpAddr::from([10, 0, 0, 2]));
        let adm = Admission::new(2, 3);
        let t1 = adm.admit(a).unwrap();
        let _t2 = adm.admit(a).unwrap();
        assert_eq!(adm.admit(a).unwrap_err(), Refused::PerIp);
        let _t3 = adm.admit(b).unwrap();
        assert_eq!(adm.admit(b).unwrap_err(), Refused::Total);
        drop(t1);
        assert!(adm.admit(a).is_ok());
    }

    #[test]
    fn without_a_peer_address_only_the_total_cap_applies() {
        let adm = Admission::new(1, 3);
        let held: Vec<_> = (0..3).map(|_| adm.admit(None).expect("not lumped under one address")).collect();
        assert_eq!(adm.admit(None).unwrap_err(), Refused::Total);
        drop(held);
        assert!(adm.admit(None).is_ok());
    }
}
