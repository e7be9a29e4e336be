use proptest::prelude::*;

use super::*;

const SRC: MacAddr = MacAddr([0x00, 0x1e, 0x13, 0x0a, 0x0b, 0x0c]);

/// Appends a TLV (type, length including the 4-byte header, value).
fn tlv(b: &mut Vec<u8>, t: u16, v: &[u8]) {
    b.extend_from_slice(&t.to_be_bytes());
    b.extend_from_slice(&((v.len() + 4) as u16).to_be_bytes());
    b.extend_from_slice(v);
}

/// Writes the checksum of a PDU into bytes 2..4.
fn seal(b: &mut [u8]) {
    b[2] = 0;
    b[3] = 0;
    let c = checksum(b);
    b[2..4].copy_from_slice(&c.to_be_bytes());
}

/// A Catalyst 2960's CDPv2 announcement.
fn switch_pdu() -> Vec<u8> {
    let mut b = vec![
        0x02, // version 2
        0xb4, // TTL 180 s
        0x00, 0x00, // checksum (sealed below)
    ];
    tlv(&mut b, tlv::DEVICE_ID, b"sw-plant-01.example.com");
    tlv(
        &mut b,
        tlv::ADDRESSES,
        &[
            0x00, 0x00, 0x00, 0x01, // one address
            0x01, // protocol type NLPID
            0x01, // protocol length 1
            0xcc, // NLPID IPv4
            0x00, 0x04, // address length 4
            10, 1, 2, 3, // 10.1.2.3
        ],
    );
    tlv(&mut b, tlv::PORT_ID, b"GigabitEthernet0/1");
    tlv(&mut b, tlv::CAPABILITIES, &[0x00, 0x00, 0x00, 0x28]); // switch, IGMP capable
    tlv(
        &mut b,
        tlv::SOFTWARE_VERSION,
        b"Cisco IOS Software, C2960 Software (C2960-LANBASEK9-M), Version 12.2(55)SE5, RELEASE SOFTWARE (fc1)\nTechnical Support: http://www.cisco.com/techsupport\nCopyright (c) 1986-2012 by Cisco Systems, Inc.",
    );
    tlv(&mut b, tlv::PLATFORM, b"cisco WS-C2960-24TT-L");
    tlv(&mut b, tlv::VTP_DOMAIN, b"PLANT");
    tlv(&mut b, tlv::NATIVE_VLAN, &[0x00, 0x01]); // VLAN 1
    tlv(&mut b, tlv::DUPLEX, &[0x01]); // full
    let mut mgmt = vec![
        0x00, 0x00, 0x00, 0x02, // two addresses
        0x01, 0x01, 0xcc, // NLPID IPv4
        0x00, 0x04, // length 4
        10, 1, 2, 3,    // 10.1.2.3 (also the interface's)
        0x02, // protocol type 802.2
        0x08, // protocol length 8
        0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00, 0x86, 0xdd, // SNAP, EtherType IPv6
        0x00, 0x10, // length 16
    ];
    mgmt.extend_from_slice(&"2001:db8::3".parse::<Ipv6Addr>().unwrap().octets());
    tlv(&mut b, tlv::MANAGEMENT_ADDRESSES, &mgmt);
    tlv(&mut b, 0x0012, &[0x00]); // trust bitmap: counted only
    seal(&mut b);
    b
}

#[test]
fn every_tlv_decodes() {
    let b = switch_pdu();
    let d = Cdp::parse(&b).expect("cdp");
    assert_eq!((d.version, d.ttl), (2, 180));
    assert!(!d.flags.has(Flags::BAD_CHECKSUM));
    assert_eq!(d.device_id, Some(&b"sw-plant-01.example.com"[..]));
    assert_eq!(d.port_id, Some(&b"GigabitEthernet0/1"[..]));
    assert_eq!(
        capability_names(d.capabilities.unwrap()).collect::<Vec<_>>(),
        ["switch", "igmp_capable"]
    );
    assert_eq!(d.platform, Some(&b"cisco WS-C2960-24TT-L"[..]));
    assert_eq!(d.vtp_domain, Some(&b"PLANT"[..]));
    assert_eq!((d.native_vlan, d.duplex), (Some(1), Some(1)));
    let ips: Vec<_> = d.addresses().filter_map(|a| a.ip()).collect();
    assert_eq!(ips, [IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3))]);
    let mgmt: Vec<String> = d
        .management_addresses()
        .filter_map(|a| a.ip())
        .map(|a| a.to_string())
        .collect();
    assert_eq!(mgmt, ["10.1.2.3", "2001:db8::3"]);
    assert_eq!((d.tlv_count, d.other_tlvs), (11, 1));
    assert_eq!(d.flags, Flags::default());
}

