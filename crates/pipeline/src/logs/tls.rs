//! `tls.jsonl`: one record per TLS connection, with Zeek `ssl.log`'s field names
//! (`version` and `cipher` as names where known, the numbers beside them) plus JA3,
//! JA3S and JA4.

use std::net::IpAddr;

use mamori_flow::Direction;
use serde::Serialize;

use super::zeek_time;
use crate::event::TlsEvent;

/// A `tls.jsonl` line.
#[derive(Debug, Serialize)]
pub struct TlsLog<'a> {
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
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_num: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cipher_num: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    server_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_protocol: Option<&'a str>,
    resumed: bool,
    established: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    ja3: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ja3s: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ja4: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    issuer: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    not_valid_before: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    not_valid_after: Option<i64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    flags: Vec<&'static str>,
}

/// The name of a TLS protocol version number.
fn version_name(v: u16) -> Option<&'static str> {
    Some(match v {
        0x0300 => "SSLv3",
        0x0301 => "TLSv10",
        0x0302 => "TLSv11",
        0x0303 => "TLSv12",
        0x0304 => "TLSv13",
        _ => return None,
    })
}

impl<'a> From<&'a TlsEvent> for TlsLog<'a> {
    fn from(e: &'a TlsEvent) -> Self {
        let r = &e.record;
        let (orig, resp) = match r.client_dir {
            Some(Direction::Resp) => (e.ends.resp, e.ends.orig),
            _ => (e.ends.orig, e.ends.resp),
        };
        TlsLog {
            ts: zeek_time(mamori_wire::Timestamp(r.ts)),
            uid: e.ends.uid.to_string(),
            orig_h: orig.0,
            orig_p: orig.1,
            resp_h: resp.0,
            resp_p: resp.1,
            version: r.version.and_then(version_name),
            version_num: r.version,
            cipher_num: r.cipher,
            server_name: r.server_name.as_deref(),
            next_protocol: r.next_protocol.as_deref(),
            resumed: r.resumed,
            established: r.established,
            ja3: r.ja3.as_deref(),
            ja3s: r.ja3s.as_deref(),
            ja4: r.ja4.as_deref(),
            subject: r.subject.as_deref(),
            issuer: r.issuer.as_deref(),
            not_valid_before: r.not_valid_before,
            not_valid_after: r.not_valid_after,
            flags: r.flags.names().collect(),
        }
    }
}
