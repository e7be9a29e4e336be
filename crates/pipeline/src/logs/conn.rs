//! `conn.jsonl`: one record per connection, Zeek's conn.log fields.

use std::net::IpAddr;

use mamori_flow::ConnRecord;
use serde::Serialize;

use super::{mac_string, zeek_time};

/// A `conn.jsonl` line.
#[derive(Debug, Serialize)]
pub struct ConnLog<'a> {
    ts: f64,
    uid: String,
    #[serde(rename = "id.orig_h")]
    orig_h: Option<IpAddr>,
    #[serde(rename = "id.orig_p")]
    orig_p: u16,
    #[serde(rename = "id.resp_h")]
    resp_h: Option<IpAddr>,
    #[serde(rename = "id.resp_p")]
    resp_p: u16,
    proto: String,
    service: Option<String>,
    duration: f64,
    orig_bytes: u64,
    resp_bytes: u64,
    conn_state: &'a str,
    missed_bytes: u64,
    history: &'a str,
    orig_pkts: u64,
    orig_ip_bytes: u64,
    resp_pkts: u64,
    resp_ip_bytes: u64,
    orig_l2_addr: Option<String>,
    resp_l2_addr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vlan: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    inner_vlan: Option<u16>,
}

impl<'a> From<&'a ConnRecord> for ConnLog<'a> {
    fn from(c: &'a ConnRecord) -> Self {
        let service = (!c.services.is_empty()).then(|| {
            let mut s = String::new();
            c.services.write_joined(&mut s);
            s
        });
        // Durations are written at microsecond precision, like `ts`.
        let duration_micros = c.last_ts.nanos_since(c.ts) / 1000;
        ConnLog {
            ts: zeek_time(c.ts),
            uid: c.uid.to_string(),
            orig_h: c.orig.addr,
            orig_p: c.orig.port,
            resp_h: c.resp.addr,
            resp_p: c.resp.port,
            proto: c.proto_name().to_string(),
            service,
            duration: duration_micros as f64 / 1e6,
            orig_bytes: c.orig.bytes,
            resp_bytes: c.resp.bytes,
            conn_state: c.conn_state,
            missed_bytes: c.missed_bytes,
            history: c.history.as_str(),
            orig_pkts: c.orig.pkts,
            orig_ip_bytes: c.orig.ip_bytes,
            resp_pkts: c.resp.pkts,
            resp_ip_bytes: c.resp.ip_bytes,
            orig_l2_addr: mac_string(c.orig.l2),
            resp_l2_addr: mac_string(c.resp.l2),
            vlan: c.vlan,
            inner_vlan: c.inner_vlan,
        }
    }
}
