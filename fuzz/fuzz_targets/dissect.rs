//! Fuzzes the dissectors: stream framing, parsers and sessions together.
//!
//! Input: one byte choosing the protocol (0 Modbus, 1 S7comm, 2 EtherNet/IP, 3 DNP3,
//! 4 IEC 104, 5 DNS over TCP; 6 every UDP dissector on each chunk as a datagram: DNP3,
//! EtherNet/IP, BACnet/IP, DNS/mDNS, NetBIOS NS, DHCP, DHCPv6), then chunks, each a control
//! byte (bit 0: direction, bit 1: a reassembly gap before the chunk) and a length byte,
//! then that many bytes (the last chunk takes what is left). Every chunk goes through
//! the protocol's `StreamBuffer` and session; the sessions are finished at the end.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_dissect::contract::PduParser;
use mamori_dissect::it::{dhcp, dhcpv6, dns, nbns};
use mamori_dissect::ot::{bacnet, dnp3, enip, iec104, modbus, s7comm};
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
    match selector % 7 {
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
        4 => {
            let mut s = iec104::Session::default();
            drive(&iec104::Parser, &chunks, |dir, ts, pdu| s.on_apdu(dir, ts, &pdu, &mut ops, &mut facts));
            s.finish(&mut ops);
        }
        5 => {
            let mut s = dns::Session::new(dns::Variant::Dns);
            let mut records = Vec::new();
            drive(&dns::TcpParser, &chunks, |dir, ts, m| s.on_message(dir, ts, &m, &mut records, &mut facts));
            s.finish(&mut records);
        }
        _ => {
            let mut dnp3 = dnp3::Session::default();
            let mut bacnet = bacnet::Session::default();
            let mut mdns = dns::Session::new(dns::Variant::Mdns);
            let mut dhcp = dhcp::Session::default();
            let mut dhcpv6 = dhcpv6::Session::default();
            let (mut dns_records, mut dhcp_records, mut v6_records) = (Vec::new(), Vec::new(), Vec::new());
            for (i, &(dir, _, bytes)) in chunks.iter().enumerate() {
                let ts = i as i64;
                let _ = dnp3.on_datagram(dir, ts, bytes, &mut ops, &mut facts);
                let _ = enip::parse_datagram(bytes);
                let _ = bacnet.on_datagram(dir, ts, bytes, &mut ops, &mut facts);
                if let Some(m) = dns::Message::parse(bytes) {
                    mdns.on_message(dir, ts, &m, &mut dns_records, &mut facts);
                }
                if let Some(m) = nbns::Message::parse(bytes) {
                    nbns::identity(dir, &m, &mut facts);
                }
                let _ = dhcp.on_datagram(dir, ts, std::net::Ipv4Addr::new(10, 0, 0, 1), bytes, &mut dhcp_records, &mut facts);
                let _ = dhcpv6.on_datagram(dir, ts, bytes, &mut v6_records, &mut facts);
            }
            dnp3.finish(&mut ops);
            bacnet.finish(&mut ops);
            mdns.finish(&mut dns_records);
            dhcp.finish(&mut dhcp_records);
            dhcpv6.finish(&mut v6_records);
        }
    }
});
