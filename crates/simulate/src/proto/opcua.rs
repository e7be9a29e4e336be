//! OPC UA binary (UA TCP + UA Secure Conversation with SecurityPolicy None), TCP 4840.
//!
//! Hello/Acknowledge, OpenSecureChannel, CreateSession, ActivateSession, Read and the
//! closing messages. Everything is little-endian; strings are i32-length-prefixed.

use super::{Dialect, Op, patch_u32le, put_u16le, put_u32le};
use crate::net::{Ctx, MS, Tcp, US};
use crate::rng::Rng;
use mamori_wire::Timestamp;

const POLICY_NONE: &str = "http://opcfoundation.org/UA/SecurityPolicy#None";

/// Binary encoding ids of the service messages used.
const OPEN_REQ: u16 = 446;
const OPEN_RESP: u16 = 449;
const CLOSE_CHANNEL_REQ: u16 = 452;
const CREATE_SESSION_REQ: u16 = 461;
const CREATE_SESSION_RESP: u16 = 464;
const ACTIVATE_SESSION_REQ: u16 = 467;
const ACTIVATE_SESSION_RESP: u16 = 470;
const CLOSE_SESSION_REQ: u16 = 473;
const CLOSE_SESSION_RESP: u16 = 476;
const READ_REQ: u16 = 631;
const READ_RESP: u16 = 634;
const ANONYMOUS_TOKEN: u16 = 321;

fn string(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => {
            put_u32le(out, s.len() as u32);
            out.extend_from_slice(s.as_bytes());
        }
        None => put_u32le(out, u32::MAX),
    }
}

fn bytes(out: &mut Vec<u8>, b: Option<&[u8]>) {
    match b {
        Some(b) => {
            put_u32le(out, b.len() as u32);
            out.extend_from_slice(b);
        }
        None => put_u32le(out, u32::MAX),
    }
}

/// Four-byte numeric node id in namespace 0.
fn node(out: &mut Vec<u8>, id: u16) {
    out.extend_from_slice(&[0x01, 0x00]);
    put_u16le(out, id);
}

/// A session's authentication token: numeric node id in namespace 1.
fn token(out: &mut Vec<u8>, t: u32) {
    if t == 0 {
        out.extend_from_slice(&[0x00, 0x00]);
    } else {
        out.extend_from_slice(&[0x02, 0x01, 0x00]);
        put_u32le(out, t);
    }
}

/// OPC UA DateTime: 100 ns ticks since 1601-01-01.
fn datetime(out: &mut Vec<u8>, t: Timestamp) {
    let ticks = t.0 / 100 + 116_444_736_000_000_000;
    out.extend_from_slice(&ticks.to_le_bytes());
}

fn request_header(out: &mut Vec<u8>, auth: u32, t: Timestamp, handle: u32) {
    token(out, auth);
    datetime(out, t);
    put_u32le(out, handle);
    put_u32le(out, 0); // return diagnostics
    string(out, None); // audit entry id
    put_u32le(out, 10_000); // timeout hint
    out.extend_from_slice(&[0x00, 0x00, 0x00]); // additional header: null extension object
}

fn response_header(out: &mut Vec<u8>, t: Timestamp, handle: u32) {
    datetime(out, t);
    put_u32le(out, handle);
    put_u32le(out, 0); // service result Good
    out.push(0x00); // diagnostic info: nothing
    put_u32le(out, 0); // string table: empty
    out.extend_from_slice(&[0x00, 0x00, 0x00]);
}

fn begin(out: &mut Vec<u8>, kind: &[u8; 3]) -> usize {
    let s = out.len();
    out.extend_from_slice(kind);
    out.push(b'F');
    put_u32le(out, 0);
    s
}

fn end(out: &mut [u8], s: usize) {
    let n = (out.len() - s) as u32;
    patch_u32le(out, s + 4, n);
}

/// Hello.
pub(crate) fn hello(out: &mut Vec<u8>, endpoint: &str) {
    let s = begin(out, b"HEL");
    put_u32le(out, 0);
    put_u32le(out, 65_536);
    put_u32le(out, 65_536);
    put_u32le(out, 0);
    put_u32le(out, 0);
    string(out, Some(endpoint));
    end(out, s);
}

