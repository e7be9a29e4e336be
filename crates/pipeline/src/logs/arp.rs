//! `arp.jsonl`: one record per ARP packet.

use std::net::Ipv4Addr;

use mamori_wire::decode::arp::{OP_REPLY, OP_REQUEST};
use serde::Serialize;

use super::{mac_string, zeek_time};
use crate::event::ArpEvent;

/// An `arp.jsonl` line.
#[derive(Debug, Serialize)]
pub struct ArpLog {
    ts: f64,
    /// `request`, `reply`, or the raw operation number.
    operation: String,
    src_mac: Option<String>,
    dst_mac: Option<String>,
    sender_mac: String,
    sender_ip: Ipv4Addr,
    target_mac: String,
    target_ip: Ipv4Addr,
    /// Sender IP equals target IP: an announcement of the sender's own address.
    gratuitous: bool,
    /// Sender IP is 0.0.0.0: an address-conflict probe (RFC 5227).
    probe: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    vlan: Option<u16>,
}

impl From<&ArpEvent> for ArpLog {
    fn from(e: &ArpEvent) -> Self {
        let operation = match e.arp.operation {
            OP_REQUEST => "request".to_string(),
            OP_REPLY => "reply".to_string(),
            other => other.to_string(),
        };
        ArpLog {
            ts: zeek_time(e.ts),
            operation,
            src_mac: mac_string(e.src_mac),
            dst_mac: mac_string(e.dst_mac),
            sender_mac: e.arp.sender_mac.to_string(),
            sender_ip: e.arp.sender_ip,
            target_mac: e.arp.target_mac.to_string(),
            target_ip: e.arp.target_ip,
            gratuitous: e.arp.is_gratuitous(),
            probe: e.arp.is_probe(),
            vlan: e.vlan,
        }
    }
}
