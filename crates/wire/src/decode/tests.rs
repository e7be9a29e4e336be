//! Decoder tests: one hand-written frame per case, a comment on every header field.
//!
//! Frames are assembled from small header pieces with [`cat`], so each piece is written
//! (and commented) once. `write_fuzz_seeds` (ignored; run it by name) writes these
//! frames as the seed corpus of the `decode` fuzz target.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;

use super::defrag::{DefragConfig, Defragmenter};
use super::tunnel::TunnelKind;
use super::*;
use crate::Timestamp;

// ---------------------------------------------------------------------------
// Header pieces
// ---------------------------------------------------------------------------

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

const DST_MAC: [u8; 6] = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55];
const SRC_MAC: [u8; 6] = [0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb];

/// Ethernet II header for `ether_type`: destination, source, EtherType.
fn eth(ether_type: u16) -> Vec<u8> {
    cat(&[&DST_MAC, &SRC_MAC, &ether_type.to_be_bytes()])
}

/// An IPv4 header without options; the fields the tests vary are parameters.
fn ipv4(protocol: u8, payload_len: usize, ident: u16, flags_offset: u16) -> Vec<u8> {
    let total = (20 + payload_len) as u16;
    cat(&[
        &[0x45, 0x00],               // version 4, IHL 5 (20 bytes); DSCP/ECN
        &total.to_be_bytes(),        // total length
        &ident.to_be_bytes(),        // identification
        &flags_offset.to_be_bytes(), // flags (0x4000 DF, 0x2000 MF) | offset / 8
        &[64, protocol],             // TTL 64, protocol
        &[0x00, 0x00],               // header checksum (not verified)
        &[10, 0, 0, 1],              // source 10.0.0.1
        &[10, 0, 0, 2],              // destination 10.0.0.2
    ])
}

const V6_SRC: [u8; 16] = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const V6_DST: [u8; 16] = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

/// An IPv6 fixed header.
fn ipv6(next_header: u8, payload_len: usize) -> Vec<u8> {
    cat(&[
        &[0x60, 0x00, 0x00, 0x00], // version 6, traffic class 0, flow label 0
        &(payload_len as u16).to_be_bytes(), // payload length
        &[next_header, 255],       // next header, hop limit 255
        &V6_SRC,                   // source fe80::1
        &V6_DST,                   // destination fe80::2
    ])
}

/// A UDP header and payload.
fn udp(src_port: u16, dst_port: u16, payload: &[u8]) -> Vec<u8> {
    cat(&[
        &src_port.to_be_bytes(),                     // source port
        &dst_port.to_be_bytes(),                     // destination port
        &((8 + payload.len()) as u16).to_be_bytes(), // length (header + payload)
        &[0x00, 0x00],                               // checksum (none)
        payload,
    ])
}

/// A TCP SYN to Modbus/TCP with one option (MSS 1460): 24 bytes.
const TCP_SYN_MSS: [u8; 24] = [
    0xc0, 0x00, // source port 49152
    0x01, 0xf6, // destination port 502
    0x00, 0x00, 0x00, 0x64, // sequence number 100
    0x00, 0x00, 0x00, 0x00, // acknowledgement number 0
    0x60, // data offset 6 (24 bytes), reserved
    0x02, // flags: SYN
    0xfa, 0xf0, // window 64240
    0x00, 0x00, // checksum (not verified)
    0x00, 0x07, // urgent pointer 7
    0x02, 0x04, 0x05, 0xb4, // option: MSS (kind 2, length 4) 1460
];

/// Ethernet II, IPv4, TCP SYN with an MSS option: 58 bytes, no padding.
fn frame_eth_ipv4_tcp() -> Vec<u8> {
    cat(&[&eth(0x0800), &ipv4(6, 24, 0x1234, 0x4000), &TCP_SYN_MSS])
}

fn ip_of<'a>(frame: &Frame<'a>) -> IpPacket<'a> {
    match frame.network {
        Network::Ip(ip) => ip,
        other => panic!("expected IP, got {other:?}"),
    }
}

fn decode_ip(link: LinkType, data: &[u8]) -> IpPacket<'_> {
    match decode(link, data) {
        Ok(Frame {
            network: Network::Ip(ip),
            ..
        }) => ip,
        other => panic!("expected IP, got {other:?}"),
    }
}

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

// ---------------------------------------------------------------------------
// Ethernet and VLAN tags
// ---------------------------------------------------------------------------

#[test]
fn ethernet_ipv4_tcp_with_options() {
    let data = frame_eth_ipv4_tcp();
    let frame = decode(LinkType::ETHERNET, &data).unwrap();
    assert_eq!(frame.l2.dst, Some(MacAddr(DST_MAC)));
    assert_eq!(frame.l2.src, Some(MacAddr(SRC_MAC)));
    assert!(frame.l2.vlans.is_empty());
    assert!(frame.tunnel.is_none());
    let ip = ip_of(&frame);
    assert_eq!(ip.version, 4);
    assert_eq!((ip.src, ip.dst), (v4(10, 0, 0, 1), v4(10, 0, 0, 2)));
    assert_eq!(
        (ip.protocol, ip.total_len, ip.ttl, ip.ident),
        (6, 44, 64, 0x1234)
    );
    assert!(ip.dont_fragment);
    assert!(ip.fragment.is_none());
    assert!(!ip.truncated);
    assert_eq!(ip.header.len(), 20);
    let Transport::Tcp(tcp) = ip.transport else {
        panic!("expected TCP, got {:?}", ip.transport);
    };
    assert_eq!((tcp.src_port, tcp.dst_port), (49152, 502));
    assert_eq!(
        (tcp.seq, tcp.ack, tcp.window, tcp.urgent),
        (100, 0, 64240, 7)
    );
    assert!(tcp.flags.syn() && !tcp.flags.ack() && !tcp.flags.fin() && !tcp.flags.rst());
    assert_eq!(tcp.header_len, 24);
    assert_eq!(tcp.options, &[0x02, 0x04, 0x05, 0xb4]);
    assert!(tcp.payload.is_empty());
    assert_eq!(tcp.payload_len, 0);
}

#[test]
fn ethernet_padding_is_cut_at_the_ip_total_length() {
    // 14 + 20 + 8 + 2 = 44 bytes, padded to the 60-byte minimum with 0xee.
    let mut data = cat(&[&eth(0x0800), &ipv4(17, 10, 1, 0), &udp(5000, 5001, b"hi")]);
    data.resize(60, 0xee);
    let ip = decode_ip(LinkType::ETHERNET, &data);
    assert_eq!(ip.payload.len(), 10);
    let Transport::Udp(u) = ip.transport else {
        panic!("expected UDP");
    };
    assert_eq!(u.payload, b"hi");
}

#[test]
fn ethernet_shorter_than_its_header_is_truncated() {
    assert_eq!(
        decode(LinkType::ETHERNET, &[0; 13]).unwrap_err(),
        DecodeError::Truncated("ethernet")
    );
}

#[test]
fn single_vlan_tag() {
    let data = cat(&[
        &DST_MAC,
        &SRC_MAC,
        &[0x81, 0x00], // TPID 802.1Q
        &[0xa0, 0x64], // PCP 5, DEI 0, VLAN id 100
        &[0x08, 0x00], // EtherType IPv4
        &ipv4(6, 24, 1, 0),
        &TCP_SYN_MSS,
    ]);
    let frame = decode(LinkType::ETHERNET, &data).unwrap();
    assert_eq!(frame.l2.vlans.ids(), &[100]);
    assert_eq!(frame.l2.vlans.outer(), Some(100));
    assert_eq!(frame.l2.vlans.inner(), None);
    assert!(matches!(ip_of(&frame).transport, Transport::Tcp(_)));
}

fn frame_qinq() -> Vec<u8> {
    cat(&[
        &DST_MAC,
        &SRC_MAC,
        &[0x88, 0xa8], // TPID 802.1ad (service tag)
        &[0x00, 0x0a], // S-VLAN id 10
        &[0x81, 0x00], // TPID 802.1Q (customer tag)
        &[0x00, 0x14], // C-VLAN id 20
        &[0x08, 0x06], // EtherType ARP
        &ARP_REQUEST,
    ])
}

