//! The application layer of a flow: TCP reassembly and UDP datagrams feeding the
//! dissectors, and what they tell turned into events.
//!
//! A flow gets a dissector when one of its ports is one a protocol registers (the
//! server port is preferred: Modbus 502, S7comm 102, EtherNet/IP 44818, DNP3 20000,
//! IEC 104 2404 over TCP; DNS 53, mDNS 5353, LLMNR 5355, NetBIOS 137, BACnet 47808,
//! DNP3 20000 and EtherNet/IP 44818 over UDP); the dissector then decides from the
//! bytes whether the flow really is that protocol. The port is only a hint: the first
//! payload is probed once (`mamori_dissect::probe`), so a flow on an unregistered port
//! that opens like Modbus gets the Modbus dissector, and a flow on port 502 that opens
//! with an HTTP request gets HTTP's. Only TCP flows with a dissector pay for
//! reassembly. DHCP is not here: its messages hop between flows (a client without
//! an address broadcasts), so one session per worker takes them (see the worker).
//!
//! What comes out: [`OtEvent`]s (rows of `ot.jsonl`), [`DnsEvent`]s (`dns.jsonl`),
//! [`IdentityEvent`]s (facts resolved from a flow side to its IP and MAC) and, from
//! the first SYN and SYN+ACK of every TCP flow, [`TcpSynEvent`]s for OS fingerprints.
//! A flow's `service` names a protocol once the dissector recognised a PDU of it.

use std::net::IpAddr;

use mamori_dissect::it::{browser, dns, http, nbns, ssdp, tls};
use mamori_dissect::ot::{
    bacnet, cclink_iefb, cyclic, dnp3, enip, fins, iec104, modbus, opcua, s7comm, slmp,
};
use mamori_dissect::record::{Category, Function, IdentityFact, OtOperation, Status, Subject};
use mamori_dissect::stream::StreamBuffer;
use mamori_flow::reassembly::{Chunk, ReassemblyConfig, StreamReassembler};
use mamori_flow::{ConnRecord, Direction, ServiceSet, Uid};
use mamori_wire::decode::{IpPacket, MacAddr, TcpSegment};

use crate::event::{
    Aggregate, DnsEvent, Event, FlowEnds, HttpEvent, IdentityEvent, OtEvent, RuleHitEvent,
    TcpSynEvent, TlsEvent,
};

/// A flow's identity as the flow table holds it, copied cheaply per packet and
/// resolved into a [`FlowInfo`] only when a dissector has something to report (most
/// packets do not, and deriving the uid and addresses costs more than dissecting).
#[derive(Debug, Clone, Copy)]
pub(crate) struct FlowRef {
    pub(crate) key: mamori_flow::FlowKey,
    pub(crate) first_ts: mamori_wire::Timestamp,
    pub(crate) orig: mamori_flow::key::Endpoint,
    pub(crate) resp: mamori_flow::key::Endpoint,
    pub(crate) l2: [Option<MacAddr>; 2],
}

impl FlowRef {
    pub(crate) fn resolve(&self) -> FlowInfo {
        FlowInfo {
            uid: Uid::derive(&self.key, self.first_ts),
            orig: (self.orig.ip(), self.orig.port),
            resp: (self.resp.ip(), self.resp.port),
            l2: self.l2,
        }
    }
}

/// Who a flow's events are between (fixed for the flow's life).
#[derive(Debug, Clone, Copy)]
pub(crate) struct FlowInfo {
    pub(crate) uid: Uid,
    pub(crate) orig: (IpAddr, u16),
    pub(crate) resp: (IpAddr, u16),
    pub(crate) l2: [Option<MacAddr>; 2],
}

impl FlowInfo {
    fn of(record: &ConnRecord) -> Option<FlowInfo> {
        Some(FlowInfo {
            uid: record.uid,
            orig: (record.orig.addr?, record.orig.port),
            resp: (record.resp.addr?, record.resp.port),
            l2: [record.orig.l2, record.resp.l2],
        })
    }

