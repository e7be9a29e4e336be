//! `dhcpv6.jsonl`: one record per DHCPv6 transaction (a client message, its
//! retransmissions and the server's answers). Zeek has no DHCPv6 log; the names
//! follow `dhcp.jsonl` where the meaning is the same (`uids`, `trans_id`, `mac`,
//! `msg_types`, `duration`, `client_fqdn`, `client_software`, `flags`) and name the
//! DHCPv6 fields otherwise (`client_duid`, `server_duid`, `oro`, `assigned_addrs`).

use std::net::Ipv6Addr;

use serde::Serialize;

use mamori_dissect::it::dhcpv6::message_type_name;

use super::{mac_string, zeek_time};
use crate::event::Dhcpv6Event;

/// A `dhcpv6.jsonl` line.
#[derive(Debug, Serialize)]
pub struct Dhcpv6Log<'a> {
    ts: f64,
    uids: [String; 1],
    trans_id: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_duid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mac: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    server_duid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_fqdn: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_software: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    oro: Option<&'a str>,
    #[serde(skip_serializing_if = "<[Ipv6Addr]>::is_empty")]
    assigned_addrs: &'a [Ipv6Addr],
    msg_types: Vec<&'static str>,
    duration: f64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    flags: Vec<&'static str>,
}

impl<'a> From<&'a Dhcpv6Event> for Dhcpv6Log<'a> {
    fn from(e: &'a Dhcpv6Event) -> Self {
        let r = &e.record;
        Dhcpv6Log {
            ts: zeek_time(mamori_wire::Timestamp(r.ts)),
            uids: [e.ends.uid.to_string()],
            trans_id: r.transaction_id,
            client_duid: r.client_duid.as_deref(),
            mac: mac_string(r.client_mac),
            server_duid: r.server_duid.as_deref(),
            client_fqdn: r.fqdn.as_deref(),
            client_software: r.vendor_class.as_deref(),
            oro: r.oro.as_deref(),
            assigned_addrs: &r.assigned_addrs,
            msg_types: r.msg_types.iter().map(|&t| message_type_name(t)).collect(),
            duration: r.duration as f64 / 1e9,
            flags: r.flags.names().collect(),
        }
    }
}
