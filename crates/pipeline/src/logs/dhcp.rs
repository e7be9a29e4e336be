//! `dhcp.jsonl`: one record per DHCP exchange, with Zeek `dhcp.log`'s field names
//! (`client_software` is the vendor class, option 60) plus what an asset ledger
//! needs (`param_list`, `client_id`, `os_hint`).

use std::net::Ipv4Addr;

use serde::Serialize;

use super::{mac_string, zeek_time};
use crate::event::DhcpEvent;

/// A `dhcp.jsonl` line.
#[derive(Debug, Serialize)]
pub struct DhcpLog<'a> {
    ts: f64,
    uids: [String; 1],
    trans_id: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    mac: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_addr: Option<Ipv4Addr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    server_addr: Option<Ipv4Addr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    relay_addr: Option<Ipv4Addr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    host_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_fqdn: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    domain: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    requested_addr: Option<Ipv4Addr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    assigned_addr: Option<Ipv4Addr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lease_time: Option<u32>,
    msg_types: Vec<&'static str>,
    duration: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_software: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    param_list: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    os_hint: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    flags: Vec<&'static str>,
}

impl<'a> From<&'a DhcpEvent> for DhcpLog<'a> {
    fn from(e: &'a DhcpEvent) -> Self {
        let r = &e.record;
        DhcpLog {
            ts: zeek_time(mamori_wire::Timestamp(r.ts)),
            uids: [e.ends.uid.to_string()],
            trans_id: r.xid,
            mac: mac_string(r.mac),
            client_addr: r.client_addr,
            server_addr: r.server_addr,
            relay_addr: r.relay_addr,
            host_name: r.host_name.as_deref(),
            client_fqdn: r.client_fqdn.as_deref(),
            domain: r.domain.as_deref(),
            requested_addr: r.requested_addr,
            assigned_addr: r.assigned_addr,
            lease_time: r.lease_time,
            msg_types: r.msg_type_names().collect(),
            duration: r.duration as f64 / 1e9,
            client_software: r.vendor_class.as_deref(),
            param_list: r.param_list.as_deref(),
            client_id: r.client_id.as_deref(),
            os_hint: r.os_hint,
            flags: r.flags.names().collect(),
        }
    }
}
