//! Builders of pipeline events for the ledger's tests: what the packet path and the
//! dissectors would report for the traffic described.

#![allow(dead_code, unreachable_pub, clippy::too_many_arguments)]

use std::net::{IpAddr, Ipv4Addr};

use mamori_dissect::contract::Flags;
use mamori_dissect::it::dhcp::DhcpRecord;
use mamori_dissect::record::{Category, Function, IdentityKind, OtOperation, Status};
use mamori_flow::record::{EndReason, Side};
use mamori_flow::tcp::History;
use mamori_flow::{ConnRecord, ServiceSet, Uid};
use mamori_pipeline::event::{
    ArpEvent, DhcpEvent, Event, FlowEnds, IdentityEvent, OtEvent, TcpSynEvent,
};
use mamori_wire::Timestamp;
use mamori_wire::decode::{ArpPacket, MacAddr};

/// 2024-01-01T00:00:00Z in seconds.
pub const T2024: i64 = 1_704_067_200;

pub fn ns(secs: i64) -> i64 {
    secs * 1_000_000_000
}

pub fn mac(s: &str) -> MacAddr {
    let mut o = [0u8; 6];
    for (slot, part) in o.iter_mut().zip(s.split(':')) {
        *slot = u8::from_str_radix(part, 16).expect("hex");
    }
    MacAddr(o)
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().expect("ip")
}

/// One end of a connection: address, port, MAC, packets sent.
#[derive(Clone, Copy)]
pub struct End<'a> {
    pub ip: &'a str,
    pub port: u16,
    pub mac: Option<&'a str>,
    pub pkts: u64,
}

pub fn end<'a>(ip: &'a str, port: u16, mac: &'a str) -> End<'a> {
    End {
        ip,
        port,
        mac: Some(mac),
        pkts: 5,
    }
}

fn side(e: End<'_>) -> Side {
    Side {
        addr: Some(ip(e.ip)),
        port: e.port,
        pkts: e.pkts,
        ip_bytes: e.pkts * 100,
        bytes: e.pkts * 60,
        l2: e.mac.map(mac),
    }
}

/// A finished TCP (proto 6) or UDP (17) connection.
pub fn conn(
    secs: i64,
    uid: u128,
    proto: u8,
    orig: End<'_>,
    resp: End<'_>,
    services: &[&str],
) -> Event {
    let mut set = ServiceSet::default();
    for s in services {
        assert!(set.insert_name(s), "{s}");
    }
    Event::Conn(ConnRecord {
        ts: Timestamp::from_secs(secs),
        last_ts: Timestamp::from_secs(secs + 10),
        uid: Uid(uid),
        proto,
        ipv6: false,
        orig: side(orig),
        resp: side(resp),
        services: set,
        conn_state: "SF",
        history: History::default(),
        missed_bytes: 0,
        vlan: None,
        inner_vlan: None,
        end_reason: EndReason::Closed,
    })
}

/// An ARP request or reply from `sender`.
pub fn arp(secs: i64, sender_mac: &str, sender_ip: &str, target_ip: &str) -> Event {
    let IpAddr::V4(s) = ip(sender_ip) else {
        panic!("v4")
    };
    let IpAddr::V4(t) = ip(target_ip) else {
        panic!("v4")
    };
    Event::Arp(ArpEvent {
        ts: Timestamp::from_secs(secs),
        packet_no: secs as u64,
        src_mac: Some(mac(sender_mac)),
        dst_mac: Some(MacAddr::BROADCAST),
        vlan: None,
        arp: ArpPacket {
            operation: 1,
            sender_mac: mac(sender_mac),
            sender_ip: s,
            target_mac: MacAddr::default(),
            target_ip: t,
        },
    })
}

/// An identity fact about (ip, mac).
pub fn fact(
    secs: i64,
    ipa: Option<&str>,
    maca: Option<&str>,
    kind: IdentityKind,
    value: &str,
    protocol: &'static str,
) -> Event {
    Event::Identity(Box::new(IdentityEvent {
        ts: ns(secs),
        uid: Some(Uid(7)),
        seq: 0,
        ip: ipa.map(ip),
        mac: maca.map(mac),
        kind,
        value: value.to_string(),
        protocol,
    }))
}

/// An answered OT request.
pub fn ot(
    secs: i64,
    client: End<'_>,
    server: End<'_>,
    protocol: &'static str,
    category: Category,
) -> Event {
    Event::Ot(Box::new(OtEvent {
        uid: Uid(99),
        seq: 0,
        orig: Some((ip(client.ip), client.port)),
        resp: Some((ip(server.ip), server.port)),
        orig_l2: client.mac.map(mac),
        resp_l2: server.mac.map(mac),
        aggregate: None,
        op: OtOperation {
            protocol,
            pdu: None,
            function: Function {
                code: 1,
                name: "test",
                category,
            },
            target: String::new(),
            status: Status::Ok,
            flags: Flags::default(),
            ts: ns(secs),
        },
    }))
}

/// A DHCP exchange that leased `addr` to `client_mac`.
pub fn dhcp(
    secs: i64,
    client_mac: &str,
    addr: &str,
    host: &str,
    vendor_class: &str,
    prl: &str,
) -> Event {
    let IpAddr::V4(a) = ip(addr) else {
        panic!("v4")
    };
    Event::Dhcp(Box::new(DhcpEvent {
        ends: FlowEnds {
            uid: Uid(42),
            orig: (IpAddr::V4(Ipv4Addr::UNSPECIFIED), 68),
            resp: (IpAddr::V4(Ipv4Addr::BROADCAST), 67),
            orig_l2: Some(mac(client_mac)),
            resp_l2: None,
        },
        record: DhcpRecord {
            ts: ns(secs),
            xid: secs as u32,
            mac: Some(mac(client_mac)),
            assigned_addr: Some(a),
            host_name: Some(host.to_string()),
            vendor_class: Some(vendor_class.to_string()),
            param_list: Some(prl.to_string()),
            msg_types: vec![1, 2, 3, 5],
            ..DhcpRecord::default()
        },
    }))
}

/// A SYN (or SYN+ACK) with the given IP/TCP fields.
pub fn syn(
    secs: i64,
    from: &str,
    from_mac: &str,
    ttl: u8,
    df: bool,
    window: u16,
    opts: &[u8],
    syn_ack: bool,
) -> Event {
    let mut options = [0u8; 40];
    options[..opts.len()].copy_from_slice(opts);
    Event::TcpSyn(Box::new(TcpSynEvent {
        ts: ns(secs),
        uid: Uid(5),
        ip: ip(from),
        mac: Some(mac(from_mac)),
        syn_ack,
        ttl,
        df,
        ip_id: 0x4d2,
        ip_opt_len: 0,
        ecn: 0,
        flow_label: 0,
        window,
        flags: if syn_ack { 0x12 } else { 0x02 },
        seq: 1000,
        ack: u32::from(syn_ack),
        urgent: 0,
        options,
        options_len: opts.len() as u8,
        payload_len: 0,
    }))
}
