//! S7comm over ISO-on-TCP (RFC 1006 TPKT + ISO 8073 COTP), TCP 102.
//!
//! Connection setup (COTP CR/CC, Setup Communication), Read Var / Write Var jobs,
//! SZL reads as userdata, PLC Stop, and a block download (Request Download, the
//! PLC's Download Block requests and Download Ended).

use super::{Dialect, Op, patch_u16, put_u16};
use crate::net::{Ctx, MS, Tcp, US};
use crate::rng::Rng;
use mamori_wire::Timestamp;

/// Destination TSAP for a PG (programming device) connection to rack 0, slot 2.
pub(crate) const TSAP_PG: u16 = 0x0102;
/// Destination TSAP for an OP (operator panel) connection to rack 0, slot 2.
pub(crate) const TSAP_OP: u16 = 0x0202;
/// Destination TSAP for an S7-basic (SCADA driver) connection to rack 0, slot 2.
pub(crate) const TSAP_BASIC: u16 = 0x0302;

const ROSCTR_JOB: u8 = 1;
const ROSCTR_ACK_DATA: u8 = 3;
const ROSCTR_USERDATA: u8 = 7;

/// Area codes.
const AREA_DB: u8 = 0x84;
const AREA_MERKER: u8 = 0x83;

fn tpkt_begin(out: &mut Vec<u8>) -> usize {
    let s = out.len();
    out.extend_from_slice(&[3, 0, 0, 0]);
    s
}

fn tpkt_end(out: &mut [u8], s: usize) {
    let len = (out.len() - s) as u16;
    patch_u16(out, s + 2, len);
}

/// COTP connection request (CR) or confirm (CC).
pub(crate) fn cotp_connect(
    out: &mut Vec<u8>,
    confirm: bool,
    dst_ref: u16,
    src_ref: u16,
    src_tsap: u16,
    dst_tsap: u16,
) {
    let s = tpkt_begin(out);
    out.push(17); // length indicator
    out.push(if confirm { 0xd0 } else { 0xe0 });
    put_u16(out, dst_ref);
    put_u16(out, src_ref);
    out.push(0x00); // class 0
    out.extend_from_slice(&[0xc0, 1, 0x0a]); // TPDU size 1024
    out.extend_from_slice(&[0xc1, 2]);
    put_u16(out, src_tsap);
    out.extend_from_slice(&[0xc2, 2]);
    put_u16(out, dst_tsap);
    tpkt_end(out, s);
}

/// One S7 PDU in a COTP DT TPDU; `params` and `data` write the two parts.
fn pdu(
    out: &mut Vec<u8>,
    rosctr: u8,
    pdu_ref: u16,
    params: impl FnOnce(&mut Vec<u8>),
    data: impl FnOnce(&mut Vec<u8>),
) {
    let s = tpkt_begin(out);
    out.extend_from_slice(&[2, 0xf0, 0x80]); // COTP DT, last data unit
    let h = out.len();
    out.extend_from_slice(&[0x32, rosctr, 0, 0]);
    put_u16(out, pdu_ref);
    out.extend_from_slice(&[0, 0, 0, 0]); // parameter and data lengths, patched
    if rosctr == 2 || rosctr == ROSCTR_ACK_DATA {
        out.extend_from_slice(&[0, 0]); // error class, error code
    }
    let p = out.len();
    params(out);
    let plen = out.len() - p;
    let d = out.len();
    data(out);
    let dlen = out.len() - d;
    patch_u16(out, h + 6, plen as u16);
    patch_u16(out, h + 8, dlen as u16);
    tpkt_end(out, s);
}

/// Setup Communication job or its acknowledgement.
pub(crate) fn setup(out: &mut Vec<u8>, ack: bool, pdu_ref: u16, pdu_len: u16) {
    let rosctr = if ack { ROSCTR_ACK_DATA } else { ROSCTR_JOB };
    pdu(
        out,
        rosctr,
        pdu_ref,
        |o| {
            o.extend_from_slice(&[0xf0, 0x00, 0x00, 0x01, 0x00, 0x01]);
            put_u16(o, pdu_len);
        },
        |_| {},
    );
}

/// An address for Read Var / Write Var (byte access).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Item {
    pub(crate) area: u8,
    pub(crate) db: u16,
    pub(crate) byte: u32,
    pub(crate) len: u16,
}