#[test]
fn qinq_outer_then_inner() {
    let data = frame_qinq();
    let frame = decode(LinkType::ETHERNET, &data).unwrap();
    assert_eq!(frame.l2.vlans.ids(), &[10, 20]);
    assert_eq!(frame.l2.vlans.outer(), Some(10));
    assert_eq!(frame.l2.vlans.inner(), Some(20));
    assert!(matches!(frame.network, Network::Arp(_)));
}

#[test]
fn three_vlan_tags_are_malformed() {
    let data = cat(&[
        &DST_MAC,
        &SRC_MAC,
        &[0x88, 0xa8, 0x00, 0x0a], // 802.1ad, VLAN 10
        &[0x81, 0x00, 0x00, 0x14], // 802.1Q, VLAN 20
        &[0x81, 0x00, 0x00, 0x1e], // 802.1Q, VLAN 30: one too many
        &[0x08, 0x00],             // IPv4
        &ipv4(6, 24, 1, 0),
        &TCP_SYN_MSS,
    ]);
    assert!(matches!(
        decode(LinkType::ETHERNET, &data),
        Err(DecodeError::Malformed(_))
    ));
}

#[test]
fn vlan_tag_cut_short_is_truncated() {
    let data = cat(&[&DST_MAC, &SRC_MAC, &[0x81, 0x00], &[0x00, 0x64, 0x08]]);
    assert_eq!(
        decode(LinkType::ETHERNET, &data).unwrap_err(),
        DecodeError::Truncated("vlan")
    );
}

// ---------------------------------------------------------------------------
// ARP
// ---------------------------------------------------------------------------

/// ARP request: who has 192.168.0.2? Tell 192.168.0.1.
const ARP_REQUEST: [u8; 28] = [
    0x00, 0x01, // hardware type Ethernet
    0x08, 0x00, // protocol type IPv4
    6,    // hardware address length
    4,    // protocol address length
    0x00, 0x01, // operation: request
    0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, // sender MAC
    192, 168, 0, 1, // sender IP
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // target MAC (unknown)
    192, 168, 0, 2, // target IP
];

/// ARP reply: 192.168.0.2 is at 00:11:22:33:44:55.
const ARP_REPLY: [u8; 28] = [
    0x00, 0x01, // hardware type Ethernet
    0x08, 0x00, // protocol type IPv4
    6,    // hardware address length
    4,    // protocol address length
    0x00, 0x02, // operation: reply
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, // sender MAC
    192, 168, 0, 2, // sender IP
    0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, // target MAC
    192, 168, 0, 1, // target IP
];

fn frame_arp(body: &[u8]) -> Vec<u8> {
    let mut f = cat(&[&eth(0x0806), body]);
    f.resize(60, 0); // Ethernet padding
    f
}

#[test]
fn arp_request() {
    let data = frame_arp(&ARP_REQUEST);
    let Network::Arp(arp) = decode(LinkType::ETHERNET, &data).unwrap().network else {
        panic!("expected ARP");
    };
    assert_eq!(arp.operation, arp::OP_REQUEST);
    assert_eq!(arp.sender_mac, MacAddr(SRC_MAC));
    assert_eq!(arp.sender_ip, Ipv4Addr::new(192, 168, 0, 1));
    assert_eq!(arp.target_mac, MacAddr([0; 6]));
    assert_eq!(arp.target_ip, Ipv4Addr::new(192, 168, 0, 2));
    assert!(!arp.is_gratuitous() && !arp.is_probe());
}

#[test]
fn arp_reply() {
    let data = frame_arp(&ARP_REPLY);
    let Network::Arp(arp) = decode(LinkType::ETHERNET, &data).unwrap().network else {
        panic!("expected ARP");
    };
    assert_eq!(arp.operation, arp::OP_REPLY);
    assert_eq!(arp.sender_mac, MacAddr(DST_MAC));
    assert_eq!(arp.sender_ip, Ipv4Addr::new(192, 168, 0, 2));
    assert_eq!(arp.target_mac, MacAddr(SRC_MAC));
    assert_eq!(arp.target_ip, Ipv4Addr::new(192, 168, 0, 1));
}

#[test]
fn arp_for_other_hardware_is_handed_on_by_ethertype() {
    let mut body = ARP_REQUEST;
    body[1] = 6; // hardware type IEEE 802 instead of Ethernet
    let data = frame_arp(&body);
    assert!(matches!(
        decode(LinkType::ETHERNET, &data).unwrap().network,
        Network::EtherType {
            ethertype: 0x0806,
            ..
        }
    ));
}

// ---------------------------------------------------------------------------
// IPv4
// ---------------------------------------------------------------------------

fn frame_ipv4_options() -> Vec<u8> {
    cat(&[
        &eth(0x0800),
        &[
            0x46, 0x00, // version 4, IHL 6 (24 bytes)
            0x00, 0x24, // total length 36
            0x00, 0x02, // identification
            0x00, 0x00, // no flags, offset 0
            1, 17, // TTL 1, protocol UDP
            0x00, 0x00, // checksum
            10, 0, 0, 1, // source
            224, 0, 0, 22, // destination (IGMPv3 group)
            0x94, 0x04, 0x00, 0x00, // option: router alert (type 148, length 4)
        ],
        &udp(1000, 2000, b"opts"),
    ])
}

#[test]
fn ipv4_with_options() {
    let data = frame_ipv4_options();
    let ip = decode_ip(LinkType::ETHERNET, &data);
    assert_eq!(ip.header.len(), 24);
    assert_eq!(&ip.header[20..], &[0x94, 0x04, 0x00, 0x00]);
    assert_eq!(ip.total_len, 36);
    assert_eq!(ip.dst, v4(224, 0, 0, 22));
    assert!(!ip.dont_fragment);
    let Transport::Udp(u) = ip.transport else {
        panic!("expected UDP");
    };
    assert_eq!((u.src_port, u.dst_port, u.length), (1000, 2000, 12));
    assert_eq!(u.payload, b"opts");
}

#[test]
fn ipv4_cut_by_snaplen_keeps_the_stated_length() {
    // The IP header says 1000 bytes, the capture kept only the first 58 of the frame.
    let data = cat(&[&eth(0x0800), &ipv4(6, 980, 7, 0x4000), &TCP_SYN_MSS]);
    let ip = decode_ip(LinkType::ETHERNET, &data);
    assert_eq!(ip.total_len, 1000);
    assert!(ip.truncated);
    let Transport::Tcp(tcp) = ip.transport else {
        panic!("expected TCP");
    };
    assert!(tcp.payload.is_empty());
    assert_eq!(tcp.payload_len, 1000 - 20 - 24);
}

#[test]
fn ipv4_cut_inside_the_tcp_header_reports_transport_truncated() {
    let data = cat(&[&eth(0x0800), &ipv4(6, 980, 7, 0), &TCP_SYN_MSS[..10]]);
    let ip = decode_ip(LinkType::ETHERNET, &data);
    assert!(ip.truncated);
    assert!(matches!(ip.transport, Transport::Truncated));
}

#[test]
fn ipv4_zero_total_length_trusts_the_capture() {
    // Segmentation offload on the capturing host leaves total length 0.
    let mut data = cat(&[&ipv4(6, 24, 1, 0), &TCP_SYN_MSS]);
    data[2..4].copy_from_slice(&[0, 0]);
    let ip = decode_ip(LinkType::IPV4, &data);
    assert_eq!(ip.total_len, 44);
    assert!(!ip.truncated);
    assert!(matches!(ip.transport, Transport::Tcp(_)));
}

