//! Layer-2 protocols of one worker: LLDP, CDP, PROFINET DCP and CC-Link IE.
//!
//! These frames have no IP flow. The reader routes them by their MAC pair, so a
//! worker sees both directions of a request and its unicast response; one session
//! per protocol and worker keeps their (bounded) state. What they tell becomes the
//! same events as for IP protocols: identity facts about the sender's MAC, and OT
//! operations whose `uid` is derived from the protocol and the MAC pair (there is no
//! flow to name) and whose IP ends are absent.

use mamori_dissect::it::{cdp, lldp};
use mamori_dissect::ot::l2::L2Operation;
use mamori_dissect::ot::{cclink_ie, cyclic, pn_dcp};
use mamori_dissect::record::{IdentityFact, Subject};
use mamori_flow::Uid;
use mamori_wire::decode::MacAddr;

use crate::event::{Aggregate, Event, IdentityEvent, OtEvent};

/// The layer-2 sessions of one worker.
#[derive(Debug, Default)]
pub(crate) struct L2Stage {
    dcp: pn_dcp::Session,
    cclink: cclink_ie::Session,
    /// Events emitted (orders events of equal time).
    seq: u32,
    facts: Vec<IdentityFact>,
    ops: Vec<L2Operation>,
    counts: Vec<cyclic::Aggregate<cclink_ie::CountKey>>,
}

/// A stable uid for the operations between two MACs of one protocol.
fn l2_uid(protocol: &str, a: MacAddr, b: MacAddr) -> Uid {
    // FNV-1a over the protocol name and both addresses, widened to Zeek's 96 bits.
    let mut h: u128 = 0x6c62272e07bb014262b821756295c58d;
    for &byte in protocol.as_bytes().iter().chain(&a.0).chain(&b.0) {
        h ^= u128::from(byte);
        h = h.wrapping_mul(0x0000000001000000000000000000013B);
    }
    Uid(h & ((1u128 << 96) - 1))
}

impl L2Stage {
    /// Takes a frame identified by EtherType (`payload` follows the EtherType).
    /// Returns whether a dissector took it.
    pub(crate) fn ethertype(
        &mut self,
        ts: i64,
        src: Option<MacAddr>,
        dst: Option<MacAddr>,
        ethertype: u16,
        payload: &[u8],
        out: &mut Vec<Event>,
    ) -> bool {
        let (Some(src), Some(dst)) = (src, dst) else {
            return false;
        };
        let taken = match ethertype {
            lldp::ETHERTYPE => match lldp::Lldpdu::parse(payload) {
                Some(d) => {
                    lldp::identity(src, &d, &mut self.facts);
                    true
                }
                None => false,
            },
            pn_dcp::ETHERTYPE => {
                self.dcp
                    .on_frame(src, dst, ts, payload, &mut self.ops, &mut self.facts)
            }
            cclink_ie::ETHERTYPE => {
                self.cclink
                    .on_frame(src, dst, ts, payload, &mut self.ops, &mut self.counts)
            }
            _ => false,
        };
        self.emit(ts, out);
        taken
    }

    /// Takes an 802.3 frame with LLC/SNAP (CDP). Returns whether a dissector took it.
    pub(crate) fn snap(
        &mut self,
        ts: i64,
        src: Option<MacAddr>,
        snap: (u32, u16),
        payload: &[u8],
        out: &mut Vec<Event>,
    ) -> bool {
        let Some(src) = src else { return false };
        if snap != (cdp::SNAP_OUI, cdp::SNAP_PID) {
            return false;
        }
        let Some(d) = cdp::Cdp::parse(payload) else {
            return false;
        };
        cdp::identity(src, &d, &mut self.facts);
        self.emit(ts, out);
        true
    }

    /// Reports requests whose response window closed.
    pub(crate) fn tick(&mut self, now: i64, out: &mut Vec<Event>) {
        self.dcp.tick(now, &mut self.ops);
        self.cclink.tick(now, &mut self.ops);
        self.emit(now, out);
    }

    /// End of input: every open record and waiting request is reported.
    pub(crate) fn finish(&mut self, now: i64, out: &mut Vec<Event>) {
        self.dcp.finish(&mut self.ops);
        self.cclink.finish(&mut self.ops, &mut self.counts);
        self.emit(now, out);
    }

    fn emit(&mut self, ts: i64, out: &mut Vec<Event>) {
        for fact in self.facts.drain(..) {
            let (ip, mac, uid) = match fact.about {
                Subject::Mac(mac) => (None, Some(mac), l2_uid(fact.protocol, mac, mac)),
                Subject::Ip(ip) => (
                    Some(ip),
                    None,
                    l2_uid(fact.protocol, MacAddr::default(), MacAddr::default()),
                ),
                // Layer-2 dissectors name their subject by MAC; a side has no meaning here.
                Subject::Side(_) => continue,
            };
            // The uid names the sender, whose frames all reach this worker; `seq` 0
            // leaves facts of one frame in the order given (the sort is stable), so
            // the order does not depend on what else this worker saw.
            out.push(Event::Identity(Box::new(IdentityEvent {
                ts,
                uid: Some(uid),
                seq: 0,
                ip,
                mac,
                kind: fact.kind,
                value: fact.value,
                protocol: fact.protocol,
            })));
        }
        let ops = self.ops.drain(..).map(|o| (o.orig, o.resp, o.op, None));
        let counts = self.counts.drain(..).map(|a| {
            let aggregate = Aggregate {
                count: a.count,
                ts_end: a.ts_end,
            };
            (a.key.orig, a.key.resp, a.op, Some(aggregate))
        });
        for (orig, resp, op, aggregate) in ops.chain(counts) {
            self.seq += 1;
            out.push(Event::Ot(Box::new(OtEvent {
                uid: l2_uid(op.protocol, orig, resp),
                seq: self.seq,
                orig: None,
                resp: None,
                orig_l2: Some(orig),
                resp_l2: Some(resp),
                op,
                aggregate,
            })));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer2_uids_are_stable_and_differ_by_protocol_and_direction() {
        let (a, b) = (MacAddr([0, 1, 2, 3, 4, 5]), MacAddr([0, 1, 2, 3, 4, 6]));
        assert_eq!(l2_uid("profinet-dcp", a, b), l2_uid("profinet-dcp", a, b));
        assert_ne!(l2_uid("profinet-dcp", a, b), l2_uid("cclink-ie", a, b));
        assert_ne!(l2_uid("profinet-dcp", a, b), l2_uid("profinet-dcp", b, a));
        assert!(l2_uid("cclink-ie", a, b).0 < 1 << 96);
    }
}