/// Acknowledge.
pub(crate) fn acknowledge(out: &mut Vec<u8>) {
    let s = begin(out, b"ACK");
    put_u32le(out, 0);
    put_u32le(out, 65_536);
    put_u32le(out, 65_536);
    put_u32le(out, 16_777_216);
    put_u32le(out, 5_000);
    end(out, s);
}

/// Security and sequence state of one secure channel.
#[derive(Debug, Clone, Copy)]
struct Channel {
    id: u32,
    token: u32,
    client_seq: u32,
    server_seq: u32,
    request_id: u32,
}

/// An OPC UA client session.
pub(crate) struct OpcUa {
    endpoint: String,
    ch: Channel,
    auth: u32,
    handle: u32,
    req: Vec<u8>,
    resp: Vec<u8>,
    value: f64,
}

impl OpcUa {
    pub(crate) fn new(rng: &mut Rng, server: &str) -> Self {
        OpcUa {
            endpoint: format!("opc.tcp://{server}:4840"),
            ch: Channel {
                id: 0,
                token: 0,
                client_seq: 1 + rng.below(50) as u32,
                server_seq: 1 + rng.below(50) as u32,
                request_id: 1,
            },
            auth: 0,
            handle: 1,
            req: Vec::with_capacity(256),
            resp: Vec::with_capacity(256),
            value: 70.0 + rng.f64() * 5.0,
        }
    }

    /// Starts a MSG (or CLO) chunk: header, channel id, token, sequence header.
    fn msg_begin(out: &mut Vec<u8>, kind: &[u8; 3], ch: &Channel, seq: u32) -> usize {
        let s = begin(out, kind);
        put_u32le(out, ch.id);
        put_u32le(out, ch.token);
        put_u32le(out, seq);
        put_u32le(out, ch.request_id);
        s
    }

    fn next(&mut self) -> (u32, u32) {
        self.ch.client_seq += 1;
        self.ch.server_seq += 1;
        self.ch.request_id += 1;
        self.handle += 1;
        (self.ch.client_seq, self.ch.server_seq)
    }

    fn go(
        &mut self,
        tcp: &mut Tcp,
        cx: &mut Ctx<'_, '_>,
        t: Timestamp,
        rng: &mut Rng,
    ) -> Timestamp {
        let think = rng.range(500 * US, 3 * MS);
        let ack = rng.range(100 * US, 5 * MS);
        tcp.exchange(cx, t, &self.req, &self.resp, think, ack)
    }
}

impl Dialect for OpcUa {
    fn port(&self) -> u16 {
        4840
    }