#[test]
fn identity_facts() {
    let b = switch_pdu();
    let d = Cdp::parse(&b).unwrap();
    let mut facts = Vec::new();
    identity(SRC, &d, &mut facts);
    let got: Vec<(IdentityKind, &str)> = facts.iter().map(|f| (f.kind, f.value.as_str())).collect();
    assert_eq!(
        got,
        [
            (IdentityKind::Hostname, "sw-plant-01.example.com"),
            (IdentityKind::Os, "Cisco IOS 12.2(55)SE5"),
            (
                IdentityKind::Software,
                "Cisco IOS Software, C2960 Software (C2960-LANBASEK9-M), Version 12.2(55)SE5, RELEASE SOFTWARE (fc1)"
            ),
            (IdentityKind::Model, "cisco WS-C2960-24TT-L"),
            (IdentityKind::DeviceType, "switch,igmp_capable"),
            (IdentityKind::ManagementAddress, "10.1.2.3"),
            (IdentityKind::ManagementAddress, "2001:db8::3"),
        ]
    );
    assert!(
        facts
            .iter()
            .all(|f| f.about == Subject::Mac(SRC) && f.protocol == "cdp")
    );
    let r = CdpRecord::new(1, SRC, &d);
    assert_eq!(r.os.as_deref(), Some("Cisco IOS 12.2(55)SE5"));
    assert_eq!(r.management_addresses.len(), 2);
    assert!(r.software_version.unwrap().contains("Technical Support"));
}

#[test]
fn checksum_detects_corruption() {
    let mut b = switch_pdu();
    assert_eq!(checksum(&b), 0);
    let last = b.len() - 1;
    b[last] ^= 0x20; // flip a bit of the last TLV's value
    let d = Cdp::parse(&b).unwrap();
    assert!(d.flags.has(Flags::BAD_CHECKSUM));
    assert_eq!(d.flags.names().collect::<Vec<_>>(), ["bad_checksum"]);
}

#[test]
fn odd_length_checksum_rule() {
    // Last byte < 0x80 counts as 0x00vv; >= 0x80 as 0xff00 + v - 1.
    assert_eq!(checksum(&[0x12, 0x34, 0x05]), !0x1239);
    assert_eq!(checksum(&[0x12, 0x34, 0x85]), !0x11b9); // 0x1234 + 0xff84, folded
    // An odd-length PDU sealed by that rule verifies.
    let mut b = vec![0x02, 0xb4, 0, 0];
    tlv(&mut b, tlv::DEVICE_ID, b"R1\xe9"); // odd total, last byte >= 0x80
    assert_eq!(b.len() % 2, 1);
    seal(&mut b);
    assert!(!Cdp::parse(&b).unwrap().flags.has(Flags::BAD_CHECKSUM));
}

#[test]
fn llc_snap_header() {
    let frame = [
        0xaa, 0xaa, // DSAP, SSAP: SNAP
        0x03, // UI
        0x00, 0x00, 0x0c, // OUI Cisco
        0x20, 0x00, // PID CDP
        0x02, 0xb4, // CDP header ...
    ];
    assert_eq!(strip_llc_snap(&frame), Some(&[0x02, 0xb4][..]));
    let mut vtp = frame;
    vtp[7] = 0x03; // PID 0x2003: VTP
    assert_eq!(strip_llc_snap(&vtp), None);
}

#[test]
fn pdu_from_a_padded_tagged_frame() {
    let mut frame = vec![
        0x01, 0x00, 0x0c, 0xcc, 0xcc, 0xcc, // destination
        0x00, 0x1e, 0x13, 0x0a, 0x0b, 0x0c, // source
        0x81, 0x00, 0x00, 0x0a, // VLAN 10
        0x00, 0x12, // 802.3 length 18: LLC/SNAP 8 + CDP 10
        0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00, // LLC/SNAP
    ];
    let mut pdu = vec![0x02, 0xb4, 0, 0];
    tlv(&mut pdu, tlv::DEVICE_ID, b"R1");
    seal(&mut pdu);
    frame.extend_from_slice(&pdu);
    frame.resize(64, 0); // padding and FCS
    assert_eq!(pdu_from_frame(&frame), Some(&pdu[..]));
    let d = Cdp::parse(pdu_from_frame(&frame).unwrap()).unwrap();
    assert_eq!(d.flags, Flags::default());
    assert_eq!(pdu_from_frame(&frame[..10]), None);
    frame[16] = 0x08; // EtherType 0x0800: not 802.3
    assert_eq!(pdu_from_frame(&frame), None);
}

#[test]
fn not_cdp() {
    assert!(Cdp::parse(&[0x02, 0xb4, 0x00]).is_none());
    assert!(Cdp::parse(&[0x03, 0xb4, 0x00, 0x00]).is_none()); // version 3
    // Header alone is CDP without TLVs.
    let d = Cdp::parse(&[0x01, 0xb4, 0xfe, 0x4b]).unwrap();
    assert_eq!((d.tlv_count, d.flags), (0, Flags::default()));
}