    pub(crate) fn ends(&self) -> FlowEnds {
        FlowEnds {
            uid: self.uid,
            orig: self.orig,
            resp: self.resp,
            orig_l2: self.l2[0],
            resp_l2: self.l2[1],
        }
    }

    /// The IP and MAC of whoever sent in `dir`.
    fn side(&self, dir: Direction) -> (IpAddr, Option<MacAddr>) {
        match dir {
            Direction::Orig => (self.orig.0, self.l2[0]),
            Direction::Resp => (self.resp.0, self.l2[1]),
        }
    }
}

/// One TCP protocol's session.
#[derive(Debug)]
enum TcpSession {
    Modbus(modbus::Session),
    S7(s7comm::Session),
    Enip(enip::Session),
    Dnp3(dnp3::Session),
    Iec104(iec104::Session),
    OpcUa(Box<opcua::Session>),
    Slmp(Box<slmp::Session>),
    Fins(Box<fins::Session>),
    Http(Box<http::Session>),
    Tls(Box<tls::Session>),
}

impl TcpSession {
    fn for_port(port: u16) -> Option<(TcpSession, &'static str)> {
        Some(match port {
            modbus::PORT => (TcpSession::Modbus(modbus::Session::default()), "modbus"),
            102 => (TcpSession::S7(s7comm::Session::default()), "s7comm"),
            enip::PORT => (TcpSession::Enip(enip::Session::default()), "enip"),
            dnp3::PORT => (TcpSession::Dnp3(dnp3::Session::default()), "dnp3"),
            2404 => (TcpSession::Iec104(iec104::Session::default()), "iec104"),
            opcua::PORT => (TcpSession::OpcUa(Box::default()), "opcua"),
            fins::PORT => (TcpSession::Fins(Box::default()), "fins"),
            p if slmp::COMMON_PORTS.contains(&p) => (TcpSession::Slmp(Box::default()), "slmp"),
            p if http::PORTS.contains(&p) => (TcpSession::Http(Box::default()), "http"),
            p if tls::PORTS.contains(&p) => (TcpSession::Tls(Box::default()), "ssl"),
            _ => return None,
        })
    }

    /// Whether the session recognised its protocol in the bytes so far (for the
    /// protocols that report no operations).
    fn recognised(&self) -> bool {
        match self {
            TcpSession::Http(s) => s.recognised(),
            TcpSession::Tls(s) => s.recognised(),
            _ => false,
        }
    }

    fn finish(&mut self, out: &mut Outputs) {
        match self {
            TcpSession::Modbus(s) => s.finish(&mut out.ops),
            TcpSession::S7(s) => s.finish(&mut out.ops),
            TcpSession::Enip(s) => s.finish(&mut out.ops),
            TcpSession::Dnp3(s) => s.finish(&mut out.ops),
            TcpSession::Iec104(s) => s.finish(&mut out.ops),
            TcpSession::OpcUa(s) => s.finish(&mut out.ops),
            TcpSession::Slmp(s) => s.finish(&mut out.ops),
            TcpSession::Fins(s) => s.finish(&mut out.ops),
            TcpSession::Http(s) => s.finish(&mut out.http),
            TcpSession::Tls(s) => {
                if s.recognised() {
                    let mut records = Vec::new();
                    s.finish(&mut records);
                    out.tls.extend(records);
                }
            }
        }
    }
}

/// Cyclic exchanges of one flow, counted per minute of packet time: each finished
/// minute becomes one aggregated operation (`count`, `ts_end` in `ot.jsonl`), so that
/// I/O repeated every few milliseconds does not flood the log.
#[derive(Debug)]
struct Cyclic {
    template: OtOperation,
    minute: i64,
    count: u64,
    first: i64,
    last: i64,
}

/// Nanoseconds in a minute.
const MINUTE: i64 = 60_000_000_000;