#[test]
fn ipv4_header_errors() {
    let good = cat(&[&ipv4(6, 24, 1, 0), &TCP_SYN_MSS]);
    // Fewer than 20 bytes.
    assert_eq!(
        decode(LinkType::IPV4, &good[..19]).unwrap_err(),
        DecodeError::Truncated("ipv4")
    );
    // IHL 4 (16 bytes) is impossible.
    let mut bad = good.clone();
    bad[0] = 0x44;
    assert!(matches!(
        decode(LinkType::IPV4, &bad),
        Err(DecodeError::Malformed(_))
    ));
    // IHL 15 (60 bytes) but only 44 captured.
    let mut bad = good.clone();
    bad[0] = 0x4f;
    assert_eq!(
        decode(LinkType::IPV4, &bad).unwrap_err(),
        DecodeError::Truncated("ipv4 options")
    );
    // Total length 10 is shorter than the header.
    let mut bad = good;
    bad[2..4].copy_from_slice(&10u16.to_be_bytes());
    assert!(matches!(
        decode(LinkType::IPV4, &bad),
        Err(DecodeError::Malformed(_))
    ));
}

// ---------------------------------------------------------------------------
// IPv4 fragments and reassembly
// ---------------------------------------------------------------------------

/// A 48-byte UDP datagram (8-byte header, 40 bytes of payload) to fragment.
fn fragmented_udp() -> Vec<u8> {
    let payload: Vec<u8> = (0u8..40).collect();
    udp(3000, 3001, &payload)
}

/// The datagram in three IPv4 fragments of 16 bytes: offsets 0, 16 and 32.
fn ipv4_fragments(ident: u16) -> Vec<Vec<u8>> {
    let udp = fragmented_udp();
    (0..3)
        .map(|i| {
            let offset = (i * 16) as u16 / 8;
            let more = if i < 2 { 0x2000 } else { 0 };
            cat(&[
                &ipv4(17, 16, ident, more | offset),
                &udp[i * 16..i * 16 + 16],
            ])
        })
        .collect()
}

#[test]
fn ipv4_fragment_fields() {
    let frags = ipv4_fragments(0x0abc);
    let first = decode_ip(LinkType::IPV4, &frags[0]);
    assert_eq!(
        first.fragment,
        Some(FragmentInfo {
            id: 0x0abc,
            offset: 0,
            more: true
        })
    );
    // The first fragment still shows its ports.
    let Transport::Udp(u) = first.transport else {
        panic!("expected UDP");
    };
    assert_eq!((u.src_port, u.dst_port), (3000, 3001));
    let last = decode_ip(LinkType::IPV4, &frags[2]);
    assert_eq!(
        last.fragment,
        Some(FragmentInfo {
            id: 0x0abc,
            offset: 32,
            more: false
        })
    );
    assert!(matches!(last.transport, Transport::Fragment));
}

#[test]
fn ipv4_fragments_reassemble_in_any_order() {
    let frags = ipv4_fragments(77);
    let orders = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    for order in orders {
        let mut defrag = Defragmenter::default();
        let mut out = None;
        for (n, &i) in order.iter().enumerate() {
            let ip = decode_ip(LinkType::IPV4, &frags[i]);
            let got = defrag
                .push(Timestamp::from_secs(n as i64), &ip)
                .map(<[u8]>::to_vec);
            assert_eq!(got.is_some(), n == 2, "order {order:?}, step {n}");
            out = out.or(got);
        }
        let datagram = out.unwrap();
        assert_eq!(&datagram[20..], &fragmented_udp()[..], "order {order:?}");
        let ip = decode_ip(LinkType::RAW, &datagram);
        assert_eq!(ip.total_len, 68);
        assert!(ip.fragment.is_none());
        let Transport::Udp(u) = ip.transport else {
            panic!("expected UDP");
        };
        assert_eq!(u.payload, &(0u8..40).collect::<Vec<_>>()[..]);
        let stats = defrag.stats();
        assert_eq!(
            (stats.fragments, stats.reassembled, stats.overlaps),
            (3, 1, 0)
        );
        assert_eq!(defrag.pending(), 0);
    }
}

#[test]
fn overlapping_fragments_keep_the_bytes_that_came_first() {
    // A: offset 0, 16 bytes of 'A', more fragments. B: offset 8, 16 bytes of 'B', last.
    let a = cat(&[&ipv4(17, 16, 9, 0x2000), &[b'A'; 16]]);
    let b = cat(&[&ipv4(17, 16, 9, 1), &[b'B'; 16]]);
    for (first, second, expected) in [
        (&a, &b, [&[b'A'; 16][..], &[b'B'; 8]].concat()),
        (&b, &a, [&[b'A'; 8][..], &[b'B'; 16]].concat()),
    ] {
        let mut defrag = Defragmenter::default();
        let ip = decode_ip(LinkType::IPV4, first);
        assert!(defrag.push(Timestamp::from_secs(0), &ip).is_none());
        let ip = decode_ip(LinkType::IPV4, second);
        let out = defrag.push(Timestamp::from_secs(0), &ip).unwrap().to_vec();
        assert_eq!(&out[20..], &expected[..]);
        assert_eq!(defrag.stats().overlaps, 1);
    }
}

#[test]
fn fragments_time_out_and_are_counted() {
    let frags = ipv4_fragments(1);
    let other = ipv4_fragments(2);
    let mut defrag = Defragmenter::default(); // 30 s timeout
    defrag.push(
        Timestamp::from_secs(0),
        &decode_ip(LinkType::IPV4, &frags[0]),
    );
    assert_eq!(defrag.pending(), 1);
    defrag.push(
        Timestamp::from_secs(31),
        &decode_ip(LinkType::IPV4, &other[0]),
    );
    assert_eq!(defrag.stats().timed_out, 1);
    assert_eq!(defrag.pending(), 1);
    // The late pieces of the expired datagram never complete it.
    assert!(
        defrag
            .push(
                Timestamp::from_secs(31),
                &decode_ip(LinkType::IPV4, &frags[1])
            )
            .is_none()
    );
    assert!(
        defrag
            .push(
                Timestamp::from_secs(31),
                &decode_ip(LinkType::IPV4, &frags[2])
            )
            .is_none()
    );
}

#[test]
fn too_many_pending_datagrams_evict_the_oldest() {
    let mut defrag = Defragmenter::new(DefragConfig {
        max_datagrams: 2,
        ..DefragConfig::default()
    });
    for id in 1..=3 {
        let frags = ipv4_fragments(id);
        defrag.push(
            Timestamp::from_secs(i64::from(id)),
            &decode_ip(LinkType::IPV4, &frags[0]),
        );
    }
    assert_eq!(defrag.stats().evicted, 1);
    assert_eq!(defrag.pending(), 2);
    // Datagram 1 was evicted; datagram 3 still completes.
    let frags = ipv4_fragments(3);
    assert!(
        defrag
            .push(
                Timestamp::from_secs(4),
                &decode_ip(LinkType::IPV4, &frags[1])
            )
            .is_none()
    );
    assert!(
        defrag
            .push(
                Timestamp::from_secs(4),
                &decode_ip(LinkType::IPV4, &frags[2])
            )
            .is_some()
    );
}

#[test]
fn oversized_datagrams_and_too_many_pieces_are_dropped() {
    let mut defrag = Defragmenter::new(DefragConfig {
        max_fragments: 2,
        ..DefragConfig::default()
    });
    // Offset 8191 * 8 = 65528 plus 8 bytes ends past 65,535.
    let huge = cat(&[&ipv4(17, 8, 5, 0x1fff), &[0; 8]]);
    assert!(
        defrag
            .push(Timestamp::from_secs(0), &decode_ip(LinkType::IPV4, &huge))
            .is_none()
    );
    assert_eq!(defrag.stats().oversized, 1);
    // Three pieces with a cap of two.
    for frag in ipv4_fragments(6) {
        assert!(
            defrag
                .push(Timestamp::from_secs(0), &decode_ip(LinkType::IPV4, &frag))
                .is_none()
        );
    }
    assert_eq!(defrag.stats().oversized, 2);
    assert_eq!(defrag.pending(), 0);
}

