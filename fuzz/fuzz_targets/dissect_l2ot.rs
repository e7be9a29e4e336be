//! Fuzzes the layer-2 and UDP OT dissectors that count cyclic traffic: PROFINET DCP,
//! CC-Link IE Field/Control and CC-Link IE Field Basic.
//!
//! Input: frames, each a control byte (bit 0: direction — which of two MACs or flow
//! sides sends; bits 1-7: seconds since the previous frame, so request windows and
//! minutes close) and a length byte, then that many bytes (the last frame takes what
//! is left). Every frame goes to all three sessions; they are finished at the end.
//! Checks: no panic; every operation's time is a frame's; every per-minute record
//! counts at least one frame and ends no earlier than it starts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_dissect::ot::{cclink_ie, cclink_iefb, pn_dcp};
use mamori_flow::Direction;
use mamori_wire::decode::MacAddr;

const A: MacAddr = MacAddr([0x00, 0x0c, 0x29, 0xba, 0x09, 0xea]);
const B: MacAddr = MacAddr([0x01, 0x0e, 0xcf, 0x00, 0x00, 0x00]);

fuzz_target!(|data: &[u8]| {
    let mut dcp = pn_dcp::Session::default();
    let mut ie = cclink_ie::Session::default();
    let mut iefb = cclink_iefb::Session::default();
    let (mut l2_ops, mut ops, mut facts) = (Vec::new(), Vec::new(), Vec::new());
    let (mut counts, mut cyclic) = (Vec::new(), Vec::new());
    let mut ts: i64 = 1_600_000_000_000_000_000;
    let mut rest = data;
    while let [control, len, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let bytes = &tail[..n];
        rest = &tail[n..];
        ts += i64::from(control >> 1) * 1_000_000_000;
        let (src, dst, dir) = if control & 1 == 0 {
            (A, B, Direction::Orig)
        } else {
            (B, A, Direction::Resp)
        };
        dcp.on_frame(src, dst, ts, bytes, &mut l2_ops, &mut facts);
        ie.on_frame(src, dst, ts, bytes, &mut l2_ops, &mut counts);
        iefb.on_datagram(dir, ts, bytes, &mut ops, &mut cyclic, &mut facts);
        let _ = pn_dcp::parse_frame(bytes).map(|f| f.blocks().count());
    }
    dcp.finish(&mut l2_ops);
    ie.finish(&mut l2_ops, &mut counts);
    iefb.finish(&mut ops, &mut cyclic);
    let first = 1_600_000_000_000_000_000;
    assert!(l2_ops.iter().all(|o| o.op.ts >= first && o.op.ts <= ts));
    assert!(ops.iter().all(|o| o.ts >= first && o.ts <= ts));
    assert!(counts.iter().all(|a| a.count >= 1 && a.ts_end >= a.op.ts));
    assert!(cyclic.iter().all(|a| a.count >= 1 && a.ts_end >= a.op.ts));
});
