//! `dns.jsonl`: one record per DNS, mDNS or LLMNR exchange, with Zeek `dns.log`'s
//! field names (`AA`, `TC`, `RD`, `RA` upper-case as Zeek writes them).

use std::net::IpAddr;

use mamori_flow::Direction;
use serde::Serialize;

use super::zeek_time;
use crate::event::DnsEvent;

/// A `dns.jsonl` line.
#[derive(Debug, Serialize)]
pub struct DnsLog<'a> {
    ts: f64,
    uid: String,
    #[serde(rename = "id.orig_h")]
    orig_h: IpAddr,
    #[serde(rename = "id.orig_p")]
    orig_p: u16,
    #[serde(rename = "id.resp_h")]
    resp_h: IpAddr,
    #[serde(rename = "id.resp_p")]
    resp_p: u16,
    proto: &'static str,
    /// `dns`, `mdns` or `llmnr`.
    protocol: &'static str,
    trans_id: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    rtt: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    query: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    qclass: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    qclass_name: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    qtype: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    qtype_name: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rcode: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rcode_name: Option<&'static str>,
    #[serde(rename = "AA")]
    aa: bool,
    #[serde(rename = "TC")]
    tc: bool,
    #[serde(rename = "RD")]
    rd: bool,
    #[serde(rename = "RA")]
    ra: bool,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    answers: &'a [String],
    #[serde(rename = "TTLs", skip_serializing_if = "<[u32]>::is_empty")]
    ttls: &'a [u32],
    rejected: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    flags: Vec<&'static str>,
}

impl<'a> From<&'a DnsEvent> for DnsLog<'a> {
    fn from(e: &'a DnsEvent) -> Self {
        let r = &e.record;
        // The asker is the originator of the log line, whichever side opened the flow.
        let (orig, resp) = match r.dir {
            Direction::Orig => (e.ends.orig, e.ends.resp),
            Direction::Resp => (e.ends.resp, e.ends.orig),
        };
        DnsLog {
            ts: zeek_time(mamori_wire::Timestamp(r.ts)),
            uid: e.ends.uid.to_string(),
            orig_h: orig.0,
            orig_p: orig.1,
            resp_h: resp.0,
            resp_p: resp.1,
            proto: e.proto,
            protocol: r.protocol,
            trans_id: r.trans_id,
            rtt: r.rtt.map(|n| n as f64 / 1e9),
            query: r.query.as_deref(),
            qclass: r.qclass,
            qclass_name: r.qclass_name,
            qtype: r.qtype,
            qtype_name: r.qtype_name,
            rcode: r.rcode,
            rcode_name: r.rcode_name,
            aa: r.aa,
            tc: r.tc,
            rd: r.rd,
            ra: r.ra,
            answers: &r.answers,
            ttls: &r.ttls,
            rejected: r.rejected,
            flags: r.flags.names().collect(),
        }
    }
}