#[test]
fn tlv_length_below_header_or_past_end() {
    for bad in [
        // Length 0 would loop forever without the guard.
        vec![0x02, 0xb4, 0, 0, 0x00, 0x01, 0x00, 0x00, b'x'],
        // Length 3 < header.
        vec![0x02, 0xb4, 0, 0, 0x00, 0x01, 0x00, 0x03, b'x'],
        // Length 40 past the end.
        vec![0x02, 0xb4, 0, 0, 0x00, 0x01, 0x00, 0x28, b'x', b'y'],
        // Half a TLV header.
        vec![0x02, 0xb4, 0, 0, 0x00, 0x01],
    ] {
        let d = Cdp::parse(&bad).unwrap();
        assert!(d.flags.has(Flags::BAD_LENGTH), "{bad:02x?}");
        assert_eq!(d.device_id, None);
        assert_eq!(d.tlv_count, 0);
    }
}

#[test]
fn wrong_sizes_repeats_and_bad_address_lists() {
    let mut b = vec![0x02, 0xb4, 0, 0];
    tlv(&mut b, tlv::DEVICE_ID, b"R1");
    tlv(&mut b, tlv::DEVICE_ID, b"R2"); // repeated: first kept
    tlv(&mut b, tlv::CAPABILITIES, &[0x01]); // 1 byte instead of 4
    let d = Cdp::parse(&b).unwrap();
    assert_eq!(d.device_id, Some(&b"R1"[..]));
    assert_eq!(d.capabilities, None);
    assert!(d.flags.has(Flags::RESERVED_SET) && d.flags.has(Flags::BAD_LENGTH));

    // An address list claiming a billion entries: read up to the bytes present.
    let mut b = vec![0x02, 0xb4, 0, 0];
    tlv(
        &mut b,
        tlv::ADDRESSES,
        &[
            0x40, 0x00, 0x00, 0x00, 0x01, 0x01, 0xcc, 0x00, 0x04, 10, 0, 0, 1,
        ],
    );
    let d = Cdp::parse(&b).unwrap();
    assert!(d.flags.has(Flags::BAD_LENGTH));
    assert_eq!(d.addresses().count(), 1);
    // An address whose length runs past the TLV.
    let mut b = vec![0x02, 0xb4, 0, 0];
    tlv(
        &mut b,
        tlv::ADDRESSES,
        &[0, 0, 0, 1, 0x01, 0x01, 0xcc, 0x00, 0x10, 10, 0, 0, 1],
    );
    let d = Cdp::parse(&b).unwrap();
    assert!(d.flags.has(Flags::BAD_LENGTH));
    assert_eq!(d.addresses().count(), 0);
}

#[test]
fn tlv_walk_is_bounded() {
    let mut b = vec![0x02, 0xb4, 0, 0];
    for _ in 0..1000 {
        tlv(&mut b, 0x00ff, &[]);
    }
    let d = Cdp::parse(&b).unwrap();
    assert_eq!(usize::from(d.tlv_count), MAX_TLVS);
    assert!(d.iter_tlvs().count() <= MAX_TLVS);
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        exercise(&bytes);
    }

    #[test]
    fn mutated_pdus_never_panic(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in any::<usize>(),
    ) {
        let mut b = switch_pdu();
        for (at, v) in edits {
            let i = at % b.len();
            b[i] = v;
        }
        b.truncate(cut % (b.len() + 1));
        exercise(&b);
    }
}

fn exercise(bytes: &[u8]) {
    match Parser.parse(Direction::Orig, bytes) {
        Parsed::Pdu { pdu, consumed } => {
            assert!(consumed >= 1 && consumed <= bytes.len());
            assert!(usize::from(pdu.tlv_count) <= MAX_TLVS);
            let mut facts = Vec::new();
            identity(SRC, &pdu, &mut facts);
            let r = CdpRecord::new(0, SRC, &pdu);
            assert!(r.addresses.len() <= MAX_ADDRESSES);
            assert_eq!(pdu.flags.has(Flags::BAD_CHECKSUM), checksum(bytes) != 0);
        }
        Parsed::Incomplete { .. } => panic!("CDP is never incomplete"),
        Parsed::NotThisProtocol => {
            assert!(bytes.len() < 4 || !matches!(bytes[0], 1 | 2));
        }
    }
}

/// Writes this module's frames as seeds for `fuzz/fuzz_targets/dissect_l2id.rs`
/// (selector byte 1). Run with
/// `cargo test -p mamori-dissect --lib write_fuzz_seeds -- --ignored`.
#[test]
#[ignore]
fn write_fuzz_seeds() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/dissect_l2id");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in fuzz_seeds() {
        let mut seed = vec![1];
        seed.extend_from_slice(&bytes);
        std::fs::write(dir.join(format!("cdp_{name}")), seed).unwrap();
    }
}

fn fuzz_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let pdu = switch_pdu();
    let mut frame = vec![
        0x01, 0x00, 0x0c, 0xcc, 0xcc, 0xcc, // destination
        0x00, 0x1e, 0x13, 0x0a, 0x0b, 0x0c, // source
    ];
    frame.extend_from_slice(&((pdu.len() + 8) as u16).to_be_bytes()); // 802.3 length
    frame.extend_from_slice(&[0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00]); // LLC/SNAP
    frame.extend_from_slice(&pdu);
    vec![("switch", pdu), ("switch_frame", frame)]
}