impl Cyclic {
    fn new(template: OtOperation) -> Self {
        Cyclic {
            template,
            minute: i64::MIN,
            count: 0,
            first: 0,
            last: 0,
        }
    }

    /// Counts one exchange at `ts`; a new minute closes the previous one.
    fn count(&mut self, ts: i64, out: &mut Outputs) {
        let minute = ts.div_euclid(MINUTE);
        if minute != self.minute {
            self.flush(out);
            self.minute = minute;
            self.first = ts;
        }
        self.count += 1;
        self.last = ts;
    }

    fn flush(&mut self, out: &mut Outputs) {
        if self.count == 0 {
            return;
        }
        let mut op = self.template.clone();
        op.ts = self.first;
        out.cyclic.push((
            op,
            Aggregate {
                count: self.count,
                ts_end: self.last,
            },
        ));
        self.count = 0;
    }
}

/// The aggregated operation for EtherNet/IP implicit (class 0/1) I/O on UDP 2222.
fn enip_io() -> OtOperation {
    OtOperation {
        protocol: "enip",
        pdu: Some("io"),
        function: Function {
            code: 0x00B1,
            name: "implicit_io",
            category: Category::Cyclic,
        },
        target: String::new(),
        status: Status::Ok,
        flags: Default::default(),
        ts: 0,
    }
}

/// One UDP protocol's session.
#[derive(Debug)]
enum UdpSession {
    Dns(dns::Session),
    Nbns,
    Bacnet(Box<bacnet::Session>),
    Dnp3(Box<dnp3::Session>),
    Enip(Box<enip::Session>),
    EnipIo(Box<Cyclic>),
    Ssdp,
    Browser,
    Fins(Box<fins::Session>),
    Slmp(Box<slmp::Session>),
    CclinkIefb(Box<cclink_iefb::Session>),
}

impl UdpSession {
    fn for_port(port: u16) -> Option<(UdpSession, &'static str)> {
        let variant = |v: dns::Variant| (UdpSession::Dns(dns::Session::new(v)), v.as_str());
        Some(match port {
            dns::PORT => variant(dns::Variant::Dns),
            dns::MDNS_PORT => variant(dns::Variant::Mdns),
            dns::LLMNR_PORT => variant(dns::Variant::Llmnr),
            nbns::PORT => (UdpSession::Nbns, "netbios-ns"),
            bacnet::PORT => (UdpSession::Bacnet(Box::default()), "bacnet"),
            dnp3::PORT => (UdpSession::Dnp3(Box::default()), "dnp3"),
            enip::PORT => (UdpSession::Enip(Box::default()), "enip"),
            enip::IO_PORT => (UdpSession::EnipIo(Box::new(Cyclic::new(enip_io()))), "enip"),
            ssdp::PORT => (UdpSession::Ssdp, "ssdp"),
            browser::PORT => (UdpSession::Browser, "browser"),
            fins::PORT => (UdpSession::Fins(Box::default()), "fins"),
            cclink_iefb::PORT_CYCLIC | cclink_iefb::PORT_DISCOVERY => {
                (UdpSession::CclinkIefb(Box::default()), "cclink-ief-basic")
            }
            p if slmp::COMMON_PORTS.contains(&p) => (UdpSession::Slmp(Box::default()), "slmp"),
            _ => return None,
        })
    }

