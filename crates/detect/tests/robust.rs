//! No input panics: arbitrary configuration text, domain names, networks, and
//! arbitrary streams of ARP, layer-2 and DNS-free events through a detector.

use std::net::Ipv4Addr;

use mamori_detect::net::Cidr;
use mamori_detect::{Baseline, DetectConfig, Detector, Mode, NoAssets};
use mamori_pipeline::event::{ArpEvent, Event, L2SecondEvent};
use mamori_wire::Timestamp;
use mamori_wire::decode::{ArpPacket, MacAddr};
use proptest::prelude::*;

fn arp_event() -> impl Strategy<Value = Event> {
    (any::<i64>(), 0u16..4, 0u8..4, 0u8..8, 0u8..8, any::<bool>()).prop_map(
        |(ts, op, m, s, t, zero)| {
            let mac = MacAddr([0, 0x80, 0xf4, 0, 0, m]);
            let sender = if zero {
                Ipv4Addr::UNSPECIFIED
            } else {
                Ipv4Addr::new(10, 0, 0, s)
            };
            Event::Arp(ArpEvent {
                ts: Timestamp(ts),
                packet_no: 0,
                src_mac: Some(mac),
                dst_mac: None,
                vlan: None,
                arp: ArpPacket {
                    operation: op,
                    sender_mac: mac,
                    sender_ip: sender,
                    target_mac: MacAddr::default(),
                    target_ip: Ipv4Addr::new(10, 0, 0, t),
                },
            })
        },
    )
}

fn l2_event() -> impl Strategy<Value = Event> {
    (any::<i64>(), any::<u64>(), any::<u64>(), any::<u64>()).prop_map(|(second, b, m, d)| {
        Event::L2Second(L2SecondEvent {
            second,
            worker: 0,
            frames: b,
            broadcast: b,
            multicast: m,
            duplicates: d,
            top_broadcaster: None,
        })
    })
}

proptest! {
    #[test]
    fn config_text_never_panics(text in "\\PC{0,200}") {
        let _ = mamori_detect::config::parse(&text);
        let _ = mamori_detect::check_config(&format!("[detect]\n{text}"));
    }

    #[test]
    fn names_and_networks_never_panic(s in "\\PC{0,80}") {
        let _ = mamori_detect::dga::score(&s, 3.0, 10);
        let _ = s.parse::<Cidr>();
        let _ = s.parse::<mamori_detect::net::Selector>();
        let _ = Baseline::from_json(&s);
    }

    #[test]
    fn event_streams_never_panic(
        events in proptest::collection::vec(prop_oneof![arp_event(), l2_event()], 0..60),
        mode in 0u8..3,
    ) {
        let mode = [Mode::Learn, Mode::Detect, Mode::Auto][usize::from(mode)];
        let mut d = Detector::new(DetectConfig::default(), None, mode);
        for e in &events {
            d.observe(e, &NoAssets);
        }
        let alerts = d.finish(&NoAssets);
        for a in &alerts {
            prop_assert!(serde_json::from_str::<serde_json::Value>(&a.to_jsonl()).is_ok());
        }
        let b = d.baseline().clone();
        prop_assert_eq!(Baseline::from_json(&b.to_json()).unwrap(), b);
    }
}
