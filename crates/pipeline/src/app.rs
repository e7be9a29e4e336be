//! The application layer of a flow: TCP reassembly feeding an OT dissector.
//!
//! A flow gets a dissector when its server port is one an OT protocol registers
//! (Modbus 502, S7comm 102, EtherNet/IP 44818, DNP3 20000, IEC 104 2404); the
//! dissector then decides from the bytes whether the flow really is that protocol.
//! Only such flows pay for reassembly. Each request the dissector finishes becomes an
//! [`OtEvent`] (a row of `ot.jsonl`), and the flow's `service` names the protocol once
//! a request was seen.

use std::net::IpAddr;

use mamori_dissect::ot::{dnp3, enip, iec104, modbus, s7comm};
use mamori_dissect::record::{IdentityFact, OtOperation};
use mamori_dissect::stream::StreamBuffer;
use mamori_flow::reassembly::{Chunk, ReassemblyConfig, StreamReassembler};
use mamori_flow::{ConnRecord, Direction, ServiceSet, Uid};
use mamori_wire::decode::{MacAddr, TcpSegment};

use crate::event::{Event, OtEvent};

/// Who a flow's operations are between (fixed for the flow's life).
#[derive(Debug, Clone, Copy)]
pub(crate) struct FlowInfo {
    pub(crate) uid: Uid,
    pub(crate) orig: (IpAddr, u16),
    pub(crate) resp: (IpAddr, u16),
    pub(crate) l2: [Option<MacAddr>; 2],
}

/// One protocol's session.
#[derive(Debug)]
enum Session {
    Modbus(modbus::Session),
    S7(s7comm::Session),
    Enip(enip::Session),
    Dnp3(dnp3::Session),
    Iec104(iec104::Session),
}

impl Session {
    fn for_port(port: u16) -> Option<(Session, &'static str)> {
        Some(match port {
            modbus::PORT => (Session::Modbus(modbus::Session::default()), "modbus"),
            102 => (Session::S7(s7comm::Session::default()), "s7comm"),
            44818 => (Session::Enip(enip::Session::default()), "enip"),
            20000 => (Session::Dnp3(dnp3::Session::default()), "dnp3"),
            2404 => (Session::Iec104(iec104::Session::default()), "iec104"),
            _ => return None,
        })
    }

    fn finish(&mut self, ops: &mut Vec<OtOperation>) {
        match self {
            Session::Modbus(s) => s.finish(ops),
            Session::S7(s) => s.finish(ops),
            Session::Enip(s) => s.finish(ops),
            Session::Dnp3(s) => s.finish(ops),
            Session::Iec104(s) => s.finish(ops),
        }
    }
}

/// Reassembly and dissection state of one TCP flow.
#[derive(Debug)]
struct TcpApp {
    reassembly: [StreamReassembler; 2],
    framing: [StreamBuffer; 2],
    session: Session,
    service: &'static str,
    /// Whether the server is the flow's responder (else its originator).
    server_is_resp: bool,
    /// Operations emitted so far (orders events of equal time within the flow).
    seq: u32,
}

/// Per-flow application state, owned by the flow table as the flow's extension.
#[derive(Debug, Default)]
pub struct FlowApp {
    decided: bool,
    tcp: Option<Box<TcpApp>>,
}

