//! `http.jsonl`: one record per HTTP transaction, with Zeek `http.log`'s field names.

use std::net::IpAddr;

use mamori_flow::Direction;
use serde::Serialize;

use super::zeek_time;
use crate::event::HttpEvent;

/// An `http.jsonl` line.
#[derive(Debug, Serialize)]
pub struct HttpLog<'a> {
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
    trans_depth: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    host: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_agent: Option<&'a str>,
    request_body_len: u64,
    response_body_len: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_code: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_msg: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    info_code: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    server: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    orig_mime_types: Option<[&'a str; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resp_mime_types: Option<[&'a str; 1]>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    tunnel: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    flags: Vec<&'static str>,
}

impl<'a> From<&'a HttpEvent> for HttpLog<'a> {
    fn from(e: &'a HttpEvent) -> Self {
        let r = &e.record;
        // The client is the log's originator, whichever side opened the flow.
        let (orig, resp) = match r.dir {
            Some(Direction::Resp) => (e.ends.resp, e.ends.orig),
            _ => (e.ends.orig, e.ends.resp),
        };
        HttpLog {
            ts: zeek_time(mamori_wire::Timestamp(r.ts)),
            uid: e.ends.uid.to_string(),
            orig_h: orig.0,
            orig_p: orig.1,
            resp_h: resp.0,
            resp_p: resp.1,
            trans_depth: r.trans_depth,
            method: r.method.as_deref(),
            host: r.host.as_deref(),
            uri: r.uri.as_deref(),
            version: r.version.as_deref(),
            user_agent: r.user_agent.as_deref(),
            request_body_len: r.request_body_len,
            response_body_len: r.response_body_len,
            status_code: r.status_code,
            status_msg: r.status_msg.as_deref(),
            info_code: r.info_code,
            server: r.server.as_deref(),
            location: r.location.as_deref(),
            orig_mime_types: r.request_content_type.as_deref().map(|t| [t]),
            resp_mime_types: r.response_content_type.as_deref().map(|t| [t]),
            tunnel: r.tunnel,
            flags: r.flags.names().collect(),
        }
    }
}
