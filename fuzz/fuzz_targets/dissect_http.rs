//! Fuzzes the HTTP dissector: see `fuzz/README.md` for the input format.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_flow::Direction;
use mamori_dissect::contract::PduParser;
use mamori_dissect::it::http;
use mamori_dissect::stream::StreamBuffer;

// Input: chunks, each a control byte (bit 0: direction, bit 1: a reassembly gap of
// `len + 1` bytes before the chunk) and a length byte, then that many bytes (the last
// chunk takes what is left). The chunks go through an `http::Session` and, separately,
// through a `StreamBuffer` with the bare `HeadParser`.
fuzz_target!(|data: &[u8]| {
    let mut session = http::Session::new();
    let mut bufs = [StreamBuffer::new(), StreamBuffer::new()];
    let (mut records, mut facts) = (Vec::new(), Vec::new());
    let mut rest = data;
    let mut ts = 0;
    while let [control, len, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let dir = if control & 1 == 0 { Direction::Orig } else { Direction::Resp };
        let bytes = &tail[..n];
        rest = &tail[n..];
        ts += 1;
        if control & 2 != 0 {
            session.on_gap(dir, n as u64 + 1);
            bufs[dir.index()].gap(n as u64 + 1);
        }
        session.on_data(dir, ts, bytes, &mut records, &mut facts);
        bufs[dir.index()].feed(&http::HeadParser, dir, bytes, |h| {
            assert!(h.header_block.len() < http::MAX_HEAD);
        });
        assert!(bufs[dir.index()].held() <= http::HeadParser::MAX_PDU);
    }
    session.finish(&mut records);
    for r in &records {
        assert!(r.trans_depth >= 1);
    }
});
