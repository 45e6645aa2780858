//! What a connection is made of besides its subscribers and socket: its
//! settings (kept by a cross-tab node to build the socket when its tab comes
//! to lead), the cross-tab fields it stamps into its metrics, and the tap
//! through which a leader's connection tells the other tabs what it does.

use super::transport::CarrierSettings;
use crate::codec::Frame;
use crate::config::DriverConfig;
use crate::metrics::Role;
use crate::options::{PingFn, PongFn, UseWebSocketOptions};
use crate::{ConnState, Metrics};

/// What a connection needs besides its subscribers; kept by a cross-tab node
/// to build the socket when its tab becomes the leader.
pub(crate) struct ConnSettings<Tx, Rx, C> {
    pub driver: DriverConfig,
    pub carrier: CarrierSettings,
    pub codec: C,
    pub ping: Option<PingFn<Tx>>,
    pub pong: Option<PongFn<Rx>>,
}

impl<Tx, Rx, C: Clone> Clone for ConnSettings<Tx, Rx, C> {
    fn clone(&self) -> Self {
        Self {
            driver: self.driver.clone(),
            carrier: self.carrier.clone(),
            codec: self.codec.clone(),
            ping: self.ping.clone(),
            pong: self.pong.clone(),
        }
    }
}

impl<Tx, Rx, C: Clone> ConnSettings<Tx, Rx, C> {
    pub fn from_options(opts: &UseWebSocketOptions<Tx, Rx, C>) -> Self {
        Self {
            driver: opts.driver_config(),
            carrier: CarrierSettings {
                protocols: opts.protocols.clone(),
                #[cfg(feature = "fallback")]
                fallback: opts.fallback.clone(),
            },
            codec: opts.codec.clone(),
            ping: opts.ping.clone(),
            pong: opts.pong.clone(),
        }
    }
}

/// The cross-tab fields of the metrics, which the driver does not know.
#[derive(Clone, Debug, Default)]
pub(crate) struct Stamp {
    pub role: Role,
    pub fallback: Option<String>,
    pub leader_changes: u32,
    pub epoch: u64,
}

impl Stamp {
    pub fn apply(&self, m: &mut Metrics) {
        m.role = self.role;
        m.tabs_fallback = self.fallback.clone();
        m.leader_changes = self.leader_changes;
        m.tabs_epoch = self.epoch;
    }
}

/// Sees what a cross-tab leader's connection does, to tell the other tabs.
pub(crate) trait Tap {
    /// The handshake frames went out: the socket is open for followers.
    fn opened(&self);
    /// A frame arrived, before it is decoded.
    fn frame(&self, frame: &Frame);
    /// State or metrics may have changed.
    fn published(&self, state: &ConnState, metrics: &Metrics);
    /// The socket ended.
    fn closed(&self, code: u16, reason: &str, was_clean: bool);
}