    /// Takes one datagram travelling in `dir` (towards the registered port is
    /// `Orig`); returns whether it was this protocol.
    fn datagram(&mut self, dir: Direction, ts: i64, payload: &[u8], out: &mut Outputs) -> bool {
        match self {
            UdpSession::Dns(s) => match dns::Message::parse(payload) {
                Some(m) => {
                    s.on_message(dir, ts, &m, &mut out.dns, &mut out.facts);
                    true
                }
                None => false,
            },
            UdpSession::Nbns => match nbns::Message::parse(payload) {
                Some(m) => {
                    nbns::identity(dir, &m, &mut out.facts);
                    true
                }
                None => false,
            },
            UdpSession::Bacnet(s) => s.on_datagram(dir, ts, payload, &mut out.ops, &mut out.facts),
            UdpSession::Dnp3(s) => s.on_datagram(dir, ts, payload, &mut out.ops, &mut out.facts),
            UdpSession::Enip(s) => match enip::parse_datagram(payload) {
                enip::Datagram::Encapsulation(encap) => {
                    s.on_encap(dir, ts, &encap, &mut out.ops, &mut out.facts);
                    true
                }
                _ => false,
            },
            UdpSession::EnipIo(cyclic) => match enip::parse_datagram(payload) {
                enip::Datagram::ImplicitIo { .. } => {
                    cyclic.count(ts, out);
                    true
                }
                _ => false,
            },
            UdpSession::Ssdp => match ssdp::Message::parse(payload) {
                Some(m) => {
                    ssdp::identity(dir, &m, &mut out.facts);
                    true
                }
                None => false,
            },
            UdpSession::Browser => match browser::Datagram::parse(payload) {
                Some(d) => {
                    browser::identity(dir, &d, &mut out.facts);
                    true
                }
                None => false,
            },
            UdpSession::Fins(s) => s.on_datagram(dir, ts, payload, &mut out.ops, &mut out.facts),
            UdpSession::Slmp(s) => s.on_datagram(dir, ts, payload, &mut out.ops, &mut out.facts),
            UdpSession::CclinkIefb(s) => {
                let mut closed = Vec::new();
                let ok = s.on_datagram(dir, ts, payload, &mut out.ops, &mut closed, &mut out.facts);
                out.add_aggregates(closed);
                ok
            }
        }
    }

    fn finish(&mut self, out: &mut Outputs) {
        match self {
            UdpSession::Dns(s) => s.finish(&mut out.dns),
            UdpSession::Nbns => {}
            UdpSession::Bacnet(s) => s.finish(&mut out.ops),
            UdpSession::Dnp3(s) => s.finish(&mut out.ops),
            UdpSession::Enip(s) => s.finish(&mut out.ops),
            UdpSession::EnipIo(cyclic) => cyclic.flush(out),
            UdpSession::Ssdp | UdpSession::Browser => {}
            UdpSession::Fins(s) => s.finish(&mut out.ops),
            UdpSession::Slmp(s) => s.finish(&mut out.ops),
            UdpSession::CclinkIefb(s) => {
                let mut closed = Vec::new();
                s.finish(&mut out.ops, &mut closed);
                out.add_aggregates(closed);
            }
        }
    }
}

/// What a flow's dissector produced from one packet (or at its end), before it
/// becomes events.
#[derive(Debug, Default)]
struct Outputs {
    ops: Vec<OtOperation>,
    cyclic: Vec<(OtOperation, Aggregate)>,
    facts: Vec<IdentityFact>,
    dns: Vec<dns::DnsRecord>,
    http: Vec<http::HttpRecord>,
    tls: Vec<tls::TlsRecord>,
}

impl Outputs {
    fn is_empty(&self) -> bool {
        self.ops.is_empty()
            && self.cyclic.is_empty()
            && self.facts.is_empty()
            && self.dns.is_empty()
            && self.http.is_empty()
            && self.tls.is_empty()
    }

    /// Takes a dissector's closed per-minute records.
    fn add_aggregates<K>(&mut self, closed: Vec<cyclic::Aggregate<K>>) {
        self.cyclic.extend(closed.into_iter().map(|a| {
            (
                a.op,
                Aggregate {
                    count: a.count,
                    ts_end: a.ts_end,
                },
            )
        }));
    }
}

/// Reassembly and dissection state of one TCP flow.
#[derive(Debug)]
struct TcpApp {
    reassembly: [StreamReassembler; 2],
    framing: [StreamBuffer; 2],
    session: TcpSession,
}

/// A flow's dissector: TCP with reassembly, or UDP datagrams.
#[derive(Debug)]
enum Dissector {
    Tcp(Box<TcpApp>),
    Udp(UdpSession),
}

