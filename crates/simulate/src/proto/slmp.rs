//! Mitsubishi SLMP / MC protocol 3E frames, binary, over TCP (port 5007 here).
//! Header fields after the subheader are little-endian.

use super::{Dialect, Op, patch_u16le, put_u16le};
use crate::net::{Ctx, MS, Tcp, US};
use crate::rng::Rng;
use mamori_wire::Timestamp;

/// Commands.
pub(crate) const BATCH_READ: u16 = 0x0401;
pub(crate) const BATCH_WRITE: u16 = 0x1401;
pub(crate) const READ_TYPE_NAME: u16 = 0x0101;

/// Device code of data registers (D).
const DEV_D: u8 = 0xa8;

fn req_begin(out: &mut Vec<u8>, command: u16, sub: u16) -> usize {
    out.extend_from_slice(&[0x50, 0x00, 0x00, 0xff, 0xff, 0x03, 0x00]);
    let len_at = out.len();
    put_u16le(out, 0);
    put_u16le(out, 0x0010); // monitoring timer (x 250 ms)
    put_u16le(out, command);
    put_u16le(out, sub);
    len_at
}

fn resp_begin(out: &mut Vec<u8>) -> usize {
    out.extend_from_slice(&[0xd0, 0x00, 0x00, 0xff, 0xff, 0x03, 0x00]);
    let len_at = out.len();
    put_u16le(out, 0);
    put_u16le(out, 0x0000); // end code
    len_at
}

/// Patches the data length: everything after the length field.
fn finish(out: &mut [u8], len_at: usize) {
    let n = (out.len() - len_at - 2) as u16;
    patch_u16le(out, len_at, n);
}

fn device(out: &mut Vec<u8>, head: u32, code: u8, points: u16) {
    out.extend_from_slice(&head.to_le_bytes()[..3]);
    out.push(code);
    put_u16le(out, points);
}

/// Batch read of `points` words of D from `head`.
pub(crate) fn batch_read_req(out: &mut Vec<u8>, head: u32, points: u16) {
    let l = req_begin(out, BATCH_READ, 0x0000);
    device(out, head, DEV_D, points);
    finish(out, l);
}

/// Batch read response.
pub(crate) fn words_resp(out: &mut Vec<u8>, words: impl Iterator<Item = u16>) {
    let l = resp_begin(out);
    for w in words {
        put_u16le(out, w);
    }
    finish(out, l);
}

/// Batch write of words to D.
pub(crate) fn batch_write_req(out: &mut Vec<u8>, head: u32, words: &[u16]) {
    let l = req_begin(out, BATCH_WRITE, 0x0000);
    device(out, head, DEV_D, words.len() as u16);
    for w in words {
        put_u16le(out, *w);
    }
    finish(out, l);
}

/// Read type name request.
pub(crate) fn type_name_req(out: &mut Vec<u8>) {
    let l = req_begin(out, READ_TYPE_NAME, 0x0000);
    finish(out, l);
}

/// Read type name response: 16-byte model name and model code.
pub(crate) fn type_name_resp(out: &mut Vec<u8>, model: &str, code: u16) {
    let l = resp_begin(out);
    let mut name = [b' '; 16];
    for (i, b) in model.bytes().take(16).enumerate() {
        name[i] = b;
    }
    out.extend_from_slice(&name);
    put_u16le(out, code);
    finish(out, l);
}

/// An SLMP client.
pub(crate) struct Slmp {
    req: Vec<u8>,
    resp: Vec<u8>,
    level: u16,
}

impl Slmp {
    pub(crate) fn new(rng: &mut Rng) -> Self {
        Slmp {
            req: Vec::with_capacity(64),
            resp: Vec::with_capacity(128),
            level: 200 + rng.below(100) as u16,
        }
    }
}

impl Dialect for Slmp {
    fn port(&self) -> u16 {
        5007
    }

    fn op(
        &mut self,
        op: Op,
        tcp: &mut Tcp,
        cx: &mut Ctx<'_, '_>,
        t: Timestamp,
        rng: &mut Rng,
    ) -> Timestamp {
        self.req.clear();
        self.resp.clear();
        match op {
            Op::Read => {
                batch_read_req(&mut self.req, 100, 16);
                let base = self.level;
                words_resp(
                    &mut self.resp,
                    (0..16u16).map(|i| base.wrapping_add(i * 3) ^ (rng.u16() & 7)),
                );
            }
            Op::Write => {
                let v = [rng.u16() % 500, rng.u16() % 500];
                batch_write_req(&mut self.req, 300, &v);
                words_resp(&mut self.resp, std::iter::empty());
            }
            _ => {
                type_name_req(&mut self.req);
                type_name_resp(&mut self.resp, "R04ENCPU", 0x4844);
            }
        }
        let think = rng.range(MS, 4 * MS);
        let ack = rng.range(100 * US, 10 * MS);
        tcp.exchange(cx, t, &self.req, &self.resp, think, ack)
    }
}