/// Regression: every datagram left an entry in the expiry queue until its timeout, even
/// when it completed at once, so a flood of small fragmented datagrams grew the queue
/// without bound (10,000 entries here) while `pending` stayed empty.
#[test]
fn completed_datagrams_do_not_pile_up_in_the_expiry_queue() {
    let mut defrag = Defragmenter::default(); // at most 1024 pending datagrams
    for id in 0..10_000u32 {
        for frag in ipv4_fragments(id as u16) {
            let ip = decode_ip(LinkType::IPV4, &frag);
            defrag.push(Timestamp::from_secs(i64::from(id / 1000)), &ip);
        }
    }
    assert_eq!(defrag.stats().reassembled, 10_000);
    assert_eq!(defrag.pending(), 0);
    assert!(
        defrag.tracked() <= 2 * 1024 + 1,
        "{} entries",
        defrag.tracked()
    );
}

#[test]
fn unfragmented_packets_are_ignored_by_the_defragmenter() {
    let data = frame_eth_ipv4_tcp();
    let mut defrag = Defragmenter::default();
    let frame = decode(LinkType::ETHERNET, &data).unwrap();
    assert!(
        defrag
            .push(Timestamp::from_secs(0), &ip_of(&frame))
            .is_none()
    );
    assert_eq!(defrag.stats().fragments, 0);
}

// ---------------------------------------------------------------------------
// IPv6
// ---------------------------------------------------------------------------

/// Hop-by-hop options, destination options and a fragment header (first fragment).
const V6_EXTENSIONS: [u8; 24] = [
    // hop-by-hop options header
    60, // next header: destination options
    0,  // header extension length: 0 (8 bytes)
    0x05, 0x02, 0x00, 0x00, // router alert option (type 5, length 2, value 0)
    0x01, 0x00, // PadN option, 0 bytes of padding
    // destination options header
    44, // next header: fragment
    0,  // header extension length: 0 (8 bytes)
    0x01, 0x04, 0x00, 0x00, 0x00, 0x00, // PadN option, 4 bytes of padding
    // fragment header
    17, // next header: UDP
    0,  // reserved
    0x00, 0x01, // fragment offset 0, M flag set
    0xde, 0xad, 0xbe, 0xef, // identification
];

fn frame_ipv6_extensions() -> Vec<u8> {
    let udp = udp(546, 547, b"dhcpv6");
    cat(&[
        &eth(0x86dd),
        &ipv6(0, V6_EXTENSIONS.len() + udp.len()),
        &V6_EXTENSIONS,
        &udp,
    ])
}

#[test]
fn ipv6_with_hop_by_hop_destination_options_and_fragment_headers() {
    let data = frame_ipv6_extensions();
    let ip = decode_ip(LinkType::ETHERNET, &data);
    assert_eq!(ip.version, 6);
    assert_eq!(ip.src, IpAddr::V6(Ipv6Addr::from(V6_SRC)));
    assert_eq!(ip.dst, IpAddr::V6(Ipv6Addr::from(V6_DST)));
    assert_eq!(ip.protocol, 17);
    assert_eq!(ip.ttl, 255);
    assert_eq!(ip.header.len(), 40 + 24);
    assert_eq!(ip.total_len, 40 + 24 + 14);
    assert_eq!(
        ip.fragment,
        Some(FragmentInfo {
            id: 0xdead_beef,
            offset: 0,
            more: true
        })
    );
    let Transport::Udp(u) = ip.transport else {
        panic!("expected UDP, got {:?}", ip.transport);
    };
    assert_eq!((u.src_port, u.dst_port), (546, 547));
    assert_eq!(u.payload, b"dhcpv6");
}

#[test]
fn ipv6_extension_header_overrunning_the_packet_is_an_error() {
    let mut ext = V6_EXTENSIONS;
    ext[1] = 9; // hop-by-hop claims (9 + 1) * 8 = 80 bytes
    let data = cat(&[&ipv6(0, 24 + 8), &ext, &udp(1, 2, b"")]);
    assert!(decode(LinkType::IPV6, &data).is_err());
    // And a packet that stops inside its first extension header.
    let data = cat(&[&ipv6(0, 4), &V6_EXTENSIONS[..4]]);
    assert_eq!(
        decode(LinkType::IPV6, &data).unwrap_err(),
        DecodeError::Truncated("ipv6 extension header")
    );
}

#[test]
fn ipv6_shorter_than_its_header_is_truncated() {
    let data = ipv6(59, 0);
    assert_eq!(
        decode(LinkType::IPV6, &data[..39]).unwrap_err(),
        DecodeError::Truncated("ipv6")
    );
}

/// A 32-byte IPv6 datagram body whose fragmentable part starts with destination options.
fn v6_fragmentable_part() -> Vec<u8> {
    cat(&[
        &[
            17, // destination options: next header UDP
            0,  // length 0 (8 bytes)
            0x01, 0x04, 0x00, 0x00, 0x00, 0x00, // PadN, 4 bytes
        ],
        &udp(7000, 7001, &[0xff; 16]),
    ])
}

/// The body above in two fragments of 16 bytes; each fragment header says the
/// fragmentable part starts with destination options (next header 60).
fn ipv6_fragments() -> Vec<Vec<u8>> {
    let body = v6_fragmentable_part();
    (0..2)
        .map(|i| {
            let off_flags: u16 = (i as u16 * 16) | u16::from(i == 0); // offset, M flag
            cat(&[
                &ipv6(44, 8 + 16),
                &[60, 0],                  // fragment header: next header dest. options
                &off_flags.to_be_bytes(),  // offset (multiple of 8) | M
                &[0x00, 0x00, 0x01, 0x02], // identification 258
                &body[i * 16..i * 16 + 16],
            ])
        })
        .collect()
}

/// Regression: the decoder walked "extension headers" in the data of later IPv6
/// fragments (whose fragment header names destination options as next header), so
/// later fragments failed to decode or got a different protocol from the first one,
/// and the first fragment's payload started after the destination options while the
/// others' offsets count from the fragment header: reassembly went wrong.
#[test]
fn ipv6_fragments_with_destination_options_in_the_fragmentable_part() {
    let frags = ipv6_fragments();
    let later = decode_ip(LinkType::IPV6, &frags[1]);
    assert_eq!(later.protocol, 60);
    assert_eq!(later.payload.len(), 16);
    assert!(matches!(later.transport, Transport::Fragment));
    for order in [[0, 1], [1, 0]] {
        let mut defrag = Defragmenter::default();
        let mut out = None;
        for &i in &order {
            let ip = decode_ip(LinkType::IPV6, &frags[i]);
            out = out.or(defrag
                .push(Timestamp::from_secs(0), &ip)
                .map(<[u8]>::to_vec));
        }
        let datagram = out.expect("reassembled");
        assert_eq!(&datagram[40..], &v6_fragmentable_part()[..]);
        let ip = decode_ip(LinkType::RAW, &datagram);
        assert!(ip.fragment.is_none());
        let Transport::Udp(u) = ip.transport else {
            panic!("expected UDP, got {:?}", ip.transport);
        };
        assert_eq!(
            (u.src_port, u.dst_port, u.payload),
            (7000, 7001, &[0xff; 16][..])
        );
    }
}

// ---------------------------------------------------------------------------
// Layer 4
// ---------------------------------------------------------------------------

#[test]
fn udp_payload_is_cut_at_its_length_field() {
    let mut segment = udp(53, 40000, b"answer");
    segment.extend_from_slice(b"junk"); // bytes past the UDP length (but inside IP)
    let data = cat(&[&ipv4(17, segment.len(), 3, 0), &segment]);
    let Transport::Udp(u) = decode_ip(LinkType::IPV4, &data).transport else {
        panic!("expected UDP");
    };
    assert_eq!((u.src_port, u.dst_port, u.length), (53, 40000, 14));
    assert_eq!(u.payload, b"answer");
}

#[test]
fn udp_shorter_than_its_header_is_transport_truncated() {
    let data = cat(&[&ipv4(17, 4, 3, 0), &[0, 53, 0, 53]]);
    assert!(matches!(
        decode_ip(LinkType::IPV4, &data).transport,
        Transport::Truncated
    ));
}