fn item_spec(o: &mut Vec<u8>, it: &Item) {
    o.extend_from_slice(&[0x12, 0x0a, 0x10, 0x02]); // var spec, S7ANY, BYTE
    put_u16(o, it.len);
    put_u16(o, it.db);
    o.push(it.area);
    let bit = it.byte * 8;
    o.extend_from_slice(&[(bit >> 16) as u8, (bit >> 8) as u8, bit as u8]);
}

/// Read Var job.
pub(crate) fn read_req(out: &mut Vec<u8>, pdu_ref: u16, items: &[Item]) {
    pdu(
        out,
        ROSCTR_JOB,
        pdu_ref,
        |o| {
            o.extend_from_slice(&[0x04, items.len() as u8]);
            for it in items {
                item_spec(o, it);
            }
        },
        |_| {},
    );
}

/// Read Var acknowledgement with random data.
pub(crate) fn read_resp(out: &mut Vec<u8>, pdu_ref: u16, items: &[Item], rng: &mut Rng) {
    pdu(
        out,
        ROSCTR_ACK_DATA,
        pdu_ref,
        |o| o.extend_from_slice(&[0x04, items.len() as u8]),
        |o| {
            for (i, it) in items.iter().enumerate() {
                o.extend_from_slice(&[0xff, 0x04]);
                put_u16(o, it.len * 8);
                let at = o.len();
                o.resize(at + usize::from(it.len), 0);
                rng.fill(&mut o[at..]);
                if it.len % 2 == 1 && i + 1 < items.len() {
                    o.push(0);
                }
            }
        },
    );
}

/// Write Var job for one item.
pub(crate) fn write_req(out: &mut Vec<u8>, pdu_ref: u16, item: &Item, value: &[u8]) {
    pdu(
        out,
        ROSCTR_JOB,
        pdu_ref,
        |o| {
            o.extend_from_slice(&[0x05, 1]);
            item_spec(o, item);
        },
        |o| {
            o.extend_from_slice(&[0x00, 0x04]);
            put_u16(o, (value.len() * 8) as u16);
            o.extend_from_slice(value);
        },
    );
}

/// Write Var acknowledgement.
pub(crate) fn write_resp(out: &mut Vec<u8>, pdu_ref: u16, n: u8) {
    pdu(
        out,
        ROSCTR_ACK_DATA,
        pdu_ref,
        |o| o.extend_from_slice(&[0x05, n]),
        |o| o.resize(o.len() + usize::from(n), 0xff),
    );
}

/// Userdata request: read SZL `id` / `index` (function group 4, subfunction 1).
pub(crate) fn szl_req(out: &mut Vec<u8>, pdu_ref: u16, seq: u8, id: u16, index: u16) {
    pdu(
        out,
        ROSCTR_USERDATA,
        pdu_ref,
        |o| o.extend_from_slice(&[0x00, 0x01, 0x12, 0x04, 0x11, 0x44, 0x01, seq]),
        |o| {
            o.extend_from_slice(&[0xff, 0x09, 0x00, 0x04]);
            put_u16(o, id);
            put_u16(o, index);
        },
    );
}

/// Userdata response carrying an SZL list of `records` of `rec_len` bytes each.
pub(crate) fn szl_resp(
    out: &mut Vec<u8>,
    pdu_ref: u16,
    seq: u8,
    id: u16,
    index: u16,
    rec_len: u16,
    records: &[u8],
) {
    pdu(
        out,
        ROSCTR_USERDATA,
        pdu_ref,
        |o| {
            o.extend_from_slice(&[0x00, 0x01, 0x12, 0x08, 0x12, 0x84, 0x01, seq]);
            o.extend_from_slice(&[0x00, 0x00, 0x00, 0x00]); // data unit ref, last unit, error
        },
        |o| {
            o.extend_from_slice(&[0xff, 0x09]);
            put_u16(o, (8 + records.len()) as u16);
            put_u16(o, id);
            put_u16(o, index);
            put_u16(o, rec_len);
            put_u16(o, (records.len() / usize::from(rec_len.max(1))) as u16);
            o.extend_from_slice(records);
        },
    );
}

/// SZL 0x0011 (module identification) records for an S7-300 CPU.
pub(crate) fn module_identification(out: &mut Vec<u8>) {
    for (index, mlfb, version) in [
        (0x0001u16, "6ES7 315-2EH14-0AB0 ", [0x00u8, 0x00]),
        (0x0006, "6ES7 315-2EH14-0AB0 ", [0x00, 0x00]),
        (0x0007, "                    ", [0x56, 0x03]),
    ] {
        put_u16(out, index);
        out.extend_from_slice(mlfb.as_bytes());
        out.extend_from_slice(&[0x00, 0xc0]); // BGTyp
        out.extend_from_slice(&version); // Ausbg
        out.extend_from_slice(&[0x02, 0x00]); // Ausbe
    }
}

