//! IEC 60870-5-104 (TCP 2404): APCI frames (I, S and U formats) and ASDUs with
//! two-octet cause of transmission, two-octet common address and three-octet IOAs.

use super::{Dialect, Op, put_u16le};
use crate::net::{Ctx, MS, Tcp, US};
use crate::rng::Rng;
use mamori_wire::Timestamp;

/// U-format functions.
pub(crate) const STARTDT_ACT: u8 = 0x07;
pub(crate) const STARTDT_CON: u8 = 0x0b;
pub(crate) const TESTFR_ACT: u8 = 0x43;
pub(crate) const TESTFR_CON: u8 = 0x83;

/// Type identifications.
const M_SP_NA_1: u8 = 1;
const M_ME_NC_1: u8 = 13;
const C_IC_NA_1: u8 = 100;

/// Causes of transmission.
const COT_SPONT: u8 = 3;
const COT_ACT: u8 = 6;
const COT_ACTCON: u8 = 7;
const COT_ACTTERM: u8 = 10;
const COT_INROGEN: u8 = 20;

/// A U-format frame.
pub(crate) fn u_frame(out: &mut Vec<u8>, func: u8) {
    out.extend_from_slice(&[0x68, 4, func, 0, 0, 0]);
}

/// An S-format frame acknowledging up to `nr`.
pub(crate) fn s_frame(out: &mut Vec<u8>, nr: u16) {
    out.extend_from_slice(&[0x68, 4, 0x01, 0x00]);
    put_u16le(out, nr << 1);
}

/// An I-format frame whose ASDU `asdu` writes.
fn i_frame(out: &mut Vec<u8>, ns: u16, nr: u16, asdu: impl FnOnce(&mut Vec<u8>)) {
    let s = out.len();
    out.extend_from_slice(&[0x68, 0]);
    put_u16le(out, ns << 1);
    put_u16le(out, nr << 1);
    asdu(out);
    out[s + 1] = (out.len() - s - 2) as u8;
}

fn asdu_head(out: &mut Vec<u8>, type_id: u8, n: u8, cot: u8, ca: u16) {
    out.extend_from_slice(&[type_id, n & 0x7f, cot, 0]);
    put_u16le(out, ca);
}

fn ioa(out: &mut Vec<u8>, a: u32) {
    out.extend_from_slice(&a.to_le_bytes()[..3]);
}

/// A master (controlling station) talking to one RTU.
pub(crate) struct Iec104 {
    /// Master's send and receive sequence numbers.
    m_ns: u16,
    m_nr: u16,
    /// RTU's send sequence number.
    r_ns: u16,
    ca: u16,
    buf: Vec<u8>,
    values: [f32; 4],
}

impl Iec104 {
    pub(crate) fn new(rng: &mut Rng, ca: u16) -> Self {
        Iec104 {
            m_ns: 0,
            m_nr: 0,
            r_ns: 0,
            ca,
            buf: Vec::with_capacity(256),
            values: [
                6.6 + rng.f64() as f32 * 0.1,
                50.0,
                412.0 + rng.f64() as f32 * 5.0,
                0.98,
            ],
        }
    }

    /// The RTU sends one I-frame; returns the time after it.
    fn rtu_send(
        &mut self,
        tcp: &mut Tcp,
        cx: &mut Ctx<'_, '_>,
        t: Timestamp,
        asdu: impl FnOnce(&mut Vec<u8>),
    ) -> Timestamp {
        self.buf.clear();
        i_frame(&mut self.buf, self.r_ns, self.m_ns, asdu);
        self.r_ns = (self.r_ns + 1) & 0x7fff;
        self.m_nr = self.r_ns;
        tcp.send(cx, t, false, &self.buf).plus_nanos(300 * US)
    }

    fn master_ack(&mut self, tcp: &mut Tcp, cx: &mut Ctx<'_, '_>, t: Timestamp) -> Timestamp {
        self.buf.clear();
        s_frame(&mut self.buf, self.m_nr);
        tcp.send(cx, t, true, &self.buf)
    }

