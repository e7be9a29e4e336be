//! DNP3 over TCP 20000 (IEEE 1815): link frames with their CRCs, the transport
//! octet and application-layer READ requests and responses.

use super::{Dialect, Op, put_u16le};
use crate::net::{Ctx, MS, Tcp, US};
use crate::rng::Rng;
use mamori_wire::Timestamp;

/// CRC-16/DNP (polynomial 0x3D65, reflected, inverted), as stored little-endian.
pub(crate) fn crc(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in data {
        crc ^= u16::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xa6bc
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// One link-layer frame (unconfirmed user data) carrying `user` data.
pub(crate) fn frame(out: &mut Vec<u8>, from_master: bool, dest: u16, src: u16, user: &[u8]) {
    let control = if from_master { 0xc4 } else { 0x44 };
    let start = out.len();
    out.extend_from_slice(&[0x05, 0x64, (5 + user.len()) as u8, control]);
    put_u16le(out, dest);
    put_u16le(out, src);
    let c = crc(&out[start..start + 8]);
    put_u16le(out, c);
    for chunk in user.chunks(16) {
        out.extend_from_slice(chunk);
        put_u16le(out, crc(chunk));
    }
}

/// Addresses of the master and the outstation.
const MASTER: u16 = 1;
const OUTSTATION: u16 = 10;

/// A DNP3 master polling one outstation.
pub(crate) struct Dnp3 {
    app_seq: u8,
    tr_seq: u8,
    user: Vec<u8>,
    req: Vec<u8>,
    resp: Vec<u8>,
    analogs: [i16; 4],
}

impl Dnp3 {
    pub(crate) fn new(rng: &mut Rng) -> Self {
        Dnp3 {
            app_seq: rng.below(16) as u8,
            tr_seq: rng.below(64) as u8,
            user: Vec::with_capacity(128),
            req: Vec::with_capacity(64),
            resp: Vec::with_capacity(160),
            analogs: [1200, 350, 71, 5],
        }
    }

    fn transport(&mut self) -> u8 {
        self.tr_seq = (self.tr_seq + 1) & 0x3f;
        0xc0 | self.tr_seq
    }
}

impl Dialect for Dnp3 {
    fn port(&self) -> u16 {
        20000
    }

    fn op(
        &mut self,
        op: Op,
        tcp: &mut Tcp,
        cx: &mut Ctx<'_, '_>,
        t: Timestamp,
        rng: &mut Rng,
    ) -> Timestamp {
        self.app_seq = (self.app_seq + 1) & 0x0f;
        let ac = 0xc0 | self.app_seq;
        // Request: read class 1, 2, 3 events (and class 0 for an integrity poll).
        let integrity = op != Op::Read;
        self.user.clear();
        let th = self.transport();
        self.user.extend_from_slice(&[th, ac, 0x01]);
        self.user
            .extend_from_slice(&[60, 2, 0x06, 60, 3, 0x06, 60, 4, 0x06]);
        if integrity {
            self.user.extend_from_slice(&[60, 1, 0x06]);
        }
        self.req.clear();
        frame(&mut self.req, true, OUTSTATION, MASTER, &self.user);

        // Response: IIN, then static data (integrity) or change events.
        for a in &mut self.analogs {
            *a = a.wrapping_add(rng.range(-3, 3) as i16);
        }
        self.user.clear();
        let th = self.transport();
        self.user.extend_from_slice(&[th, ac, 0x81, 0x00, 0x00]);
        if integrity {
            // g1v2 binary input with flags, points 0-7.
            self.user.extend_from_slice(&[1, 2, 0x00, 0, 7]);
            for i in 0..8u8 {
                self.user.push(if (i + self.app_seq).is_multiple_of(3) {
                    0x81
                } else {
                    0x01
                });
            }
            // g30v2 16-bit analog input with flag, points 0-3.
            self.user.extend_from_slice(&[30, 2, 0x00, 0, 3]);
            for a in self.analogs {
                self.user.push(0x01);
                self.user.extend_from_slice(&a.to_le_bytes());
            }
        } else if rng.chance(0.4) {
            // g32v2 16-bit analog change event, 1-byte count and index.
            self.user.extend_from_slice(&[32, 2, 0x17, 1, 0, 0x01]);
            self.user.extend_from_slice(&self.analogs[0].to_le_bytes());
        }
        self.resp.clear();
        frame(&mut self.resp, false, MASTER, OUTSTATION, &self.user);
        let think = rng.range(5 * MS, 25 * MS);
        tcp.exchange(
            cx,
            t,
            &self.req,
            &self.resp,
            think,
            rng.range(100 * US, 5 * MS),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_standard_check_value() {
        // CRC-16/DNP check value for "123456789" is 0xEA82.
        assert_eq!(crc(b"123456789"), 0xea82);
    }
}