/// Per-flow application state, owned by the flow table as the flow's extension.
#[derive(Debug, Default)]
///
/// Kept small (32 bytes): a million flows carry one each, and the flow table's
/// memory cap counts on it. What only dissected flows need lives behind a box.
pub struct FlowApp {
    decided: bool,
    dissector: Option<Box<Dissector>>,
    /// The dissector's service, as an index into [`mamori_flow::service::NAMES`].
    service: Option<u8>,
    /// Whether the dissector's server is the flow's responder (else its originator).
    server_is_orig: bool,
    /// SYN fingerprints taken (bit 0: SYN, bit 1: SYN+ACK).
    syn_seen: u8,
    /// Signature rules' per-flow state (flowbits), only once a rule set one.
    rules: Option<Box<mamori_rules::FlowRuleState>>,
    /// Events emitted so far (orders events of equal time within the flow).
    seq: u32,
    /// Whether the first payload was probed (see [`FlowApp::decide`]).
    probed: bool,
}

impl FlowApp {
    /// Picks the dissector: from the flow's (originator, responder) ports on its first
    /// packet, then, once, from the content of its first payload (travelling in
    /// `dir`): a flow on no registered port gets the dissector whose probe the payload
    /// passes (`mamori_dissect::probe`), and one whose port's protocol the payload fails
    /// while passing another's is handed to that other (the port is only a hint).
    pub(crate) fn decide(&mut self, ports: (u16, u16), tcp: bool, dir: Direction, payload: &[u8]) {
        if self.probed {
            return;
        }
        if !self.decided {
            self.decide_by_port(ports, tcp);
        }
        if !payload.is_empty() {
            self.probed = true;
            self.decide_by_content(tcp, dir, payload);
        }
    }

    /// The first payload's verdict (see [`FlowApp::decide`]).
    #[cold]
    fn decide_by_content(&mut self, tcp: bool, dir: Direction, payload: &[u8]) {
        use mamori_dissect::probe;
        if let Some(Dissector::Udp(UdpSession::EnipIo(_))) = self.dissector.as_deref() {
            return; // implicit I/O has no header to probe
        }
        let current = self.service_name();
        if self.dissector.is_some() && probe::matches(current, tcp, payload) {
            return;
        }
        let Some(&(service, port, _)) = probe::identify(tcp, payload) else {
            return;
        };
        if service == current {
            return;
        }
        // A client PDU sent by the responder: the originator is the server.
        let server = if dir == Direction::Resp {
            (port, 0)
        } else {
            (0, port)
        };
        self.decided = false;
        self.dissector = None;
        self.decide_by_port(server, tcp);
    }

    fn decide_by_port(&mut self, (o, r): (u16, u16), tcp: bool) {
        self.decided = true;
        let chosen = if tcp {
            let pick = |p| TcpSession::for_port(p);
            pick(r)
                .map(|s| (s, false))
                .or_else(|| pick(o).map(|s| (s, true)))
                .map(|((session, service), server_is_orig)| {
                    let app = TcpApp {
                        reassembly: Default::default(),
                        framing: Default::default(),
                        session,
                    };
                    (Dissector::Tcp(Box::new(app)), service, server_is_orig)
                })
        } else {
            let pick = |p| UdpSession::for_port(p);
            pick(r)
                .map(|s| (s, false))
                .or_else(|| pick(o).map(|s| (s, true)))
                .map(|((session, service), server_is_orig)| {
                    (Dissector::Udp(session), service, server_is_orig)
                })
        };
        if let Some((dissector, service, server_is_orig)) = chosen {
            self.dissector = Some(Box::new(dissector));
            self.service = mamori_flow::service::NAMES
                .iter()
                .position(|n| *n == service)
                .and_then(|i| u8::try_from(i).ok());
            self.server_is_orig = server_is_orig;
        }
    }

