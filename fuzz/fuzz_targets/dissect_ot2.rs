//! Fuzzes the OPC UA, Omron FINS and SLMP dissectors: stream framing, parsers and
//! sessions together.
//!
//! Input: one byte choosing the protocol (`% 4`: 0 OPC UA, 1 FINS/TCP, 2 SLMP over
//! TCP; 3 every chunk as a UDP datagram to FINS and SLMP), then chunks, each a
//! control byte (bit 0: direction, bit 1: a reassembly gap before the chunk) and a
//! length byte, then that many bytes (the last chunk takes what is left). Every
//! chunk goes through the protocol's `StreamBuffer` and session; the sessions are
//! finished at the end, and every operation is one the input could have asked for.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_dissect::contract::PduParser;
use mamori_dissect::ot::{fins, opcua, slmp};
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

/// Feeds the chunks through one buffer per direction, handing PDUs to `on_pdu`;
/// returns how many PDUs were framed.
fn drive<P: PduParser>(parser: &P, chunks: &[Chunk<'_>], mut on_pdu: impl FnMut(Direction, i64, P::Pdu<'_>)) -> u64 {
    let mut bufs = [StreamBuffer::new(), StreamBuffer::new()];
    for (i, &(dir, gap, bytes)) in chunks.iter().enumerate() {
        let buf = &mut bufs[dir.index()];
        if gap {
            buf.gap(bytes.len() as u64 + 1);
        }
        buf.feed(parser, dir, bytes, |pdu| on_pdu(dir, i as i64, pdu));
        assert!(buf.held() <= P::MAX_PDU);
    }
    bufs.iter().map(|b| b.stats().pdus).sum()
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let chunks = chunks(rest);
    let (mut ops, mut facts) = (Vec::new(), Vec::new());
    let pdus = match selector % 4 {
        0 => {
            let mut s = opcua::Session::default();
            let n = drive(&opcua::Parser, &chunks, |dir, ts, c| s.on_chunk(dir, ts, &c, &mut ops, &mut facts));
            s.finish(&mut ops);
            n
        }
        1 => {
            let mut s = fins::Session::default();
            let n = drive(&fins::TcpParser, &chunks, |dir, ts, m| s.on_tcp(dir, ts, &m, &mut ops, &mut facts));
            s.finish(&mut ops);
            n
        }
        2 => {
            let mut s = slmp::Session::default();
            let n = drive(&slmp::Parser, &chunks, |dir, ts, f| s.on_frame(dir, ts, &f, &mut ops, &mut facts));
            s.finish(&mut ops);
            n
        }
        _ => {
            let mut f = fins::Session::default();
            let mut s = slmp::Session::default();
            for (i, &(dir, _, bytes)) in chunks.iter().enumerate() {
                f.on_datagram(dir, i as i64, bytes, &mut ops, &mut facts);
                s.on_datagram(dir, i as i64, bytes, &mut ops, &mut facts);
            }
            f.finish(&mut ops);
            s.finish(&mut ops);
            2 * chunks.len() as u64
        }
    };
    // At most one operation per PDU (or datagram), and every fact names a value.
    assert!(ops.len() as u64 <= pdus, "{} ops from {pdus} PDUs", ops.len());
    assert!(facts.iter().all(|f| !f.value.is_empty()));
});