/// ICMP echo request, identifier 0x1234, sequence 1, 4 bytes of data.
const ICMP_ECHO: [u8; 12] = [
    8, // type: echo request
    0, // code
    0x00, 0x00, // checksum
    0x12, 0x34, // identifier
    0x00, 0x01, // sequence number
    b'p', b'i', b'n', b'g', // data
];

#[test]
fn icmp_echo_request() {
    let data = cat(&[&eth(0x0800), &ipv4(1, ICMP_ECHO.len(), 4, 0), &ICMP_ECHO]);
    let Transport::Icmp(icmp) = decode_ip(LinkType::ETHERNET, &data).transport else {
        panic!("expected ICMP");
    };
    assert_eq!((icmp.icmp_type, icmp.code), (8, 0));
    assert_eq!(icmp.body, &ICMP_ECHO[4..]);
}

/// ICMPv6 neighbour solicitation for fe80::2.
const ICMPV6_NS: [u8; 24] = [
    135, // type: neighbour solicitation
    0,   // code
    0x00, 0x00, // checksum
    0x00, 0x00, 0x00, 0x00, // reserved
    0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, // target address
];

fn frame_icmpv6() -> Vec<u8> {
    cat(&[&eth(0x86dd), &ipv6(58, ICMPV6_NS.len()), &ICMPV6_NS])
}

#[test]
fn icmpv6_neighbour_solicitation() {
    let data = frame_icmpv6();
    let Transport::Icmp6(icmp) = decode_ip(LinkType::ETHERNET, &data).transport else {
        panic!("expected ICMPv6");
    };
    assert_eq!((icmp.icmp_type, icmp.code), (135, 0));
    assert_eq!(icmp.body.len(), 20);
}

#[test]
fn other_ip_protocols_are_other() {
    // ESP (50): opaque.
    let data = cat(&[&ipv4(50, 8, 1, 0), &[0; 8]]);
    assert!(matches!(
        decode_ip(LinkType::IPV4, &data).transport,
        Transport::Other
    ));
}

// ---------------------------------------------------------------------------
// Tunnels
// ---------------------------------------------------------------------------

/// The frame mirror sessions carry in the tunnel tests: Ethernet, IPv4, TCP SYN.
fn inner_frame() -> Vec<u8> {
    frame_eth_ipv4_tcp()
}

/// Ethernet + IPv4 (protocol GRE) around a GRE header and body.
fn over_gre(gre_header: &[u8], body: &[u8]) -> Vec<u8> {
    cat(&[
        &eth(0x0800),
        &ipv4(47, gre_header.len() + body.len(), 0x0100, 0),
        gre_header,
        body,
    ])
}

/// GRE with transparent Ethernet bridging: no optional fields.
const GRE_TEB: [u8; 4] = [
    0x00, 0x00, // no checksum, key or sequence; version 0
    0x65, 0x58, // protocol: transparent Ethernet bridging
];

fn frame_gre_teb() -> Vec<u8> {
    over_gre(&GRE_TEB, &inner_frame())
}

#[test]
fn gre_with_transparent_ethernet_bridging() {
    let data = frame_gre_teb();
    let frame = decode(LinkType::ETHERNET, &data).unwrap();
    let tunnel = frame.tunnel.unwrap();
    assert_eq!(tunnel.kind, TunnelKind::Gre);
    let ip = ip_of(&frame);
    assert!(matches!(ip.transport, Transport::Tcp(t) if t.dst_port == 502));
    assert_eq!(ip.ident, 0x1234); // the inner packet, not the tunnel's 0x0100
}

#[test]
fn gre_with_key_carrying_ipv4() {
    let gre = [
        0x20, 0x00, // K bit: a key follows
        0x08, 0x00, // protocol IPv4
        0x00, 0x00, 0x00, 0x2a, // key 42
    ];
    let inner = cat(&[&ipv4(17, 10, 0x0777, 0), &udp(1, 2, b"xy")]);
    let data = over_gre(&gre, &inner);
    let frame = decode(LinkType::ETHERNET, &data).unwrap();
    assert_eq!(frame.tunnel.unwrap().kind, TunnelKind::Gre);
    assert_eq!(ip_of(&frame).ident, 0x0777);
    assert!(frame.l2.src.is_none()); // the inner packet has no link layer
}

#[test]
fn gre_version_1_is_not_opened() {
    let gre = [0x30, 0x01, 0x88, 0x0b, 0, 0, 0, 0, 0, 0, 0, 0]; // PPTP enhanced GRE
    let data = over_gre(&gre, &[]);
    let frame = decode(LinkType::ETHERNET, &data).unwrap();
    assert!(frame.tunnel.is_none());
    assert_eq!(ip_of(&frame).protocol, 47);
}

/// GRE with a sequence number, carrying ERSPAN type II.
const GRE_ERSPAN_II: [u8; 8] = [
    0x10, 0x00, // S bit: sequence number present; version 0
    0x88, 0xbe, // protocol: ERSPAN type II
    0x00, 0x00, 0x00, 0x01, // sequence number 1
];

/// ERSPAN type II header: version 1, original VLAN 100, session 5.
const ERSPAN_II: [u8; 8] = [
    0x10, 0x64, // version 1 (4 bits), VLAN 100 (12 bits)
    0x00, 0x05, // COS 0, encapsulation 0, truncated 0, session id 5 (10 bits)
    0x00, 0x00, 0x00, 0x00, // reserved, index
];

fn frame_erspan_ii() -> Vec<u8> {
    over_gre(&GRE_ERSPAN_II, &cat(&[&ERSPAN_II, &inner_frame()]))
}

#[test]
fn erspan_type_ii_reports_session_and_vlan() {
    let data = frame_erspan_ii();
    let frame = decode(LinkType::ETHERNET, &data).unwrap();
    let tunnel = frame.tunnel.unwrap();
    assert_eq!(tunnel.kind, TunnelKind::ErspanII);
    assert_eq!((tunnel.session, tunnel.vlan), (5, Some(100)));
    // The mirrored frame lost its tag; the ERSPAN header's VLAN stands in for it.
    assert_eq!(frame.l2.vlans.ids(), &[100]);
    assert_eq!(frame.l2.src, Some(MacAddr(SRC_MAC)));
    assert!(matches!(ip_of(&frame).transport, Transport::Tcp(_)));
}

#[test]
fn erspan_type_ii_keeps_the_inner_frames_own_tag() {
    let tagged = cat(&[
        &DST_MAC,
        &SRC_MAC,
        &[0x81, 0x00, 0x00, 0xc8], // 802.1Q, VLAN 200
        &[0x08, 0x00],
        &ipv4(6, 24, 1, 0),
        &TCP_SYN_MSS,
    ]);
    let data = over_gre(&GRE_ERSPAN_II, &cat(&[&ERSPAN_II, &tagged]));
    let frame = decode(LinkType::ETHERNET, &data).unwrap();
    assert_eq!(frame.l2.vlans.ids(), &[200]);
}

#[test]
fn erspan_type_i_has_no_header() {
    let gre = [0x00, 0x00, 0x88, 0xbe]; // no sequence number: type I
    let data = over_gre(&gre, &inner_frame());
    let frame = decode(LinkType::ETHERNET, &data).unwrap();
    assert_eq!(frame.tunnel.unwrap().kind, TunnelKind::ErspanI);
    assert!(matches!(ip_of(&frame).transport, Transport::Tcp(_)));
}

/// GRE with a sequence number, carrying ERSPAN type III.
const GRE_ERSPAN_III: [u8; 8] = [
    0x10, 0x00, // S bit; version 0
    0x22, 0xeb, // protocol: ERSPAN type III
    0x00, 0x00, 0x00, 0x02, // sequence number 2
];