    /// The dissector's service name (empty without one).
    fn service_name(&self) -> &'static str {
        self.service
            .and_then(|i| mamori_flow::service::NAMES.get(usize::from(i)).copied())
            .unwrap_or("")
    }

    /// Runs `scan` with the flow's signature state; the state is kept (boxed) only
    /// once a rule sets a flowbit, so flows without flowbits cost nothing.
    pub(crate) fn with_rule_state(&mut self, scan: impl FnOnce(&mut mamori_rules::FlowRuleState)) {
        match self.rules.as_deref_mut() {
            Some(state) => scan(state),
            None => {
                let mut state = mamori_rules::FlowRuleState::default();
                scan(&mut state);
                if state != mamori_rules::FlowRuleState::default() {
                    self.rules = Some(Box::new(state));
                }
            }
        }
    }

    /// Signature hits on a packet travelling in `dir` become events.
    pub(crate) fn on_rule_hits(
        &mut self,
        flow: &FlowRef,
        dir: Direction,
        ts: i64,
        hits: &[mamori_rules::Hit],
        out: &mut Vec<Event>,
    ) {
        let info = flow.resolve();
        let app_proto = Some(self.service_name()).filter(|s| !s.is_empty());
        for hit in hits {
            self.seq += 1;
            out.push(Event::RuleHit(Box::new(RuleHitEvent {
                ts,
                ends: info.ends(),
                from_orig: dir == Direction::Orig,
                seq: self.seq,
                gid: hit.gid,
                sid: hit.sid,
                rev: hit.rev,
                msg: std::sync::Arc::clone(&hit.msg),
                classtype: hit.classtype.clone(),
                priority: hit.priority,
                app_proto,
            })));
        }
    }

    /// Whether the flow has a dissector (after [`FlowApp::decide`]).
    pub(crate) fn dissects(&self) -> bool {
        self.dissector.is_some()
    }

    /// The dissector's direction for a flow direction (`Orig` = towards its server);
    /// the mapping is its own inverse.
    fn to_dissector(&self, d: Direction) -> Direction {
        if self.server_is_orig { d.reverse() } else { d }
    }

    /// Takes the fingerprint fields of a SYN or SYN+ACK, the first of each per flow.
    pub(crate) fn on_syn(
        &mut self,
        flow: &FlowRef,
        dir: Direction,
        ts: i64,
        ip: &IpPacket<'_>,
        seg: &TcpSegment<'_>,
        out: &mut Vec<Event>,
    ) {
        let syn_ack = seg.flags.ack();
        let bit = 1u8 << u8::from(syn_ack);
        if self.syn_seen & bit != 0 {
            return;
        }
        self.syn_seen |= bit;
        let info = flow.resolve();
        let (addr, mac) = info.side(dir);
        let header = ip.header;
        let (ip_opt_len, ecn, flow_label) = if ip.version == 4 {
            let opt = header.len().saturating_sub(20).min(40) as u8;
            (opt, header.get(1).map_or(0, |b| b & 3), 0)
        } else {
            let b = |i: usize| u32::from(header.get(i).copied().unwrap_or(0));
            let ecn = ((b(1) >> 4) & 3) as u8;
            (0, ecn, ((b(1) & 0x0f) << 16) | (b(2) << 8) | b(3))
        };
        let mut options = [0u8; 40];
        let n = seg.options.len().min(40);
        options[..n].copy_from_slice(&seg.options[..n]);
        out.push(Event::TcpSyn(Box::new(TcpSynEvent {
            ts,
            uid: info.uid,
            ip: addr,
            mac,
            syn_ack,
            ttl: ip.ttl,
            df: ip.dont_fragment,
            ip_id: ip.ident,
            ip_opt_len,
            ecn,
            flow_label,
            window: seg.window,
            flags: seg.flags.0,
            seq: seg.seq,
            ack: seg.ack,
            urgent: seg.urgent,
            options,
            options_len: n as u8,
            payload_len: u16::try_from(seg.payload_len).unwrap_or(u16::MAX),
        })));
    }

    /// Takes one TCP segment travelling in `dir` of the flow `info` describes; what
    /// the dissector finishes becomes events in `out`.
    pub(crate) fn on_tcp(
        &mut self,
        flow: &FlowRef,
        dir: Direction,
        ts: i64,
        seg: &TcpSegment<'_>,
        services: &mut ServiceSet,
        out: &mut Vec<Event>,
    ) {
        let server_is_orig = self.server_is_orig;
        let service = self.service_name();
        let Some(Dissector::Tcp(app)) = self.dissector.as_deref_mut() else {
            return;
        };
        let mut outputs = Outputs::default();
        let TcpApp {
            reassembly,
            framing,
            session,
        } = app.as_mut();
        let config = ReassemblyConfig::default();
        let to_dissector = |d: Direction| if server_is_orig { d.reverse() } else { d };
        let mut feed = |d: Direction, chunk: Chunk<'_>| {
            feed_chunk(
                session,
                &mut framing[d.index()],
                to_dissector(d),
                ts,
                chunk,
                &mut outputs,
            )
        };
        if seg.flags.ack() {
            reassembly[dir.reverse().index()]
                .acknowledged(seg.ack, &mut |c| feed(dir.reverse(), c));
        }
        reassembly[dir.index()].segment(seg.seq, seg.flags.syn(), seg.payload, &config, &mut |c| {
            feed(dir, c)
        });
        if !outputs.ops.is_empty() || session.recognised() {
            services.insert_name(service);
        }
        if !outputs.is_empty() {
            self.emit(&flow.resolve(), ts, outputs, out);
        }
    }

    /// Takes one UDP datagram's payload travelling in `dir`.
    pub(crate) fn on_udp(
        &mut self,
        flow: &FlowRef,
        dir: Direction,
        ts: i64,
        payload: &[u8],
        services: &mut ServiceSet,
        out: &mut Vec<Event>,
    ) {
        let d = self.to_dissector(dir);
        let service = self.service_name();
        let Some(Dissector::Udp(session)) = self.dissector.as_deref_mut() else {
            return;
        };
        let mut outputs = Outputs::default();
        if session.datagram(d, ts, payload, &mut outputs) {
            services.insert_name(service);
        }
        if !outputs.is_empty() {
            self.emit(&flow.resolve(), ts, outputs, out);
        }
    }

    /// The flow ended: requests still waiting become unanswered operations.
    pub(crate) fn finish(mut self, record: &ConnRecord, out: &mut Vec<Event>) {
        let Some(dissector) = self.dissector.as_deref_mut() else {
            return;
        };
        let mut outputs = Outputs::default();
        match dissector {
            Dissector::Tcp(app) => app.session.finish(&mut outputs),
            Dissector::Udp(session) => session.finish(&mut outputs),
        }
        if let Some(info) = FlowInfo::of(record) {
            self.emit(&info, record.last_ts.0, outputs, out);
        }
    }

    /// Turns a dissector's outputs into events. Directions in `outputs` are the
    /// dissector's; they are mapped back to the flow's here.
    fn emit(&mut self, info: &FlowInfo, ts: i64, outputs: Outputs, out: &mut Vec<Event>) {
        if outputs.is_empty() {
            return;
        }
        let proto = if matches!(self.dissector.as_deref(), Some(Dissector::Tcp(_))) {
            "tcp"
        } else {
            "udp"
        };
        let ops = outputs.ops.into_iter().map(|op| (op, None));
        let cyclic = outputs.cyclic.into_iter().map(|(op, a)| (op, Some(a)));
        for (op, aggregate) in ops.chain(cyclic) {
            self.seq += 1;
            out.push(Event::Ot(Box::new(OtEvent {
                uid: info.uid,
                seq: self.seq,
                orig: Some(info.orig),
                resp: Some(info.resp),
                orig_l2: info.l2[0],
                resp_l2: info.l2[1],
                op,
                aggregate,
            })));
        }
        for fact in outputs.facts {
            self.seq += 1;
            let (ip, mac) = match fact.about {
                Subject::Side(d) => {
                    let (ip, mac) = info.side(self.to_dissector(d));
                    (Some(ip), mac)
                }
                Subject::Mac(mac) => (None, Some(mac)),
                Subject::Ip(ip) => (Some(ip), None),
            };
            out.push(Event::Identity(Box::new(IdentityEvent {
                ts,
                uid: Some(info.uid),
                seq: u64::from(self.seq),
                ip,
                mac,
                kind: fact.kind,
                value: fact.value,
                protocol: fact.protocol,
            })));
        }
        for mut record in outputs.http {
            record.dir = record.dir.map(|d| self.to_dissector(d));
            out.push(Event::Http(Box::new(HttpEvent {
                ends: info.ends(),
                record,
            })));
        }
        for mut record in outputs.tls {
            record.client_dir = record.client_dir.map(|d| self.to_dissector(d));
            out.push(Event::Tls(Box::new(TlsEvent {
                ends: info.ends(),
                record,
            })));
        }
        for mut record in outputs.dns {
            record.dir = self.to_dissector(record.dir);
            out.push(Event::Dns(Box::new(DnsEvent {
                ends: info.ends(),
                proto,
                record,
            })));
        }
    }
}