    fn setup(
        &mut self,
        tcp: &mut Tcp,
        cx: &mut Ctx<'_, '_>,
        t: Timestamp,
        rng: &mut Rng,
    ) -> Timestamp {
        self.req.clear();
        self.resp.clear();
        hello(&mut self.req, &self.endpoint);
        acknowledge(&mut self.resp);
        let t = self.go(tcp, cx, t, rng);

        // OpenSecureChannel.
        let (cseq, sseq) = self.next();
        let channel_id = 1 + rng.below(1000) as u32;
        let token_id = 1 + rng.below(1000) as u32;
        self.req.clear();
        self.resp.clear();
        let s = begin(&mut self.req, b"OPN");
        put_u32le(&mut self.req, 0);
        string(&mut self.req, Some(POLICY_NONE));
        bytes(&mut self.req, None);
        bytes(&mut self.req, None);
        put_u32le(&mut self.req, cseq);
        put_u32le(&mut self.req, self.ch.request_id);
        node(&mut self.req, OPEN_REQ);
        request_header(&mut self.req, 0, t, self.handle);
        put_u32le(&mut self.req, 0); // client protocol version
        put_u32le(&mut self.req, 0); // issue
        put_u32le(&mut self.req, 1); // security mode None
        bytes(&mut self.req, Some(&[]));
        put_u32le(&mut self.req, 3_600_000);
        end(&mut self.req, s);
        let s = begin(&mut self.resp, b"OPN");
        put_u32le(&mut self.resp, channel_id);
        string(&mut self.resp, Some(POLICY_NONE));
        bytes(&mut self.resp, None);
        bytes(&mut self.resp, None);
        put_u32le(&mut self.resp, sseq);
        put_u32le(&mut self.resp, self.ch.request_id);
        node(&mut self.resp, OPEN_RESP);
        response_header(&mut self.resp, t, self.handle);
        put_u32le(&mut self.resp, 0);
        put_u32le(&mut self.resp, channel_id);
        put_u32le(&mut self.resp, token_id);
        datetime(&mut self.resp, t);
        put_u32le(&mut self.resp, 3_600_000);
        bytes(&mut self.resp, Some(&[]));
        end(&mut self.resp, s);
        let t = self.go(tcp, cx, t, rng);
        self.ch.id = channel_id;
        self.ch.token = token_id;

        // CreateSession.
        let (cseq, sseq) = self.next();
        let ch = self.ch;
        let auth = rng.u32() | 1;
        let mut nonce = [0u8; 32];
        rng.fill(&mut nonce);
        self.req.clear();
        self.resp.clear();
        let s = Self::msg_begin(&mut self.req, b"MSG", &ch, cseq);
        node(&mut self.req, CREATE_SESSION_REQ);
        request_header(&mut self.req, 0, t, self.handle);
        string(&mut self.req, Some("urn:hist01:Historian:OpcUaCollector"));
        string(&mut self.req, Some("urn:plant:historian"));
        self.req.push(0x02); // localized text: text only
        string(&mut self.req, Some("Historian OPC UA collector"));
        put_u32le(&mut self.req, 1); // application type: client
        string(&mut self.req, None);
        string(&mut self.req, None);
        put_u32le(&mut self.req, u32::MAX); // discovery URLs: null
        string(&mut self.req, None); // server URI
        let endpoint = self.endpoint.clone();
        string(&mut self.req, Some(&endpoint));
        string(&mut self.req, Some("hist01-collector"));
        bytes(&mut self.req, Some(&nonce));
        bytes(&mut self.req, None);
        self.req.extend_from_slice(&1_200_000f64.to_le_bytes());
        put_u32le(&mut self.req, 16_777_216);
        end(&mut self.req, s);
        let s = Self::msg_begin(&mut self.resp, b"MSG", &ch, sseq);
        node(&mut self.resp, CREATE_SESSION_RESP);
        response_header(&mut self.resp, t, self.handle);
        token(&mut self.resp, auth ^ 0x5a5a); // session id
        token(&mut self.resp, auth);
        self.resp.extend_from_slice(&1_200_000f64.to_le_bytes());
        rng.fill(&mut nonce);
        bytes(&mut self.resp, Some(&nonce));
        bytes(&mut self.resp, None); // server certificate
        put_u32le(&mut self.resp, 0); // endpoints
        put_u32le(&mut self.resp, 0); // software certificates
        string(&mut self.resp, None); // signature algorithm
        bytes(&mut self.resp, None); // signature
        put_u32le(&mut self.resp, 16_777_216);
        end(&mut self.resp, s);
        let t = self.go(tcp, cx, t, rng);
        self.auth = auth;

        // ActivateSession (anonymous).
        let (cseq, sseq) = self.next();
        let ch = self.ch;
        self.req.clear();
        self.resp.clear();
        let s = Self::msg_begin(&mut self.req, b"MSG", &ch, cseq);
        node(&mut self.req, ACTIVATE_SESSION_REQ);
        request_header(&mut self.req, auth, t, self.handle);
        string(&mut self.req, None);
        bytes(&mut self.req, None);
        put_u32le(&mut self.req, 0); // software certificates
        put_u32le(&mut self.req, 1); // locale ids
        string(&mut self.req, Some("en-US"));
        node(&mut self.req, ANONYMOUS_TOKEN);
        self.req.push(0x01); // binary body
        put_u32le(&mut self.req, 4 + 9);
        string(&mut self.req, Some("anonymous"));
        string(&mut self.req, None);
        bytes(&mut self.req, None);
        end(&mut self.req, s);
        let s = Self::msg_begin(&mut self.resp, b"MSG", &ch, sseq);
        node(&mut self.resp, ACTIVATE_SESSION_RESP);
        response_header(&mut self.resp, t, self.handle);
        rng.fill(&mut nonce);
        bytes(&mut self.resp, Some(&nonce));
        put_u32le(&mut self.resp, 0);
        put_u32le(&mut self.resp, 0);
        end(&mut self.resp, s);
        self.go(tcp, cx, t, rng)
    }