/// ERSPAN type III header, `o` selecting the optional platform subheader.
fn erspan_iii(o: bool) -> Vec<u8> {
    cat(&[
        &[0x20, 0x00],             // version 2, VLAN 0 (none)
        &[0x00, 0x2a],             // COS, BSO, T, session id 42
        &[0x00, 0x00, 0x10, 0x00], // timestamp
        &[0x00, 0x00],             // security group tag
        &[0x00, u8::from(o)],      // P, FT, HW id, D, Gra, O (bit 0)
    ])
}

/// The optional ERSPAN III platform-specific subheader (8 bytes, contents opaque).
const ERSPAN_III_PLATFORM: [u8; 8] = [0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01];

fn frame_erspan_iii(optional: bool) -> Vec<u8> {
    let platform: &[u8] = if optional { &ERSPAN_III_PLATFORM } else { &[] };
    over_gre(
        &GRE_ERSPAN_III,
        &cat(&[&erspan_iii(optional), platform, &inner_frame()]),
    )
}

#[test]
fn erspan_type_iii_with_and_without_the_platform_subheader() {
    for optional in [false, true] {
        let data = frame_erspan_iii(optional);
        let frame = decode(LinkType::ETHERNET, &data).unwrap();
        let tunnel = frame.tunnel.unwrap();
        assert_eq!(tunnel.kind, TunnelKind::ErspanIII);
        assert_eq!((tunnel.session, tunnel.vlan), (42, None));
        assert_eq!(frame.l2.dst, Some(MacAddr(DST_MAC)), "optional {optional}");
        assert!(matches!(ip_of(&frame).transport, Transport::Tcp(t) if t.dst_port == 502));
    }
}

#[test]
fn erspan_headers_cut_short_are_truncated() {
    let data = over_gre(&GRE_ERSPAN_II, &ERSPAN_II[..6]);
    assert_eq!(
        decode(LinkType::ETHERNET, &data).unwrap_err(),
        DecodeError::Truncated("erspan ii")
    );
    // O bit set, but no room for the subheader.
    let data = over_gre(&GRE_ERSPAN_III, &erspan_iii(true));
    assert_eq!(
        decode(LinkType::ETHERNET, &data).unwrap_err(),
        DecodeError::Truncated("erspan iii subheader")
    );
}

/// VXLAN header, network identifier 0x123456.
const VXLAN: [u8; 8] = [
    0x08, // flags: I (VNI valid)
    0x00, 0x00, 0x00, // reserved
    0x12, 0x34, 0x56, // VNI
    0x00, // reserved
];

fn frame_vxlan() -> Vec<u8> {
    let body = cat(&[&VXLAN, &inner_frame()]);
    let udp = udp(54321, 4789, &body);
    cat(&[&eth(0x0800), &ipv4(17, udp.len(), 0x0200, 0), &udp])
}

#[test]
fn vxlan() {
    let data = frame_vxlan();
    let frame = decode(LinkType::ETHERNET, &data).unwrap();
    let tunnel = frame.tunnel.unwrap();
    assert_eq!(tunnel.kind, TunnelKind::Vxlan);
    assert_eq!(tunnel.session, 0x12_3456);
    assert!(matches!(ip_of(&frame).transport, Transport::Tcp(_)));
}

#[test]
fn vxlan_without_the_i_flag_is_plain_udp() {
    let mut body = cat(&[&VXLAN, &inner_frame()]);
    body[0] = 0;
    let udp = udp(54321, 4789, &body);
    let data = cat(&[&ipv4(17, udp.len(), 1, 0), &udp]);
    let frame = decode(LinkType::IPV4, &data).unwrap();
    assert!(frame.tunnel.is_none());
}

/// `depth` GRE/TEB tunnels around [`inner_frame`].
fn nested_gre(depth: usize) -> Vec<u8> {
    (0..depth).fold(inner_frame(), |frame, _| over_gre(&GRE_TEB, &frame))
}

#[test]
fn tunnels_nest_up_to_the_limit_and_no_further() {
    let data = nested_gre(MAX_TUNNEL_DEPTH);
    let frame = decode(LinkType::ETHERNET, &data).unwrap();
    assert_eq!(frame.tunnel.unwrap().kind, TunnelKind::Gre);
    assert!(matches!(ip_of(&frame).transport, Transport::Tcp(_)));
    let data = nested_gre(MAX_TUNNEL_DEPTH + 1);
    assert_eq!(
        decode(LinkType::ETHERNET, &data).unwrap_err(),
        DecodeError::TunnelTooDeep
    );
}

// ---------------------------------------------------------------------------
// Other link types
// ---------------------------------------------------------------------------

fn frame_sll() -> Vec<u8> {
    cat(&[
        &[
            0x00, 0x00, // packet type: to us
            0x00, 0x01, // ARPHRD_ETHER
            0x00, 0x06, // link-layer address length 6
            0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x00, 0x00, // address, padded to 8
            0x08, 0x00, // protocol IPv4
        ],
        &ipv4(6, 24, 1, 0),
        &TCP_SYN_MSS,
    ])
}

#[test]
fn linux_cooked_v1() {
    let data = frame_sll();
    let frame = decode(LinkType::LINUX_SLL, &data).unwrap();
    assert_eq!(frame.l2.src, Some(MacAddr(SRC_MAC)));
    assert_eq!(frame.l2.dst, None);
    assert!(matches!(ip_of(&frame).transport, Transport::Tcp(_)));
    assert_eq!(
        decode(LinkType::LINUX_SLL, &data[..15]).unwrap_err(),
        DecodeError::Truncated("linux_sll")
    );
}

#[test]
fn linux_cooked_v1_with_llc_and_pseudo_protocols() {
    let header = |protocol: u16| {
        cat(&[
            &[0x00, 0x04, 0x00, 0x01, 0x00, 0x06], // multicast, ARPHRD_ETHER, length 6
            &[0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x00, 0x00],
            &protocol.to_be_bytes(),
        ])
    };
    // 0x0004: 802.2 LLC follows (here STP).
    let data = cat(&[&header(0x0004), &[0x42, 0x42, 0x03, 0x00, 0x00]]);
    assert!(matches!(
        decode(LinkType::LINUX_SLL, &data).unwrap().network,
        Network::Llc {
            dsap: 0x42,
            ssap: 0x42,
            snap: None,
            ..
        }
    ));
    // 0x0001: Novell 802.3, not decoded.
    let data = cat(&[&header(0x0001), &[0xff; 8]]);
    assert_eq!(
        decode(LinkType::LINUX_SLL, &data).unwrap_err(),
        DecodeError::UnsupportedFamily(1)
    );
}

fn frame_sll2() -> Vec<u8> {
    cat(&[
        &[
            0x86, 0xdd, // protocol IPv6
            0x00, 0x00, // reserved
            0x00, 0x00, 0x00, 0x03, // interface index 3
            0x00, 0x01, // ARPHRD_ETHER
            0x04, // packet type: outgoing
            0x06, // address length 6
            0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x00, 0x00, // address, padded to 8
        ],
        &ipv6(58, ICMPV6_NS.len()),
        &ICMPV6_NS,
    ])
}

#[test]
fn linux_cooked_v2() {
    let data = frame_sll2();
    let frame = decode(LinkType::LINUX_SLL2, &data).unwrap();
    assert_eq!(frame.l2.src, Some(MacAddr(SRC_MAC)));
    assert!(matches!(ip_of(&frame).transport, Transport::Icmp6(_)));
    assert_eq!(
        decode(LinkType::LINUX_SLL2, &data[..19]).unwrap_err(),
        DecodeError::Truncated("linux_sll2")
    );
}

#[test]
fn linux_cooked_with_a_non_ethernet_address_has_no_mac() {
    let mut data = frame_sll2();
    data[8..10].copy_from_slice(&[0x03, 0x04]); // ARPHRD_LOOPBACK (772)
    let frame = decode(LinkType::LINUX_SLL2, &data).unwrap();
    assert_eq!(frame.l2.src, None);
}

fn frame_null(family: [u8; 4]) -> Vec<u8> {
    cat(&[&family, &ipv4(1, ICMP_ECHO.len(), 9, 0), &ICMP_ECHO])
}

