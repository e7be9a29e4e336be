//! `ot.jsonl`: one record per OT request, its response's status merged in.

use std::net::IpAddr;

use serde::Serialize;

use super::mac_string;
use crate::event::OtEvent;

/// An `ot.jsonl` line.
#[derive(Debug, Serialize)]
pub struct OtLog<'a> {
    ts: f64,
    uid: String,
    protocol: &'static str,
    #[serde(rename = "id.orig_h", skip_serializing_if = "Option::is_none")]
    orig_h: Option<IpAddr>,
    #[serde(rename = "id.orig_p", skip_serializing_if = "Option::is_none")]
    orig_p: Option<u16>,
    #[serde(rename = "id.resp_h", skip_serializing_if = "Option::is_none")]
    resp_h: Option<IpAddr>,
    #[serde(rename = "id.resp_p", skip_serializing_if = "Option::is_none")]
    resp_p: Option<u16>,
    orig_l2_addr: Option<String>,
    resp_l2_addr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pdu: Option<&'static str>,
    function: u32,
    function_name: &'static str,
    category: &'static str,
    target: &'a str,
    status: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    flags: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ts_end: Option<f64>,
}

impl<'a> From<&'a OtEvent> for OtLog<'a> {
    fn from(e: &'a OtEvent) -> Self {
        let ts = mamori_wire::Timestamp(e.op.ts);
        OtLog {
            ts: super::zeek_time(ts),
            uid: e.uid.to_string(),
            protocol: e.op.protocol,
            orig_h: e.orig.map(|o| o.0),
            orig_p: e.orig.map(|o| o.1),
            resp_h: e.resp.map(|r| r.0),
            resp_p: e.resp.map(|r| r.1),
            orig_l2_addr: mac_string(e.orig_l2),
            resp_l2_addr: mac_string(e.resp_l2),
            pdu: e.op.pdu,
            function: e.op.function.code,
            function_name: e.op.function.name,
            category: e.op.function.category.as_str(),
            target: &e.op.target,
            status: e.op.status.to_string(),
            flags: e.op.flags.names().collect(),
            count: e.aggregate.map(|a| a.count),
            ts_end: e
                .aggregate
                .map(|a| super::zeek_time(mamori_wire::Timestamp(a.ts_end))),
        }
    }
}
