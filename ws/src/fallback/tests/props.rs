//! Any sequence of events keeps the selector's rules.

use super::*;
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Ev {
    Begin,
    Opened(bool),
    Frame,
    Failed,
    Lost,
    Probe,
    ProbeFailed,
    ProbeOk,
}

fn ev() -> impl Strategy<Value = Ev> {
    prop_oneof![
        Just(Ev::Begin),
        any::<bool>().prop_map(Ev::Opened),
        Just(Ev::Frame),
        Just(Ev::Failed),
        Just(Ev::Lost),
        Just(Ev::Probe),
        Just(Ev::ProbeFailed),
        Just(Ev::ProbeOk),
    ]
}

proptest! {
    /// Whatever happens: failures only ever move forward in the order (round
    /// to WebSocket once, after an attempt begun on a fallback), a
    /// working transport is never abandoned by `failed`, probes are always
    /// WebSocket within the bounds, and with fallback off it is always
    /// WebSocket.
    #[test]
    fn any_sequence_keeps_the_rules(evs in proptest::collection::vec(ev(), 0..60), enabled: bool, seed: u64) {
        let cfg = FallbackConfig { enabled, probe_first_ms: 1_000.0, probe_max_ms: 8_000.0, ..FallbackConfig::default() };
        let mut s = Selector::new(cfg, Some(Sse), Box::new(SplitMix64(seed)));
        let rank = |t: Transport| t as u8;
        for e in evs {
            let before = s.transport();
            match e {
                Ev::Begin => { s.begin(); }
                Ev::Opened(spoke) => { s.opened(spoke); }
                Ev::Frame => { s.first_frame(); }
                Ev::Failed => {
                    let was_verified = s.verified();
                    match s.failed() {
                        AfterFailure::Try(a) => {
                            prop_assert!(!was_verified);
                            // Forward in the order, or round to WebSocket
                            // from the last when the attempt began on a fallback.
                            let wrapped = before == LongPoll && a.transport == WebSocket;
                            prop_assert!(wrapped || rank(a.transport) == rank(before) + 1);
                        }
                        AfterFailure::Lost => prop_assert_eq!(s.transport(), before),
                    }
                }
                Ev::Lost => s.lost(),
                Ev::Probe => {
                    if let Some(d) = s.next_probe_ms() {
                        prop_assert!((500.0..=8_000.0).contains(&d), "{}", d);
                    }
                    if let Some(a) = s.probe() {
                        prop_assert_eq!(a.transport, WebSocket);
                        prop_assert!(before != WebSocket && s.verified());
                    }
                }
                Ev::ProbeFailed => {
                    s.probe_failed();
                }
                Ev::ProbeOk => {
                    if s.probing() {
                        s.probe_succeeded();
                        prop_assert_eq!(s.transport(), WebSocket);
                    }
                }
            }
            if !enabled {
                prop_assert_eq!(s.transport(), WebSocket);
            }
        }
    }
}