    fn op(
        &mut self,
        _op: Op,
        tcp: &mut Tcp,
        cx: &mut Ctx<'_, '_>,
        t: Timestamp,
        rng: &mut Rng,
    ) -> Timestamp {
        const TAGS: [&str; 4] = [
            "Line1.Oven.Temperature",
            "Line1.Conveyor.Speed",
            "Utilities.Boiler.Pressure",
            "Utilities.Water.Flow",
        ];
        let (cseq, sseq) = self.next();
        let ch = self.ch;
        let auth = self.auth;
        self.req.clear();
        self.resp.clear();
        let s = Self::msg_begin(&mut self.req, b"MSG", &ch, cseq);
        node(&mut self.req, READ_REQ);
        request_header(&mut self.req, auth, t, self.handle);
        self.req.extend_from_slice(&0f64.to_le_bytes()); // max age
        put_u32le(&mut self.req, 2); // timestamps: both
        put_u32le(&mut self.req, TAGS.len() as u32);
        for tag in TAGS {
            self.req.push(0x03); // string node id
            put_u16le(&mut self.req, 2);
            string(&mut self.req, Some(tag));
            put_u32le(&mut self.req, 13); // Value attribute
            string(&mut self.req, None);
            put_u16le(&mut self.req, 0);
            string(&mut self.req, None);
        }
        end(&mut self.req, s);
        let s = Self::msg_begin(&mut self.resp, b"MSG", &ch, sseq);
        node(&mut self.resp, READ_RESP);
        response_header(&mut self.resp, t, self.handle);
        put_u32le(&mut self.resp, TAGS.len() as u32);
        for i in 0..TAGS.len() {
            self.value += (rng.f64() - 0.5) * 0.2;
            self.resp.push(0x0d); // value, source and server timestamps
            self.resp.push(11); // Double
            let v = self.value * (1.0 + i as f64 * 0.3);
            self.resp.extend_from_slice(&v.to_le_bytes());
            datetime(&mut self.resp, t.plus_nanos(-(rng.range(0, 900) * MS)));
            datetime(&mut self.resp, t);
        }
        put_u32le(&mut self.resp, 0); // diagnostic infos
        end(&mut self.resp, s);
        self.go(tcp, cx, t, rng)
    }

    fn teardown(
        &mut self,
        tcp: &mut Tcp,
        cx: &mut Ctx<'_, '_>,
        t: Timestamp,
        rng: &mut Rng,
    ) -> Timestamp {
        let (cseq, sseq) = self.next();
        let ch = self.ch;
        let auth = self.auth;
        self.req.clear();
        self.resp.clear();
        let s = Self::msg_begin(&mut self.req, b"MSG", &ch, cseq);
        node(&mut self.req, CLOSE_SESSION_REQ);
        request_header(&mut self.req, auth, t, self.handle);
        self.req.push(1); // delete subscriptions
        end(&mut self.req, s);
        let s = Self::msg_begin(&mut self.resp, b"MSG", &ch, sseq);
        node(&mut self.resp, CLOSE_SESSION_RESP);
        response_header(&mut self.resp, t, self.handle);
        end(&mut self.resp, s);
        let t = self.go(tcp, cx, t, rng);
        let (cseq, _) = self.next();
        let ch = self.ch;
        self.req.clear();
        let s = Self::msg_begin(&mut self.req, b"CLO", &ch, cseq);
        node(&mut self.req, CLOSE_CHANNEL_REQ);
        request_header(&mut self.req, auth, t, self.handle);
        end(&mut self.req, s);
        tcp.send(cx, t, true, &self.req)
    }
}
