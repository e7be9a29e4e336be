//! Fuzzes the OT dissectors: stream framing, parsers and sessions together.
//!
//! Input: one byte choosing the protocol (0 Modbus, 1 S7comm, 2 EtherNet/IP, 3 DNP3
//! over TCP, 4 DNP3 and EtherNet/IP datagrams over UDP), then chunks, each a control
//! byte (bit 0: direction, bit 1: a reassembly gap before the chunk) and a length byte,
//! then that many bytes (the last chunk takes what is left). Every chunk goes through
//! the protocol's `StreamBuffer` and session; the sessions are finished at the end.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_dissect::contract::PduParser;
use mamori_dissect::ot::{dnp3, enip, modbus, s7comm};
use mamori_dissect::stream::StreamBuffer;
use mamori_flow::Direction;

type Chunk<'a> = (Direction, bool, &'a [u8]);

fn chunks(mut rest: &[u8]) -> Vec<Chunk<'_>> {
    let mut out = Vec::new();
    while let [control, len, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let dir = if control & 1 == 0 { Direction::Orig } else { Direction::Resp };
        out.push((dir, control & 2 != 0, &tail[..n]));
        rest = &tail[n..];
    }
    out
}

/// Feeds the chunks through one buffer per direction, handing PDUs to `on_pdu`.
fn drive<P: PduParser>(parser: &P, chunks: &[Chunk<'_>], mut on_pdu: impl FnMut(Direction, i64, P::Pdu<'_>)) {
    let mut bufs = [StreamBuffer::new(), StreamBuffer::new()];
    for (i, &(dir, gap, bytes)) in chunks.iter().enumerate() {
        let buf = &mut bufs[dir.index()];
        if gap {
            buf.gap(bytes.len() as u64 + 1);
        }
        buf.feed(parser, dir, bytes, |pdu| on_pdu(dir, i as i64, pdu));
        assert!(buf.held() <= P::MAX_PDU);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let chunks = chunks(rest);
    let (mut ops, mut facts) = (Vec::new(), Vec::new());
    match selector % 5 {
        0 => {
            let mut s = modbus::Session::default();
            drive(&modbus::Parser, &chunks, |dir, ts, pdu| s.on_adu(dir, ts, &pdu, &mut ops, &mut facts));
            s.finish(&mut ops);
        }
        1 => {
            let mut s = s7comm::Session::default();
            drive(&s7comm::Parser, &chunks, |dir, ts, pdu| s.on_tpdu(dir, ts, &pdu, &mut ops, &mut facts));
            s.finish(&mut ops);
        }
        2 => {
            let mut s = enip::Session::default();
            drive(&enip::Parser, &chunks, |dir, ts, pdu| s.on_encap(dir, ts, &pdu, &mut ops, &mut facts));
            s.finish(&mut ops);
        }
        3 => {
            let mut s = dnp3::Session::default();
            drive(&dnp3::Parser, &chunks, |dir, ts, pdu| s.on_frame(dir, ts, &pdu, &mut ops, &mut facts));
            s.finish(&mut ops);
        }
        _ => {
            let mut s = dnp3::Session::default();
            for (i, &(dir, _, bytes)) in chunks.iter().enumerate() {
                let _ = s.on_datagram(dir, i as i64, bytes, &mut ops, &mut facts);
                let _ = enip::parse_datagram(bytes);
            }
            s.finish(&mut ops);
        }
    }
});