#[test]
fn null_loopback_in_both_byte_orders() {
    for family in [
        [0x02, 0x00, 0x00, 0x00], // AF_INET, little-endian host
        [0x00, 0x00, 0x00, 0x02], // AF_INET, big-endian host
    ] {
        let data = frame_null(family);
        let frame = decode(LinkType::NULL, &data).unwrap();
        assert!(matches!(ip_of(&frame).transport, Transport::Icmp(_)));
        assert_eq!(frame.l2, L2Header::default());
    }
    for family in [
        [0x18, 0x00, 0x00, 0x00], // AF_INET6 on BSD (24), little-endian
        [0x00, 0x00, 0x00, 0x1e], // AF_INET6 on Darwin (30), big-endian
    ] {
        let data = cat(&[&family, &ipv6(58, ICMPV6_NS.len()), &ICMPV6_NS]);
        assert_eq!(ip_of(&decode(LinkType::NULL, &data).unwrap()).version, 6);
    }
    // AF_UNIX (1) is not IP.
    let data = frame_null([0x01, 0x00, 0x00, 0x00]);
    assert_eq!(
        decode(LinkType::NULL, &data).unwrap_err(),
        DecodeError::UnsupportedFamily(1)
    );
    assert_eq!(
        decode(LinkType::NULL, &[2, 0, 0]).unwrap_err(),
        DecodeError::Truncated("loopback")
    );
}

#[test]
fn openbsd_loop_is_network_byte_order() {
    let data = frame_null([0x00, 0x00, 0x00, 0x02]); // AF_INET
    assert!(matches!(
        ip_of(&decode(LinkType::LOOP, &data).unwrap()).transport,
        Transport::Icmp(_)
    ));
    // Read in network order, 02 00 00 00 is 0x02000000, not AF_INET.
    let data = frame_null([0x02, 0x00, 0x00, 0x00]);
    assert_eq!(
        decode(LinkType::LOOP, &data).unwrap_err(),
        DecodeError::UnsupportedFamily(0x0200_0000)
    );
}

#[test]
fn raw_ip_link_types() {
    let v4 = cat(&[&ipv4(6, 24, 1, 0), &TCP_SYN_MSS]);
    let v6 = cat(&[&ipv6(58, ICMPV6_NS.len()), &ICMPV6_NS]);
    for link in [LinkType::RAW, LinkType::RAW_BSD12, LinkType::RAW_BSD14] {
        assert_eq!(decode_ip(link, &v4).version, 4);
        assert_eq!(decode_ip(link, &v6).version, 6);
        assert_eq!(
            decode(link, &[0x50, 0, 0, 0]).unwrap_err(),
            DecodeError::Malformed("raw ip version")
        );
        assert_eq!(
            decode(link, &[]).unwrap_err(),
            DecodeError::Truncated("raw ip")
        );
    }
    assert_eq!(decode_ip(LinkType::IPV4, &v4).version, 4);
    assert_eq!(decode_ip(LinkType::IPV6, &v6).version, 6);
    // LINKTYPE_IPV4 trusts the link type; the version nibble must still be 4 or 6.
    assert_eq!(
        decode(LinkType::IPV4, &[0x50; 20]).unwrap_err(),
        DecodeError::Malformed("ip version")
    );
}

#[test]
fn unsupported_link_type() {
    assert_eq!(
        decode(LinkType(105), &frame_eth_ipv4_tcp()).unwrap_err(),
        DecodeError::UnsupportedLink(LinkType(105))
    );
}

// ---------------------------------------------------------------------------
// 802.3 / LLC / SNAP and layer-2 OT protocols
// ---------------------------------------------------------------------------

fn frame_stp() -> Vec<u8> {
    let bpdu = [
        0x00, 0x00, // protocol id: spanning tree
        0x00, // version: STP
        0x80, // BPDU type: TCN
    ];
    let mut f = cat(&[
        &[0x01, 0x80, 0xc2, 0x00, 0x00, 0x00], // destination: bridge group address
        &SRC_MAC,
        &[0x00, 0x07],       // 802.3 length 7
        &[0x42, 0x42, 0x03], // LLC: DSAP STP, SSAP STP, control UI
        &bpdu,
    ]);
    f.resize(60, 0);
    f
}

#[test]
fn llc_spanning_tree() {
    let data = frame_stp();
    let Network::Llc {
        dsap,
        ssap,
        snap,
        payload,
    } = decode(LinkType::ETHERNET, &data).unwrap().network
    else {
        panic!("expected LLC");
    };
    assert_eq!((dsap, ssap, snap), (0x42, 0x42, None));
    assert_eq!(&payload[..4], &[0x00, 0x00, 0x00, 0x80]);
}

fn frame_cdp() -> Vec<u8> {
    cat(&[
        &[0x01, 0x00, 0x0c, 0xcc, 0xcc, 0xcc], // destination: CDP multicast
        &SRC_MAC,
        &[0x00, 0x10],             // 802.3 length 16
        &[0xaa, 0xaa, 0x03],       // LLC: SNAP, SNAP, control UI
        &[0x00, 0x00, 0x0c],       // SNAP OUI: Cisco
        &[0x20, 0x00],             // SNAP protocol id: CDP
        &[0x02, 0xb4, 0x00, 0x00], // CDP version 2, TTL 180, checksum
        &[0x00, 0x01, 0x00, 0x04], // TLV device id, length 4 (empty value)
    ])
}

#[test]
fn snap_cdp() {
    let data = frame_cdp();
    let Network::Llc {
        dsap,
        snap,
        payload,
        ..
    } = decode(LinkType::ETHERNET, &data).unwrap().network
    else {
        panic!("expected LLC");
    };
    assert_eq!(dsap, 0xaa);
    assert_eq!(snap, Some((0x00_000c, 0x2000)));
    assert_eq!(&payload[..2], &[0x02, 0xb4]);
}

#[test]
fn llc_cut_short_is_truncated() {
    let data = cat(&[&DST_MAC, &SRC_MAC, &[0x00, 0x03], &[0xaa, 0xaa]]);
    assert_eq!(
        decode(LinkType::ETHERNET, &data).unwrap_err(),
        DecodeError::Truncated("llc")
    );
    let data = cat(&[
        &DST_MAC,
        &SRC_MAC,
        &[0x00, 0x06],
        &[0xaa, 0xaa, 0x03, 0x00, 0x00],
    ]);
    assert_eq!(
        decode(LinkType::ETHERNET, &data).unwrap_err(),
        DecodeError::Truncated("snap")
    );
}

/// Layer-2 OT protocols, each with the first bytes of a plausible payload.
fn ot_frames() -> Vec<(u16, Vec<u8>)> {
    [
        // PROFINET RT: frame id 0xfefe (DCP identify request), service id, type.
        (ethertype::PROFINET, vec![0xfe, 0xfe, 0x05, 0x00]),
        // CC-Link IE Field: first bytes of a cyclic frame header.
        (ethertype::CCLINK_IE, vec![0x00, 0x02, 0x00, 0x40]),
        // LLDP: chassis id TLV (type 1, length 7, subtype MAC address).
        (
            ethertype::LLDP,
            vec![0x02, 0x07, 0x04, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb],
        ),
        // GOOSE: APPID 0x0001, length 20, reserved.
        (
            ethertype::GOOSE,
            vec![0x00, 0x01, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00],
        ),
    ]
    .into_iter()
    .map(|(et, body)| {
        let mut f = cat(&[&eth(et), &body]);
        f.resize(60, 0);
        (et, f)
    })
    .collect()
}

#[test]
fn ot_ethertypes_are_handed_on() {
    for (et, data) in ot_frames() {
        let frame = decode(LinkType::ETHERNET, &data).unwrap();
        let Network::EtherType { ethertype, payload } = frame.network else {
            panic!("expected EtherType for {et:#06x}");
        };
        assert_eq!(ethertype, et);
        assert_eq!(payload.len(), 60 - 14);
        assert_eq!(payload, &data[14..]);
    }
}

