//! EtherNet/IP encapsulation (TCP/UDP 44818) carrying CIP, and class-1 implicit
//! I/O (UDP 2222). All encapsulation fields are little-endian.

use std::net::Ipv4Addr;

use super::{Dialect, Op, patch_u16le, put_u16, put_u16le, put_u32le};
use crate::net::{Ctx, MS, Tcp, US};
use crate::rng::Rng;
use mamori_wire::Timestamp;

/// Encapsulation commands.
pub(crate) const LIST_IDENTITY: u16 = 0x0063;
const REGISTER_SESSION: u16 = 0x0065;
const UNREGISTER_SESSION: u16 = 0x0066;
const SEND_RR_DATA: u16 = 0x006f;

/// Appends the 24-byte encapsulation header; the length is patched by [`end`].
fn begin(out: &mut Vec<u8>, command: u16, session: u32, context: u64) -> usize {
    let s = out.len();
    put_u16le(out, command);
    put_u16le(out, 0);
    put_u32le(out, session);
    put_u32le(out, 0); // status
    out.extend_from_slice(&context.to_le_bytes());
    put_u32le(out, 0); // options
    s
}

fn end(out: &mut [u8], s: usize) {
    let len = (out.len() - s - 24) as u16;
    patch_u16le(out, s + 2, len);
}

/// RegisterSession request or reply.
pub(crate) fn register_session(out: &mut Vec<u8>, session: u32, context: u64) {
    let s = begin(out, REGISTER_SESSION, session, context);
    put_u16le(out, 1); // protocol version
    put_u16le(out, 0); // options
    end(out, s);
}

/// UnRegisterSession (no reply).
pub(crate) fn unregister_session(out: &mut Vec<u8>, session: u32, context: u64) {
    let s = begin(out, UNREGISTER_SESSION, session, context);
    end(out, s);
}

/// ListIdentity request (broadcast over UDP).
pub(crate) fn list_identity_req(out: &mut Vec<u8>, context: u64) {
    let s = begin(out, LIST_IDENTITY, 0, context);
    end(out, s);
}

/// What a device says about itself (CIP Identity object).
pub(crate) struct Identity<'a> {
    pub(crate) vendor: u16,
    pub(crate) device_type: u16,
    pub(crate) product_code: u16,
    pub(crate) revision: (u8, u8),
    pub(crate) serial: u32,
    pub(crate) name: &'a str,
    pub(crate) ip: Ipv4Addr,
}

/// ListIdentity reply with one CIP Identity item.
pub(crate) fn list_identity_resp(out: &mut Vec<u8>, context: u64, id: &Identity<'_>) {
    let s = begin(out, LIST_IDENTITY, 0, context);
    put_u16le(out, 1); // item count
    put_u16le(out, 0x000c); // CIP identity
    let len_at = out.len();
    put_u16le(out, 0);
    let item = out.len();
    put_u16le(out, 1); // encapsulation protocol version
    // Socket address, big-endian: family, port, address, zero.
    put_u16(out, 2);
    put_u16(out, 44818);
    out.extend_from_slice(&id.ip.octets());
    out.extend_from_slice(&[0; 8]);
    identity_body(out, id);
    out.push(0x03); // state: operational
    let n = (out.len() - item) as u16;
    patch_u16le(out, len_at, n);
    end(out, s);
}

fn identity_body(out: &mut Vec<u8>, id: &Identity<'_>) {
    put_u16le(out, id.vendor);
    put_u16le(out, id.device_type);
    put_u16le(out, id.product_code);
    out.extend_from_slice(&[id.revision.0, id.revision.1]);
    put_u16le(out, 0x0060); // status: configured, run mode
    put_u32le(out, id.serial);
    out.push(id.name.len() as u8);
    out.extend_from_slice(id.name.as_bytes());
}

/// SendRRData with an unconnected CIP message written by `cip`.
fn send_rr(out: &mut Vec<u8>, session: u32, context: u64, cip: impl FnOnce(&mut Vec<u8>)) {
    let s = begin(out, SEND_RR_DATA, session, context);
    put_u32le(out, 0); // interface handle
    put_u16le(out, 8); // timeout
    put_u16le(out, 2); // item count
    put_u16le(out, 0x0000); // null address item
    put_u16le(out, 0);
    put_u16le(out, 0x00b2); // unconnected data item
    let len_at = out.len();
    put_u16le(out, 0);
    let d = out.len();
    cip(out);
    let n = (out.len() - d) as u16;
    patch_u16le(out, len_at, n);
    end(out, s);
}

/// CIP path to a tag: ANSI extended symbolic segment, padded to even length.
fn tag_path(out: &mut Vec<u8>, tag: &str) {
    let padded = tag.len() + (tag.len() & 1);
    out.push(((2 + padded) / 2) as u8); // path size in words
    out.push(0x91);
    out.push(tag.len() as u8);
    out.extend_from_slice(tag.as_bytes());
    if tag.len() % 2 == 1 {
        out.push(0);
    }
}

/// CIP service reply header: service | 0x80, reserved, general status 0, no extra.
fn reply_header(out: &mut Vec<u8>, service: u8) {
    out.extend_from_slice(&[service | 0x80, 0, 0, 0]);
}