fn feed_chunk(
    session: &mut TcpSession,
    framing: &mut StreamBuffer,
    dir: Direction,
    ts: i64,
    chunk: Chunk<'_>,
    out: &mut Outputs,
) {
    let Outputs {
        ops, facts, http, ..
    } = out;
    match (chunk, session) {
        (Chunk::Gap(n), TcpSession::Http(s)) => s.on_gap(dir, n),
        (Chunk::Gap(n), TcpSession::Tls(s)) => s.on_gap(dir, n),
        (Chunk::Gap(n), _) => framing.gap(n),
        (Chunk::Data(bytes), TcpSession::Http(s)) => s.on_data(dir, ts, bytes, http, facts),
        (Chunk::Data(bytes), TcpSession::Tls(s)) => s.on_data(dir, ts, bytes, facts),
        (Chunk::Data(bytes), session) => match session {
            TcpSession::Modbus(s) => framing.feed(&modbus::Parser, dir, bytes, |p| {
                s.on_adu(dir, ts, &p, ops, facts)
            }),
            TcpSession::S7(s) => framing.feed(&s7comm::Parser, dir, bytes, |p| {
                s.on_tpdu(dir, ts, &p, ops, facts)
            }),
            TcpSession::Enip(s) => framing.feed(&enip::Parser, dir, bytes, |p| {
                s.on_encap(dir, ts, &p, ops, facts)
            }),
            TcpSession::Dnp3(s) => framing.feed(&dnp3::Parser, dir, bytes, |p| {
                s.on_frame(dir, ts, &p, ops, facts)
            }),
            TcpSession::Iec104(s) => framing.feed(&iec104::Parser, dir, bytes, |p| {
                s.on_apdu(dir, ts, &p, ops, facts)
            }),
            TcpSession::OpcUa(s) => framing.feed(&opcua::Parser, dir, bytes, |p| {
                s.on_chunk(dir, ts, &p, ops, facts)
            }),
            TcpSession::Slmp(s) => framing.feed(&slmp::Parser, dir, bytes, |p| {
                s.on_frame(dir, ts, &p, ops, facts)
            }),
            TcpSession::Fins(s) => framing.feed(&fins::TcpParser, dir, bytes, |p| {
                s.on_tcp(dir, ts, &p, ops, facts)
            }),
            TcpSession::Http(_) | TcpSession::Tls(_) => {}
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flows_application_state_stays_small() {
        // A million flows each carry one; the flow table's memory cap counts on it.
        assert!(
            std::mem::size_of::<FlowApp>() <= 32,
            "{}",
            std::mem::size_of::<FlowApp>()
        );
    }
}
