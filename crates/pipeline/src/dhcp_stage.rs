//! DHCP and DHCPv6, one session per worker.
//!
//! A DHCP exchange hops between flows: the client broadcasts from 0.0.0.0, the server
//! answers to the broadcast address or to the offered address, a relay speaks for the
//! client. So the messages are not dissected per flow but by one session that sees
//! them all, keyed by transaction id and client hardware address. The reader routes
//! every datagram on ports 67/68 and 546/547 to worker 0 (see [`crate::worker::route`]),
//! so that session sees the whole exchange whatever the thread count.
//!
//! Facts a client tells about itself (host name, FQDN) are about its hardware address
//! (`chaddr`), not about the packet's sender, which may be a relay.
//!
//! Finished exchanges become records: DHCP ones rows of `dhcp.jsonl`, DHCPv6
//! transactions rows of `dhcpv6.jsonl`, each with the uid of the flow its first
//! message came on.

use std::collections::VecDeque;

use mamori_dissect::it::{dhcp, dhcpv6};
use mamori_dissect::record::{IdentityFact, Subject};
use mamori_flow::{Direction, ServiceSet};
use mamori_wire::decode::{IpPacket, UdpDatagram};

use crate::app::FlowInfo;
use crate::event::{DhcpEvent, Dhcpv6Event, Event, FlowEnds, IdentityEvent};

/// Ports whose datagrams go to the DHCP stage.
pub(crate) fn is_dhcp_port(port: u16) -> bool {
    matches!(
        port,
        dhcp::SERVER_PORT | dhcp::CLIENT_PORT | dhcpv6::CLIENT_PORT | dhcpv6::SERVER_PORT
    )
}

/// Exchanges whose flow is remembered for their record, at most.
const MAX_REMEMBERED: usize = 256;

/// The DHCP and DHCPv6 sessions of one worker.
#[derive(Debug, Default)]
pub(crate) struct DhcpStage {
    v4: dhcp::Session,
    v6: dhcpv6::Session,
    /// The flow each recent transaction id was first seen on, for its record's uid.
    flows: VecDeque<(u32, FlowEnds)>,
    /// The same for DHCPv6 transaction ids.
    flows_v6: VecDeque<(u32, FlowEnds)>,
    /// Identity events emitted (orders events of equal time).
    seq: u64,
    records: Vec<dhcp::DhcpRecord>,
    records_v6: Vec<dhcpv6::Dhcpv6Record>,
    facts: Vec<IdentityFact>,
}

impl DhcpStage {
    /// Takes one datagram on a DHCP port.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn datagram(
        &mut self,
        info: &FlowInfo,
        dir: Direction,
        ts: i64,
        ip: &IpPacket<'_>,
        udp: &UdpDatagram<'_>,
        services: &mut ServiceSet,
        out: &mut Vec<Event>,
    ) {
        let v6_port = |p| p == dhcpv6::CLIENT_PORT || p == dhcpv6::SERVER_PORT;
        if v6_port(udp.src_port) || v6_port(udp.dst_port) {
            if self
                .v6
                .on_datagram(dir, ts, udp.payload, &mut self.records_v6, &mut self.facts)
            {
                services.insert_name("dhcpv6");
                // DHCPv6 is rare: parsing twice is cheaper than widening the session's API.
                if let Some(msg) = dhcpv6::parse_datagram(udp.payload) {
                    remember(&mut self.flows_v6, msg.transaction_id, info.ends());
                }
            }
            self.emit(info, ts, None, out);
            return;
        }
        let std::net::IpAddr::V4(src) = ip.src else {
            return;
        };
        let Some(msg) = dhcp::parse_datagram(udp.payload) else {
            return;
        };
        services.insert_name("dhcp");
        remember(&mut self.flows, msg.xid, info.ends());
        let client = msg.mac().filter(|_| msg.from_client());
        self.v4
            .on_message(dir, ts, src, &msg, &mut self.records, &mut self.facts);
        self.emit(info, ts, client, out);
    }

    /// Ends exchanges idle past their timeout.
    pub(crate) fn expire(&mut self, now: i64, out: &mut Vec<Event>) {
        self.v4.expire(now, &mut self.records);
        self.v6.expire(now, &mut self.records_v6);
        self.emit_records(out);
    }

    /// End of input: every exchange ends.
    pub(crate) fn finish(&mut self, out: &mut Vec<Event>) {
        self.v4.finish(&mut self.records);
        self.v6.finish(&mut self.records_v6);
        self.emit_records(out);
    }

    /// Facts gathered from the last datagram (about `client` when it names one) and
    /// finished records become events.
    fn emit(
        &mut self,
        info: &FlowInfo,
        ts: i64,
        client: Option<mamori_wire::decode::MacAddr>,
        out: &mut Vec<Event>,
    ) {
        for fact in self.facts.drain(..) {
            self.seq += 1;
            let (ip, mac) = match (client, fact.about) {
                (Some(mac), _) => (None, Some(mac)),
                (None, Subject::Side(d)) => {
                    let (ip, mac) = match d {
                        Direction::Orig => (info.orig.0, info.l2[0]),
                        Direction::Resp => (info.resp.0, info.l2[1]),
                    };
                    (Some(ip).filter(|a| !a.is_unspecified()), mac)
                }
                (None, Subject::Mac(mac)) => (None, Some(mac)),
                (None, Subject::Ip(ip)) => (Some(ip), None),
            };
            out.push(Event::Identity(Box::new(IdentityEvent {
                ts,
                uid: Some(info.uid),
                seq: self.seq,
                ip,
                mac,
                kind: fact.kind,
                value: fact.value,
                protocol: fact.protocol,
            })));
        }
        self.emit_records(out);
    }

    fn emit_records(&mut self, out: &mut Vec<Event>) {
        for record in self.records.drain(..) {
            let Some(ends) = self
                .flows
                .iter()
                .find(|(xid, _)| *xid == record.xid)
                .map(|(_, ends)| *ends)
            else {
                continue;
            };
            out.push(Event::Dhcp(Box::new(DhcpEvent { ends, record })));
        }
        for record in self.records_v6.drain(..) {
            let Some(ends) = self
                .flows_v6
                .iter()
                .find(|(id, _)| *id == record.transaction_id)
                .map(|(_, ends)| *ends)
            else {
                continue;
            };
            out.push(Event::Dhcpv6(Box::new(Dhcpv6Event { ends, record })));
        }
    }
}

/// Remembers the flow of transaction `id` (its first message's), bounded.
fn remember(flows: &mut VecDeque<(u32, FlowEnds)>, id: u32, ends: FlowEnds) {
    if !flows.iter().any(|(known, _)| *known == id) {
        if flows.len() == MAX_REMEMBERED {
            flows.pop_front();
        }
        flows.push_back((id, ends));
    }
}