    fn measurands(&mut self, out: &mut Vec<u8>, cot: u8, ca: u16) {
        asdu_head(out, M_ME_NC_1, 4, cot, ca);
        for (i, v) in self.values.iter().enumerate() {
            ioa(out, 1001 + i as u32);
            out.extend_from_slice(&v.to_le_bytes());
            out.push(0x00); // QDS: good
        }
    }

    fn interrogation(&mut self, tcp: &mut Tcp, cx: &mut Ctx<'_, '_>, t: Timestamp) -> Timestamp {
        let ca = self.ca;
        self.buf.clear();
        i_frame(&mut self.buf, self.m_ns, self.m_nr, |o| {
            asdu_head(o, C_IC_NA_1, 1, COT_ACT, ca);
            ioa(o, 0);
            o.push(20); // QOI: station interrogation
        });
        self.m_ns = (self.m_ns + 1) & 0x7fff;
        let mut t = tcp
            .send(cx, t, true, &self.buf)
            .plus_nanos(tcp.lat + 4 * MS);
        t = self.rtu_send(tcp, cx, t, |o| {
            asdu_head(o, C_IC_NA_1, 1, COT_ACTCON, ca);
            ioa(o, 0);
            o.push(20);
        });
        let mut scratch = Vec::with_capacity(64);
        self.measurands(&mut scratch, COT_INROGEN, ca);
        t = self.rtu_send(tcp, cx, t, |o| o.extend_from_slice(&scratch));
        t = self.rtu_send(tcp, cx, t, |o| {
            asdu_head(o, M_SP_NA_1, 6, COT_INROGEN, ca);
            for i in 0..6u32 {
                ioa(o, 2001 + i);
                o.push(u8::from(i % 2 == 0)); // SIQ
            }
        });
        t = self.rtu_send(tcp, cx, t, |o| {
            asdu_head(o, C_IC_NA_1, 1, COT_ACTTERM, ca);
            ioa(o, 0);
            o.push(20);
        });
        self.master_ack(tcp, cx, t.plus_nanos(tcp.lat + 2 * MS))
    }
}

impl Dialect for Iec104 {
    fn port(&self) -> u16 {
        2404
    }

    fn setup(
        &mut self,
        tcp: &mut Tcp,
        cx: &mut Ctx<'_, '_>,
        t: Timestamp,
        rng: &mut Rng,
    ) -> Timestamp {
        let mut req = Vec::with_capacity(6);
        let mut resp = Vec::with_capacity(6);
        u_frame(&mut req, STARTDT_ACT);
        u_frame(&mut resp, STARTDT_CON);
        let t = tcp.exchange(cx, t, &req, &resp, rng.range(MS, 3 * MS), 20 * MS);
        self.interrogation(tcp, cx, t.plus_nanos(50 * MS))
    }

    fn op(
        &mut self,
        op: Op,
        tcp: &mut Tcp,
        cx: &mut Ctx<'_, '_>,
        t: Timestamp,
        rng: &mut Rng,
    ) -> Timestamp {
        match op {
            Op::Read => {
                // Spontaneous measured values from the RTU, acknowledged by an S-frame.
                for v in &mut self.values {
                    *v *= 1.0 + (rng.f64() as f32 - 0.5) * 0.002;
                }
                let ca = self.ca;
                let mut scratch = Vec::with_capacity(64);
                self.measurands(&mut scratch, COT_SPONT, ca);
                let t = self.rtu_send(tcp, cx, t, |o| o.extend_from_slice(&scratch));
                self.master_ack(tcp, cx, t.plus_nanos(tcp.lat + rng.range(MS, 40 * MS)))
            }
            Op::Diagnostic => {
                let mut req = Vec::with_capacity(6);
                let mut resp = Vec::with_capacity(6);
                u_frame(&mut req, TESTFR_ACT);
                u_frame(&mut resp, TESTFR_CON);
                tcp.exchange(cx, t, &req, &resp, rng.range(MS, 3 * MS), 30 * MS)
            }
            _ => self.interrogation(tcp, cx, t),
        }
    }
}