/// PLC Stop job (PI service `P_PROGRAM`).
pub(crate) fn stop_req(out: &mut Vec<u8>, pdu_ref: u16) {
    pdu(
        out,
        ROSCTR_JOB,
        pdu_ref,
        |o| {
            o.extend_from_slice(&[0x29, 0, 0, 0, 0, 0, 9]);
            o.extend_from_slice(b"P_PROGRAM");
        },
        |_| {},
    );
}

/// Acknowledgement of a job that carries only its function code back.
pub(crate) fn func_ack(out: &mut Vec<u8>, pdu_ref: u16, function: u8) {
    pdu(out, ROSCTR_ACK_DATA, pdu_ref, |o| o.push(function), |_| {});
}

/// Block file name as S7 writes it: `_0` + block type + 5-digit number + `P`.
fn block_name(o: &mut Vec<u8>, block_type: u8, number: u16) {
    o.push(9);
    o.extend_from_slice(b"_0");
    o.push(block_type);
    o.extend_from_slice(format!("{number:05}P").as_bytes());
}

/// Request Download job from the engineering station.
pub(crate) fn request_download(
    out: &mut Vec<u8>,
    pdu_ref: u16,
    block_type: u8,
    number: u16,
    load_len: u32,
    mc7_len: u32,
) {
    pdu(
        out,
        ROSCTR_JOB,
        pdu_ref,
        |o| {
            o.extend_from_slice(&[0x1a, 0x00, 0x01, 0x00, 0, 0, 0, 0]);
            block_name(o, block_type, number);
            o.push(13); // length of part 2
            o.push(b'1');
            o.extend_from_slice(format!("{load_len:06}{mc7_len:06}").as_bytes());
        },
        |_| {},
    );
}

/// Download Block job, sent by the PLC to fetch the next chunk.
pub(crate) fn download_block_req(out: &mut Vec<u8>, pdu_ref: u16, block_type: u8, number: u16) {
    pdu(
        out,
        ROSCTR_JOB,
        pdu_ref,
        |o| {
            o.extend_from_slice(&[0x1b, 0x00, 0x01, 0x00, 0, 0, 0, 0]);
            block_name(o, block_type, number);
        },
        |_| {},
    );
}

/// The engineering station's answer with block bytes.
pub(crate) fn download_block_resp(out: &mut Vec<u8>, pdu_ref: u16, more: bool, chunk: &[u8]) {
    pdu(
        out,
        ROSCTR_ACK_DATA,
        pdu_ref,
        |o| o.extend_from_slice(&[0x1b, u8::from(more)]),
        |o| {
            put_u16(o, chunk.len() as u16);
            put_u16(o, 0x00fb);
            o.extend_from_slice(chunk);
        },
    );
}

/// Download Ended job, sent by the PLC.
pub(crate) fn download_ended_req(out: &mut Vec<u8>, pdu_ref: u16, block_type: u8, number: u16) {
    pdu(
        out,
        ROSCTR_JOB,
        pdu_ref,
        |o| {
            o.extend_from_slice(&[0x1c, 0x00, 0x00, 0x00, 0, 0, 0, 0]);
            block_name(o, block_type, number);
        },
        |_| {},
    );
}

/// An S7 client (HMI, SCADA driver or engineering tool).
pub(crate) struct S7 {
    pdu_ref: u16,
    plc_ref: u16,
    seq: u8,
    tsap: u16,
    req: Vec<u8>,
    resp: Vec<u8>,
    items: [Item; 2],
}

impl S7 {
    pub(crate) fn new(rng: &mut Rng, tsap: u16) -> Self {
        S7 {
            pdu_ref: rng.u16() | 0x100,
            plc_ref: rng.u16(),
            seq: 0,
            tsap,
            req: Vec::with_capacity(128),
            resp: Vec::with_capacity(256),
            items: [
                Item {
                    area: AREA_DB,
                    db: 10,
                    byte: 0,
                    len: 32,
                },
                Item {
                    area: AREA_MERKER,
                    db: 0,
                    byte: 100,
                    len: 4,
                },
            ],
        }
    }

    fn next_ref(&mut self) -> u16 {
        self.pdu_ref = self.pdu_ref.wrapping_add(1);
        self.pdu_ref
    }

