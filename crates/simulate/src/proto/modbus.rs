//! Modbus/TCP (MBAP header + PDU), TCP 502.
//!
//! Requests and responses of the functions a plant uses: 3/4 reads, 6/16 writes and
//! 43/14 Read Device Identification.

use super::{Dialect, Op, put_u16};
use crate::net::{Ctx, MS, Tcp, US};
use crate::rng::Rng;
use mamori_wire::Timestamp;

/// Appends the MBAP header; the length is patched by [`end`].
fn begin(out: &mut Vec<u8>, tid: u16, unit: u8) -> usize {
    let start = out.len();
    put_u16(out, tid);
    put_u16(out, 0); // protocol id
    put_u16(out, 0); // length, patched
    out.push(unit);
    start
}

fn end(out: &mut [u8], start: usize) {
    let len = (out.len() - start - 6) as u16;
    out[start + 4..start + 6].copy_from_slice(&len.to_be_bytes());
}

/// fc 3/4 request.
pub(crate) fn read_req(out: &mut Vec<u8>, tid: u16, unit: u8, fc: u8, addr: u16, qty: u16) {
    let s = begin(out, tid, unit);
    out.push(fc);
    put_u16(out, addr);
    put_u16(out, qty);
    end(out, s);
}

/// fc 3/4 response with `qty` register values from `rng` around `level`.
pub(crate) fn read_resp(
    out: &mut Vec<u8>,
    tid: u16,
    unit: u8,
    fc: u8,
    qty: u16,
    level: u16,
    rng: &mut Rng,
) {
    let s = begin(out, tid, unit);
    out.push(fc);
    out.push((qty * 2) as u8);
    for i in 0..qty {
        let v = level
            .wrapping_add(i.wrapping_mul(37))
            .wrapping_add(rng.below(16) as u16);
        put_u16(out, v);
    }
    end(out, s);
}

/// fc 6 request; the response is an echo of it.
pub(crate) fn write_single(out: &mut Vec<u8>, tid: u16, unit: u8, addr: u16, value: u16) {
    let s = begin(out, tid, unit);
    out.push(6);
    put_u16(out, addr);
    put_u16(out, value);
    end(out, s);
}

/// fc 16 request.
pub(crate) fn write_multiple_req(out: &mut Vec<u8>, tid: u16, unit: u8, addr: u16, values: &[u16]) {
    let s = begin(out, tid, unit);
    out.push(16);
    put_u16(out, addr);
    put_u16(out, values.len() as u16);
    out.push((values.len() * 2) as u8);
    for v in values {
        put_u16(out, *v);
    }
    end(out, s);
}

/// fc 16 response.
pub(crate) fn write_multiple_resp(out: &mut Vec<u8>, tid: u16, unit: u8, addr: u16, qty: u16) {
    let s = begin(out, tid, unit);
    out.push(16);
    put_u16(out, addr);
    put_u16(out, qty);
    end(out, s);
}

/// fc 43 / MEI 14 Read Device Identification, basic objects.
pub(crate) fn device_id_req(out: &mut Vec<u8>, tid: u16, unit: u8) {
    let s = begin(out, tid, unit);
    out.extend_from_slice(&[43, 14, 1, 0]);
    end(out, s);
}

/// fc 43 / MEI 14 response with vendor name, product code and revision.
pub(crate) fn device_id_resp(
    out: &mut Vec<u8>,
    tid: u16,
    unit: u8,
    vendor: &str,
    product: &str,
    revision: &str,
) {
    let s = begin(out, tid, unit);
    // MEI type, read device id code 1, conformity 0x81 (basic, individual access),
    // more follows 0, next object 0, three objects.
    out.extend_from_slice(&[43, 14, 1, 0x81, 0, 0, 3]);
    for (id, text) in [(0u8, vendor), (1, product), (2, revision)] {
        out.push(id);
        out.push(text.len() as u8);
        out.extend_from_slice(text.as_bytes());
    }
    end(out, s);
}

/// Exception response.
pub(crate) fn exception(out: &mut Vec<u8>, tid: u16, unit: u8, fc: u8, code: u8) {
    let s = begin(out, tid, unit);
    out.push(fc | 0x80);
    out.push(code);
    end(out, s);
}

/// A Modbus client talking to one server.
pub(crate) struct Modbus {
    tid: u16,
    unit: u8,
    level: u16,
    req: Vec<u8>,
    resp: Vec<u8>,
    /// Register block read by the polling loop.
    pub(crate) holding: (u16, u16),
    flip: bool,
}

impl Modbus {
    pub(crate) fn new(rng: &mut Rng, holding: (u16, u16)) -> Self {
        Modbus {
            tid: rng.u16(),
            unit: 1,
            level: 1000 + rng.below(2000) as u16,
            req: Vec::with_capacity(64),
            resp: Vec::with_capacity(300),
            holding,
            flip: false,
        }
    }

    fn next_tid(&mut self) -> u16 {
        self.tid = self.tid.wrapping_add(1);
        self.tid
    }
}

impl Dialect for Modbus {
    fn port(&self) -> u16 {
        502
    }

    fn op(
        &mut self,
        op: Op,
        tcp: &mut Tcp,
        cx: &mut Ctx<'_, '_>,
        t: Timestamp,
        rng: &mut Rng,
    ) -> Timestamp {
        let tid = self.next_tid();
        let unit = self.unit;
        self.req.clear();
        self.resp.clear();
        match op {
            Op::Read => {
                self.flip = !self.flip;
                let (fc, addr, qty) = if self.flip {
                    (3, self.holding.0, self.holding.1)
                } else {
                    (4, 100, 10)
                };
                read_req(&mut self.req, tid, unit, fc, addr, qty);
                self.level = self.level.wrapping_add(rng.below(7) as u16).wrapping_sub(3);
                read_resp(&mut self.resp, tid, unit, fc, qty, self.level, rng);
            }
            Op::Write => {
                if rng.chance(0.7) {
                    let v = 500 + rng.below(500) as u16;
                    write_single(&mut self.req, tid, unit, 40 + rng.below(4) as u16, v);
                    self.resp.extend_from_slice(&self.req);
                } else {
                    let vals = [rng.u16() % 1000, rng.u16() % 1000, rng.u16() % 100, 1];
                    write_multiple_req(&mut self.req, tid, unit, 200, &vals);
                    write_multiple_resp(&mut self.resp, tid, unit, 200, vals.len() as u16);
                }
            }
            Op::Identify | Op::Diagnostic | Op::Control | Op::Program => {
                device_id_req(&mut self.req, tid, unit);
                device_id_resp(
                    &mut self.resp,
                    tid,
                    unit,
                    "Schneider Electric",
                    "BMX P34 2020",
                    "v3.40",
                );
            }
        }
        let think = rng.range(2 * MS, 9 * MS);
        let ack = rng.range(100 * US, 40 * MS);
        tcp.exchange(cx, t, &self.req, &self.resp, think, ack)
    }
}

/// Floods of writes and reads used by attacks: one request/response each.
pub(crate) fn raw_exchange(
    m: &mut Modbus,
    tcp: &mut Tcp,
    cx: &mut Ctx<'_, '_>,
    t: Timestamp,
    rng: &mut Rng,
    build: impl FnOnce(&mut Vec<u8>, &mut Vec<u8>, u16, u8),
) -> Timestamp {
    let tid = m.next_tid();
    m.req.clear();
    m.resp.clear();
    build(&mut m.req, &mut m.resp, tid, m.unit);
    let think = rng.range(2 * MS, 6 * MS);
    tcp.exchange(cx, t, &m.req, &m.resp, think, rng.range(100 * US, 2 * MS))
}
