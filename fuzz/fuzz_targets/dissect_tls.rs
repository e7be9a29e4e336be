//! Fuzzes the TLS dissector: see `fuzz/README.md` for the input format.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_flow::Direction;
use mamori_dissect::contract::PduParser;
use mamori_dissect::it::tls;
use mamori_dissect::stream::StreamBuffer;

// Input: chunks as for `dissect_http` (control byte: bit 0 direction, bit 1 a gap of
// `len + 1` bytes first; length byte; bytes). The chunks go through a `tls::Session`
// and, separately, a `StreamBuffer` with the bare `RecordParser`, whose handshake
// fragments are also offered to the hello and certificate parsers directly.
fuzz_target!(|data: &[u8]| {
    let mut session = tls::Session::new();
    let mut bufs = [StreamBuffer::new(), StreamBuffer::new()];
    let mut facts = Vec::new();
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
        session.on_data(dir, ts, bytes, &mut facts);
        bufs[dir.index()].feed(&tls::RecordParser, dir, bytes, |r| {
            if let Some(body) = r.fragment.get(4..) {
                if let Some(ch) = tls::ClientHello::parse(body) {
                    let _ = (ch.ja3_string(), ch.ja4());
                }
                if let Some(sh) = tls::ServerHello::parse(body) {
                    let _ = sh.ja3s_string();
                }
                let _ = tls::certificate::Certificate::parse(body);
            }
        });
        assert!(bufs[dir.index()].held() <= tls::RecordParser::MAX_PDU);
    }
    let mut records = Vec::new();
    session.finish(&mut records);
    assert!(records.len() <= 1);
});