/// An EtherNet/IP explicit-messaging client.
pub(crate) struct Enip {
    session: u32,
    context: u64,
    req: Vec<u8>,
    resp: Vec<u8>,
    value: f32,
    /// Identity of the target, for Get_Attribute_All.
    identity: (u16, u16, &'static str),
    ip: Ipv4Addr,
}

impl Enip {
    pub(crate) fn new(rng: &mut Rng, ip: Ipv4Addr, product_code: u16, name: &'static str) -> Self {
        Enip {
            session: 0,
            context: rng.next_u64(),
            req: Vec::with_capacity(128),
            resp: Vec::with_capacity(128),
            value: 40.0 + rng.below(20) as f32,
            identity: (1, product_code, name),
            ip,
        }
    }

    fn go(
        &mut self,
        tcp: &mut Tcp,
        cx: &mut Ctx<'_, '_>,
        t: Timestamp,
        rng: &mut Rng,
    ) -> Timestamp {
        let think = rng.range(MS, 5 * MS);
        let ack = rng.range(150 * US, 20 * MS);
        tcp.exchange(cx, t, &self.req, &self.resp, think, ack)
    }
}

impl Dialect for Enip {
    fn port(&self) -> u16 {
        44818
    }

    fn setup(
        &mut self,
        tcp: &mut Tcp,
        cx: &mut Ctx<'_, '_>,
        t: Timestamp,
        rng: &mut Rng,
    ) -> Timestamp {
        self.session = rng.u32() | 1;
        self.req.clear();
        self.resp.clear();
        register_session(&mut self.req, 0, self.context);
        register_session(&mut self.resp, self.session, self.context);
        self.go(tcp, cx, t, rng)
    }

    fn op(
        &mut self,
        op: Op,
        tcp: &mut Tcp,
        cx: &mut Ctx<'_, '_>,
        t: Timestamp,
        rng: &mut Rng,
    ) -> Timestamp {
        self.context = self.context.wrapping_add(1);
        let (session, context) = (self.session, self.context);
        self.req.clear();
        self.resp.clear();
        match op {
            Op::Read => {
                let tag = if rng.chance(0.5) {
                    "Line_Speed"
                } else {
                    "Oven_Temp"
                };
                send_rr(&mut self.req, session, context, |o| {
                    o.push(0x4c); // Read Tag
                    tag_path(o, tag);
                    put_u16le(o, 1); // elements
                });
                self.value += (rng.f64() as f32 - 0.5) * 0.4;
                let v = self.value;
                send_rr(&mut self.resp, session, context, |o| {
                    reply_header(o, 0x4c);
                    put_u16le(o, 0x00ca); // REAL
                    o.extend_from_slice(&v.to_le_bytes());
                });
            }
            Op::Write => {
                let v = 45.0 + rng.below(100) as f32 / 10.0;
                send_rr(&mut self.req, session, context, |o| {
                    o.push(0x4d); // Write Tag
                    tag_path(o, "Speed_Setpoint");
                    put_u16le(o, 0x00ca);
                    put_u16le(o, 1);
                    o.extend_from_slice(&v.to_le_bytes());
                });
                send_rr(&mut self.resp, session, context, |o| reply_header(o, 0x4d));
            }
            Op::Diagnostic => {
                // Get_Attribute_Single of the Identity object's status (attribute 5).
                send_rr(&mut self.req, session, context, |o| {
                    o.extend_from_slice(&[0x0e, 0x03, 0x20, 0x01, 0x24, 0x01, 0x30, 0x05]);
                });
                send_rr(&mut self.resp, session, context, |o| {
                    reply_header(o, 0x0e);
                    put_u16le(o, 0x0060);
                });
            }
            Op::Identify | Op::Control | Op::Program => {
                // Get_Attribute_All of the Identity object (class 1, instance 1).
                send_rr(&mut self.req, session, context, |o| {
                    o.extend_from_slice(&[0x01, 0x02, 0x20, 0x01, 0x24, 0x01]);
                });
                let (vendor, product, name) = self.identity;
                let ip = self.ip;
                send_rr(&mut self.resp, session, context, |o| {
                    reply_header(o, 0x01);
                    identity_body(
                        o,
                        &Identity {
                            vendor,
                            device_type: 0x0e,
                            product_code: product,
                            revision: (33, 11),
                            serial: 0x60c1_2a4e,
                            name,
                            ip,
                        },
                    );
                });
            }
        }
        self.go(tcp, cx, t, rng)
    }

    fn teardown(
        &mut self,
        tcp: &mut Tcp,
        cx: &mut Ctx<'_, '_>,
        t: Timestamp,
        _rng: &mut Rng,
    ) -> Timestamp {
        self.req.clear();
        unregister_session(&mut self.req, self.session, self.context);
        let t1 = tcp.send(cx, t, true, &self.req);
        let t2 = t1.plus_nanos(tcp.lat + 200 * US);
        tcp.ack(cx, t2, false);
        t2.plus_nanos(MS)
    }
}

/// One class-1 implicit I/O packet: sequenced address item + connected data item.
/// `run_idle` adds the 32-bit run/idle header used in the originator-to-target
/// direction.
pub(crate) fn io_packet(out: &mut Vec<u8>, conn_id: u32, seq: u32, run_idle: bool, data: &[u8]) {
    put_u16le(out, 2); // item count
    put_u16le(out, 0x8002); // sequenced address
    put_u16le(out, 8);
    put_u32le(out, conn_id);
    put_u32le(out, seq);
    put_u16le(out, 0x00b1); // connected data
    let extra = if run_idle { 4 } else { 0 };
    put_u16le(out, (2 + extra + data.len()) as u16);
    put_u16le(out, seq as u16); // CIP sequence count
    if run_idle {
        put_u32le(out, 1); // run
    }
    out.extend_from_slice(data);
}