    fn go(
        &mut self,
        tcp: &mut Tcp,
        cx: &mut Ctx<'_, '_>,
        t: Timestamp,
        rng: &mut Rng,
    ) -> Timestamp {
        let think = rng.range(3 * MS, 12 * MS);
        let ack = rng.range(200 * US, 30 * MS);
        tcp.exchange(cx, t, &self.req, &self.resp, think, ack)
    }

    /// A program download of OB1 and two FCs: Request Download from the client, then
    /// the PLC pulls each block with Download Block and ends with Download Ended.
    fn download(
        &mut self,
        tcp: &mut Tcp,
        cx: &mut Ctx<'_, '_>,
        t: Timestamp,
        rng: &mut Rng,
    ) -> Timestamp {
        let mut t = t;
        let mut block = vec![0u8; 420];
        for (btype, num) in [(b'8', 1u16), (b'C', 1), (b'C', 2)] {
            let r = self.next_ref();
            self.req.clear();
            self.resp.clear();
            request_download(&mut self.req, r, btype, num, 420, 312);
            func_ack(&mut self.resp, r, 0x1a);
            t = self.go(tcp, cx, t, rng).plus_nanos(2 * MS);
            for part in 0..2u8 {
                self.plc_ref = self.plc_ref.wrapping_add(1);
                self.req.clear();
                self.resp.clear();
                download_block_req(&mut self.req, self.plc_ref, btype, num);
                rng.fill(&mut block);
                let chunk = &block[usize::from(part) * 210..usize::from(part + 1) * 210];
                download_block_resp(&mut self.resp, self.plc_ref, part == 0, chunk);
                t = tcp
                    .reverse_exchange(cx, t, &self.req, &self.resp, rng.range(MS, 4 * MS))
                    .plus_nanos(3 * MS);
            }
            self.plc_ref = self.plc_ref.wrapping_add(1);
            self.req.clear();
            self.resp.clear();
            download_ended_req(&mut self.req, self.plc_ref, btype, num);
            func_ack(&mut self.resp, self.plc_ref, 0x1c);
            t = tcp
                .reverse_exchange(cx, t, &self.req, &self.resp, rng.range(MS, 4 * MS))
                .plus_nanos(20 * MS);
        }
        t
    }
}

impl Dialect for S7 {
    fn port(&self) -> u16 {
        102
    }

    fn setup(
        &mut self,
        tcp: &mut Tcp,
        cx: &mut Ctx<'_, '_>,
        t: Timestamp,
        rng: &mut Rng,
    ) -> Timestamp {
        let client_ref = rng.u16() | 1;
        let server_ref = rng.u16() | 1;
        self.req.clear();
        self.resp.clear();
        cotp_connect(&mut self.req, false, 0, client_ref, 0x0100, self.tsap);
        cotp_connect(
            &mut self.resp,
            true,
            client_ref,
            server_ref,
            0x0100,
            self.tsap,
        );
        let t = self.go(tcp, cx, t, rng);
        let r = self.next_ref();
        self.req.clear();
        self.resp.clear();
        setup(&mut self.req, false, r, 480);
        setup(&mut self.resp, true, r, 240);
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
        let r = self.next_ref();
        self.req.clear();
        self.resp.clear();
        match op {
            Op::Read => {
                let items = self.items;
                read_req(&mut self.req, r, &items);
                read_resp(&mut self.resp, r, &items, rng);
            }
            Op::Write => {
                let item = Item {
                    area: AREA_DB,
                    db: 10,
                    byte: 40 + 2 * rng.below(4) as u32,
                    len: 2,
                };
                let v = (rng.below(3000) as u16).to_be_bytes();
                write_req(&mut self.req, r, &item, &v);
                write_resp(&mut self.resp, r, 1);
            }
            Op::Identify | Op::Diagnostic => {
                self.seq = self.seq.wrapping_add(1);
                let mut recs = Vec::with_capacity(84);
                module_identification(&mut recs);
                szl_req(&mut self.req, r, self.seq, 0x0011, 0x0000);
                szl_resp(&mut self.resp, r, self.seq, 0x0011, 0x0000, 28, &recs);
            }
            Op::Control => {
                stop_req(&mut self.req, r);
                func_ack(&mut self.resp, r, 0x29);
            }
            Op::Program => return self.download(tcp, cx, t, rng),
        }
        self.go(tcp, cx, t, rng)
    }
}