#[test]
fn ot_ethertype_behind_a_vlan_tag() {
    // PROFINET RT usually travels with priority tag 6 on VLAN 0.
    let data = cat(&[
        &DST_MAC,
        &SRC_MAC,
        &[0x81, 0x00, 0xc0, 0x00], // 802.1Q, PCP 6, VLAN 0
        &[0x88, 0x92],             // PROFINET
        &[0x80, 0x00],             // frame id: cyclic RT
    ]);
    let frame = decode(LinkType::ETHERNET, &data).unwrap();
    assert_eq!(frame.l2.vlans.ids(), &[0]);
    assert!(matches!(
        frame.network,
        Network::EtherType {
            ethertype: ethertype::PROFINET,
            payload: [0x80, 0x00]
        }
    ));
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

/// Every valid frame above with its link type, named for the seed corpus.
fn all_frames() -> Vec<(String, LinkType, Vec<u8>)> {
    let mut v: Vec<(String, LinkType, Vec<u8>)> = vec![
        (
            "eth_ipv4_tcp".into(),
            LinkType::ETHERNET,
            frame_eth_ipv4_tcp(),
        ),
        ("qinq_arp".into(), LinkType::ETHERNET, frame_qinq()),
        (
            "arp_request".into(),
            LinkType::ETHERNET,
            frame_arp(&ARP_REQUEST),
        ),
        (
            "arp_reply".into(),
            LinkType::ETHERNET,
            frame_arp(&ARP_REPLY),
        ),
        (
            "ipv4_options".into(),
            LinkType::ETHERNET,
            frame_ipv4_options(),
        ),
        (
            "ipv6_extensions".into(),
            LinkType::ETHERNET,
            frame_ipv6_extensions(),
        ),
        ("icmpv6".into(), LinkType::ETHERNET, frame_icmpv6()),
        ("gre_teb".into(), LinkType::ETHERNET, frame_gre_teb()),
        ("erspan_ii".into(), LinkType::ETHERNET, frame_erspan_ii()),
        (
            "erspan_iii".into(),
            LinkType::ETHERNET,
            frame_erspan_iii(false),
        ),
        (
            "erspan_iii_platform".into(),
            LinkType::ETHERNET,
            frame_erspan_iii(true),
        ),
        ("vxlan".into(), LinkType::ETHERNET, frame_vxlan()),
        (
            "nested_gre".into(),
            LinkType::ETHERNET,
            nested_gre(MAX_TUNNEL_DEPTH),
        ),
        ("sll".into(), LinkType::LINUX_SLL, frame_sll()),
        ("sll2".into(), LinkType::LINUX_SLL2, frame_sll2()),
        ("null_le".into(), LinkType::NULL, frame_null([2, 0, 0, 0])),
        ("loop".into(), LinkType::LOOP, frame_null([0, 0, 0, 2])),
        ("stp".into(), LinkType::ETHERNET, frame_stp()),
        ("cdp".into(), LinkType::ETHERNET, frame_cdp()),
    ];
    for (et, f) in ot_frames() {
        v.push((format!("ethertype_{et:04x}"), LinkType::ETHERNET, f));
    }
    v
}

const LINKS: [LinkType; 10] = [
    LinkType::ETHERNET,
    LinkType::RAW,
    LinkType::IPV4,
    LinkType::IPV6,
    LinkType::NULL,
    LinkType::LOOP,
    LinkType::LINUX_SLL,
    LinkType::LINUX_SLL2,
    LinkType::RAW_BSD12,
    LinkType::RAW_BSD14,
];

proptest! {
    #[test]
    fn decode_never_panics_on_arbitrary_bytes(
        link in prop_oneof![proptest::sample::select(&LINKS[..]), any::<u16>().prop_map(LinkType)],
        data in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let _ = decode(link, &data);
    }

    #[test]
    fn decode_never_panics_on_damaged_frames(
        which in any::<proptest::sample::Index>(),
        flips in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 0..6),
        keep in any::<proptest::sample::Index>(),
    ) {
        let frames = all_frames();
        let (_, link, mut data) = frames[which.index(frames.len())].clone();
        for (at, x) in flips {
            let i = at.index(data.len());
            data[i] ^= x;
        }
        data.truncate(keep.index(data.len() + 1));
        if let Ok(Frame { network: Network::Ip(ip), .. }) = decode(link, &data) {
            // Header and payload are views of the capture, cut at the stated length.
            let seen = ip.header.len() + ip.payload.len();
            prop_assert!(seen <= ip.total_len as usize);
            prop_assert!(ip.truncated || seen == ip.total_len as usize);
        }
    }

    #[test]
    fn defragmenter_never_panics(
        pieces in proptest::collection::vec(
            (0u16..4, 0u16..0x2000, any::<bool>(), proptest::collection::vec(any::<u8>(), 0..64), 0i64..100),
            0..24,
        ),
    ) {
        let mut defrag = Defragmenter::new(DefragConfig {
            max_datagrams: 2,
            max_fragments: 8,
            timeout_nanos: 10_000_000_000,
        });
        for (id, offset, more, body, secs) in pieces {
            let flags = if more { 0x2000 } else { 0 } | offset;
            let data = cat(&[&ipv4(17, body.len(), id, flags), &body]);
            if let Ok(Frame { network: Network::Ip(ip), .. }) = decode(LinkType::IPV4, &data)
                && let Some(out) = defrag.push(Timestamp::from_secs(secs), &ip)
            {
                prop_assert!(decode(LinkType::RAW, out).is_ok());
            }
        }
        prop_assert!(defrag.pending() <= 2);
    }
}

/// Writes every frame above (and the fragment sets) as seeds for `fuzz/fuzz_targets/decode.rs`:
/// a link-type selector byte (the index in `LINKS`), then each frame as a big-endian u16
/// length and its bytes. Run with
/// `cargo test -p mamori-wire --lib write_fuzz_seeds -- --ignored`.
#[test]
#[ignore = "writes the fuzz seed corpus; run by name"]
fn write_fuzz_seeds() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/decode");
    std::fs::create_dir_all(&dir).unwrap();
    let seed = |link: LinkType, frames: &[Vec<u8>]| {
        let selector = LINKS.iter().position(|&l| l == link).unwrap() as u8;
        let mut out = vec![selector];
        for f in frames {
            out.extend_from_slice(&(f.len() as u16).to_be_bytes());
            out.extend_from_slice(f);
        }
        out
    };
    let mut seeds: Vec<(String, Vec<u8>)> = all_frames()
        .into_iter()
        .map(|(name, link, f)| (name, seed(link, &[f])))
        .collect();
    let mut v4 = ipv4_fragments(1);
    v4.reverse();
    seeds.push(("ipv4_fragments".into(), seed(LinkType::IPV4, &v4)));
    seeds.push((
        "ipv6_fragments".into(),
        seed(LinkType::IPV6, &ipv6_fragments()),
    ));
    for (name, bytes) in seeds {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

#[test]
fn an_802_3_frame_ends_at_its_length_field_not_at_the_padding() {
    let data = cat(&[
        &[0x01, 0x00, 0x0c, 0xcc, 0xcc, 0xcc], // destination (CDP multicast)
        &[0x00, 0x11, 0x22, 0x33, 0x44, 0x55], // source
        &[0x00, 0x0a],                         // 802.3 length: 10 bytes follow
        &[0xaa, 0xaa, 0x03],                   // LLC: SNAP, UI
        &[0x00, 0x00, 0x0c, 0x20, 0x00],       // SNAP: Cisco, CDP
        &[0x02, 0xb4],                         // CDP version 2, TTL 180
        &[0x00; 30],                           // padding to the minimum frame size
    ]);
    let frame = decode(LinkType::ETHERNET, &data).unwrap();
    match frame.network {
        Network::Llc { snap, payload, .. } => {
            assert_eq!(snap, Some((0x00000c, 0x2000)));
            assert_eq!(payload, [0x02, 0xb4]);
        }
        other => panic!("expected LLC, got {other:?}"),
    }
}