impl FlowApp {
    /// Takes one TCP segment travelling in `dir` of the flow `info` describes; finished
    /// operations become events in `out`.
    pub(crate) fn on_tcp(
        &mut self,
        info: &FlowInfo,
        dir: Direction,
        ts: i64,
        seg: &TcpSegment<'_>,
        services: &mut ServiceSet,
        out: &mut Vec<Event>,
    ) {
        if !self.decided {
            self.decided = true;
            let (o, r) = (info.orig.1, info.resp.1);
            let chosen = Session::for_port(r)
                .map(|s| (s, true))
                .or_else(|| Session::for_port(o).map(|s| (s, false)));
            self.tcp = chosen.map(|((session, service), server_is_resp)| {
                Box::new(TcpApp {
                    reassembly: Default::default(),
                    framing: Default::default(),
                    session,
                    service,
                    server_is_resp,
                    seq: 0,
                })
            });
        }
        let Some(app) = self.tcp.as_deref_mut() else {
            return;
        };
        let mut ops = Vec::new();
        let TcpApp {
            reassembly,
            framing,
            session,
            server_is_resp,
            ..
        } = app;
        let config = ReassemblyConfig::default();
        // Towards the server is `Orig` for the dissectors, whatever the flow's orientation.
        let to_dissector = |d: Direction| if *server_is_resp { d } else { d.reverse() };
        let mut feed = |d: Direction, chunk: Chunk<'_>| {
            feed_chunk(
                session,
                &mut framing[d.index()],
                to_dissector(d),
                ts,
                chunk,
                &mut ops,
            )
        };
        if seg.flags.ack() {
            reassembly[dir.reverse().index()]
                .acknowledged(seg.ack, &mut |c| feed(dir.reverse(), c));
        }
        reassembly[dir.index()].segment(seg.seq, seg.flags.syn(), seg.payload, &config, &mut |c| {
            feed(dir, c)
        });
        if !ops.is_empty() {
            services.insert_name(app.service);
        }
        emit(app, info, ops, out);
    }

    /// The flow ended: requests still waiting become unanswered operations.
    pub(crate) fn finish(self, record: &ConnRecord, out: &mut Vec<Event>) {
        let Some(mut app) = self.tcp else { return };
        let mut ops = Vec::new();
        app.session.finish(&mut ops);
        let (Some(o), Some(r)) = (record.orig.addr, record.resp.addr) else {
            return;
        };
        let info = FlowInfo {
            uid: record.uid,
            orig: (o, record.orig.port),
            resp: (r, record.resp.port),
            l2: [record.orig.l2, record.resp.l2],
        };
        emit(&mut app, &info, ops, out);
    }
}

fn feed_chunk(
    session: &mut Session,
    framing: &mut StreamBuffer,
    dir: Direction,
    ts: i64,
    chunk: Chunk<'_>,
    ops: &mut Vec<OtOperation>,
) {
    let mut facts: Vec<IdentityFact> = Vec::new();
    match chunk {
        Chunk::Gap(n) => framing.gap(n),
        Chunk::Data(bytes) => match session {
            Session::Modbus(s) => framing.feed(&modbus::Parser, dir, bytes, |p| {
                s.on_adu(dir, ts, &p, ops, &mut facts)
            }),
            Session::S7(s) => framing.feed(&s7comm::Parser, dir, bytes, |p| {
                s.on_tpdu(dir, ts, &p, ops, &mut facts)
            }),
            Session::Enip(s) => framing.feed(&enip::Parser, dir, bytes, |p| {
                s.on_encap(dir, ts, &p, ops, &mut facts)
            }),
            Session::Dnp3(s) => framing.feed(&dnp3::Parser, dir, bytes, |p| {
                s.on_frame(dir, ts, &p, ops, &mut facts)
            }),
            Session::Iec104(s) => framing.feed(&iec104::Parser, dir, bytes, |p| {
                s.on_apdu(dir, ts, &p, ops, &mut facts)
            }),
        },
    }
    // Identity facts go to the asset ledger once it exists.
}

fn emit(app: &mut TcpApp, info: &FlowInfo, ops: Vec<OtOperation>, out: &mut Vec<Event>) {
    for op in ops {
        app.seq += 1;
        out.push(Event::Ot(Box::new(OtEvent {
            uid: info.uid,
            seq: app.seq,
            orig: Some(info.orig),
            resp: Some(info.resp),
            orig_l2: info.l2[0],
            resp_l2: info.l2[1],
            op,
        })));
    }
}
