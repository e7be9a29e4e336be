use proptest::prelude::*;

use super::*;

const SRC: MacAddr = MacAddr([0x00, 0x1b, 0x1b, 0x02, 0xe6, 0x1f]);

/// A switch's LLDPDU: every standard TLV, two organisation-specific ones and
/// PROFINET's port status, then End and padding.
fn switch_frame() -> Vec<u8> {
    let mut b = vec![
        0x02, 0x07, // chassis id (type 1), length 7
        0x04, // subtype 4: MAC address
        0x00, 0x1b, 0x1b, 0x02, 0xe6, 0x1f, // 00:1b:1b:02:e6:1f
        0x04, 0x08, // port id (type 2), length 8
        0x05, // subtype 5: interface name
        b'p', b'o', b'r', b't', b'-', b'0', b'1', // "port-01"
        0x06, 0x02, // TTL (type 3), length 2
        0x00, 0x78, // 120 s
        0x08, 0x06, // port description (type 4), length 6
        b'u', b'p', b'l', b'i', b'n', b'k', // "uplink"
        0x0a, 0x07, // system name (type 5), length 7
        b'S', b'w', b'i', b't', b'c', b'h', b'1', // "Switch1"
    ];
    let desc = b"Cisco IOS Software, C2960 Software (C2960-LANBASEK9-M), Version 12.2(55)SE5, RELEASE SOFTWARE (fc1)";
    b.extend_from_slice(&[0x0c, desc.len() as u8]); // system description (type 6)
    b.extend_from_slice(desc);
    b.extend_from_slice(&[
        0x0e, 0x04, // system capabilities (type 7), length 4
        0x00, 0x14, // available: bridge (bit 2), router (bit 4)
        0x00, 0x14, // enabled: bridge, router
        0x10, 0x0c, // management address (type 8), length 12
        0x05, // address string length 5 (subtype + 4)
        0x01, // subtype 1: IPv4
        192, 168, 0, 2,    // 192.168.0.2
        0x02, // interface numbering: ifIndex
        0x00, 0x00, 0x00, 0x03, // interface 3
        0x00, // OID length 0
        0xfe, 0x06, // org-specific (type 127), length 6
        0x00, 0x80, 0xc2, // OUI IEEE 802.1
        0x01, // subtype 1: port VLAN id
        0x00, 0x0a, // VLAN 10
        0xfe, 0x09, // org-specific, length 9
        0x00, 0x12, 0x0f, // OUI IEEE 802.3
        0x01, // subtype 1: MAC/PHY configuration/status
        0x03, // auto-negotiation supported and enabled
        0x6c, 0x00, // advertised capabilities
        0x00, 0x10, // MAU type 16: 100BASE-TX full duplex
        0xfe, 0x08, // org-specific, length 8
        0x00, 0x0e, 0xcf, // OUI PROFINET
        0x02, // subtype 2: port status
        0x00, 0x00, 0x00, 0x00, // RTClass2 and RTClass3 port status
        0x00, 0x00, // End of LLDPDU
        0x00, 0x00, 0x00, 0x00, // Ethernet padding
    ]);
    b
}

#[test]
fn every_standard_tlv_decodes() {
    let b = switch_frame();
    let d = Lldpdu::parse(&b).expect("lldp");
    let chassis = d.chassis_id.unwrap();
    assert_eq!(
        (chassis.subtype, chassis.subtype_name()),
        (4, "mac_address")
    );
    assert_eq!(chassis.to_text(), "00:1b:1b:02:e6:1f");
    let port = d.port_id.unwrap();
    assert_eq!(
        (port.subtype_name(), port.to_text()),
        ("interface_name", "port-01".into())
    );
    assert_eq!(d.ttl, Some(120));
    assert_eq!(d.port_description, Some(&b"uplink"[..]));
    assert_eq!(d.system_name, Some(&b"Switch1"[..]));
    let caps = d.capabilities.unwrap();
    assert_eq!(
        capability_names(caps.enabled).collect::<Vec<_>>(),
        ["bridge", "router"]
    );
    let m: Vec<_> = d.management_addresses().collect();
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].ip(), Some(IpAddr::V4(Ipv4Addr::new(192, 168, 0, 2))));
    assert_eq!((m[0].if_subtype, m[0].if_number), (2, 3));
    assert_eq!(d.port_vlan, Some(10));
    assert_eq!(d.mac_phy.map(|p| (p.autoneg, p.mau_type)), Some((3, 16)));
    assert_eq!((d.org_tlvs, d.profinet_tlvs), (3, 1));
    assert_eq!(d.tlv_count, 12);
    assert!(d.end);
    assert_eq!(d.flags, Flags::default());
    assert_eq!(d.org_specific().count(), 3);
    // Padding is not walked.
    assert_eq!(d.tlvs.len(), b.len() - 4);
}

#[test]
fn identity_facts_about_the_source_mac() {
    let b = switch_frame();
    let d = Lldpdu::parse(&b).unwrap();
    let mut facts = Vec::new();
    identity(SRC, &d, &mut facts);
    let got: Vec<(IdentityKind, &str)> = facts.iter().map(|f| (f.kind, f.value.as_str())).collect();
    assert_eq!(
        got,
        [
            (IdentityKind::Hostname, "Switch1"),
            (IdentityKind::Os, "Cisco IOS 12.2(55)SE5"),
            (
                IdentityKind::Description,
                "Cisco IOS Software, C2960 Software (C2960-LANBASEK9-M), Version 12.2(55)SE5, RELEASE SOFTWARE (fc1)"
            ),
            (IdentityKind::DeviceType, "bridge,router"),
            (IdentityKind::ManagementAddress, "192.168.0.2"),
        ]
    );
    assert!(
        facts
            .iter()
            .all(|f| f.about == Subject::Mac(SRC) && f.protocol == "lldp")
    );
}

#[test]
fn record_is_owned_copy() {
    let b = switch_frame();
    let d = Lldpdu::parse(&b).unwrap();
    let r = LldpRecord::new(7, SRC, &d);
    assert_eq!(r.chassis_id.as_deref(), Some("00:1b:1b:02:e6:1f"));
    assert_eq!(r.port_id.as_deref(), Some("port-01"));
    assert_eq!(r.system_name.as_deref(), Some("Switch1"));
    assert_eq!(r.management_addresses, ["192.168.0.2"]);
    assert_eq!(
        (r.capabilities, r.enabled_capabilities),
        (Some(0x14), Some(0x14))
    );
    assert_eq!((r.port_vlan, r.mau_type), (Some(10), Some(16)));
    assert_eq!(r.os.as_deref(), Some("Cisco IOS 12.2(55)SE5"));
}

/// A minimal PLC frame: locally assigned chassis and port ids, IPv6 management
/// address, no End TLV.
#[test]
fn locally_assigned_ids_ipv6_and_missing_end() {
    let mut b = vec![
        0x02, 0x08, // chassis id, length 8
        0x07, // subtype 7: locally assigned
        b's', b'w', b'i', b't', b'c', b'h', b'1', // "switch1"
        0x04, 0x09, // port id, length 9
        0x07, // subtype 7: locally assigned
        b'p', b'o', b'r', b't', b'-', b'0', b'0', b'1', // "port-001"
        0x06, 0x02, 0x00, 0x14, // TTL 20 s
        0x10, 0x18, // management address, length 24
        0x11, // address string length 17
        0x02, // subtype 2: IPv6
    ];
    b.extend_from_slice(&"fe80::1".parse::<Ipv6Addr>().unwrap().octets());
    b.extend_from_slice(&[
        0x01, // interface numbering: unknown
        0x00, 0x00, 0x00, 0x00, // interface 0
        0x00, // OID length 0
    ]);
    let d = Lldpdu::parse(&b).unwrap();
    assert_eq!(d.chassis_id.unwrap().to_text(), "switch1");
    assert_eq!(d.port_id.unwrap().to_text(), "port-001");
    assert_eq!(
        d.management_addresses().next().unwrap().to_text(),
        "fe80::1"
    );
    assert!(!d.end);
    assert_eq!(d.flags.0, Flags::BAD_LENGTH);
}

#[test]
fn network_address_chassis_id() {
    let b = [
        0x02, 0x06, // chassis id, length 6
        0x05, // subtype 5: network address
        0x01, 10, 0, 0, 1, // IPv4 10.0.0.1
        0x04, 0x02, // port id, length 2
        0x06, b'7', // subtype 6: agent circuit id, "7" (binary: shown as hex)
        0x06, 0x02, 0x00, 0x00, // TTL 0: forget me
        0x00, 0x00, // End
    ];
    let d = Lldpdu::parse(&b).unwrap();
    assert_eq!(d.chassis_id.unwrap().to_text(), "10.0.0.1");
    assert_eq!(d.port_id.unwrap().to_text(), "37");
    assert_eq!(d.ttl, Some(0));
    assert_eq!(d.flags, Flags::default());
}

#[test]
fn not_lldp_unless_chassis_id_first() {
    assert!(Lldpdu::parse(&[]).is_none());
    // Port id first.
    assert!(Lldpdu::parse(&[0x04, 0x02, 0x05, b'x']).is_none());
    // End first.
    assert!(Lldpdu::parse(&[0x00, 0x00]).is_none());
    assert_eq!(
        Parser.parse(Direction::Orig, &[0x06, 0x02, 0, 1]),
        Parsed::NotThisProtocol
    );
}

#[test]
fn tlv_past_the_end_stops_with_bad_length() {
    let b = [
        0x02, 0x07, 0x04, 0, 1, 2, 3, 4, 5, // chassis id MAC
        0x04, 0x03, 0x05, b'p', b'1', // port id "p1"
        0x06, 0x02, 0x00, 0x78, // TTL 120
        0x0a, 0x40, // system name claiming 64 bytes
        b'S', b'W', // ... of which 2 are here
    ];
    let d = Lldpdu::parse(&b).unwrap();
    assert_eq!(d.system_name, None);
    assert_eq!(d.ttl, Some(120));
    assert!(d.flags.has(Flags::BAD_LENGTH));
    assert_eq!(d.tlv_count, 3);
    // Lone header byte.
    let d = Lldpdu::parse(&[0x02]).unwrap();
    assert!(d.flags.has(Flags::BAD_LENGTH) && d.flags.has(Flags::RESERVED_SET));
}

#[test]
fn zero_length_mandatory_tlvs_are_flagged() {
    let b = [
        0x02, 0x00, // chassis id, length 0
        0x04, 0x01, 0x05, // port id: subtype only
        0x06, 0x00, // TTL, length 0
        0x00, 0x00, // End
    ];
    let d = Lldpdu::parse(&b).unwrap();
    assert_eq!((d.chassis_id, d.port_id, d.ttl), (None, None, None));
    assert!(d.flags.has(Flags::BAD_LENGTH));
    assert!(d.flags.has(Flags::RESERVED_SET)); // mandatory TLVs missing
    assert!(d.end);
}

#[test]
fn misordered_repeated_reserved_and_wrong_sizes() {
    let b = [
        0x02, 0x07, 0x04, 0, 1, 2, 3, 4, 5, // chassis id
        0x06, 0x02, 0x00, 0x78, // TTL second: out of place
        0x04, 0x03, 0x05, b'p', b'1', // port id third
        0x0a, 0x01, b'A', // system name "A"
        0x0a, 0x01, b'B', // system name again: kept "A"
        0x12, 0x00, // type 9: reserved
        0x0e, 0x02, 0x00, 0x04, // capabilities, 2 bytes instead of 4
        0x02, 0x07, 0x99, 0, 0, 0, 0, 0, 0, // chassis id again, subtype 0x99: out of place
        0x00, 0x01, 0x00, // End with a length
    ];
    let d = Lldpdu::parse(&b).unwrap();
    assert_eq!(d.system_name, Some(&b"A"[..]));
    assert_eq!(d.capabilities, None);
    assert!(d.flags.has(Flags::RESERVED_SET));
    assert!(d.flags.has(Flags::BAD_LENGTH));
    // The out-of-place TTL and port id are not taken as the mandatory ones.
    assert_eq!((d.ttl, d.port_id), (None, None));
    assert!(d.end);
}

#[test]
fn unknown_subtype_and_wrong_mac_length() {
    let b = [
        0x02, 0x04, 0x04, 0xaa, 0xbb, 0xcc, // chassis id: MAC of 3 bytes
        0x04, 0x02, 0x09, b'x', // port id subtype 9: reserved
        0x06, 0x02, 0x00, 0x78, // TTL
        0x00, 0x00, // End
    ];
    let d = Lldpdu::parse(&b).unwrap();
    assert!(d.flags.has(Flags::BAD_LENGTH));
    assert!(d.flags.has(Flags::UNKNOWN_FUNCTION));
    assert_eq!(d.chassis_id.unwrap().to_text(), "aabbcc");
}

#[test]
fn management_address_lengths_checked() {
    // Address string length 0, > 32, or past the value; OID past the value.
    for v in [
        &[0x00, 0x01][..],
        &[0x21, 0x01, 0, 0][..],
        &[0x05, 0x01, 1, 2, 3][..],
        &[0x05, 0x01, 1, 2, 3, 4, 2, 0, 0, 0, 1, 5, 0x2b][..],
    ] {
        assert_eq!(MgmtAddr::parse(v), None, "{v:02x?}");
    }
    let ok = [0x05, 0x01, 1, 2, 3, 4, 2, 0, 0, 0, 1, 2, 0x2b, 0x06];
    let m = MgmtAddr::parse(&ok).unwrap();
    assert_eq!(
        (m.to_text(), m.oid),
        ("1.2.3.4".to_string(), &[0x2b, 0x06][..])
    );
}

#[test]
fn tlv_walk_is_bounded() {
    // Chassis id, then thousands of empty port description TLVs and no End.
    let mut b = vec![0x02, 0x02, 0x07, b'c'];
    for _ in 0..4000 {
        b.extend_from_slice(&[0x08, 0x00]);
    }
    let d = Lldpdu::parse(&b).unwrap();
    assert_eq!(usize::from(d.tlv_count), MAX_TLVS);
    assert!(d.iter_tlvs().count() <= MAX_TLVS);
    assert!(!d.end);
}

#[test]
fn os_patterns() {
    let cases = [
        (
            "Cisco IOS Software, C3750E Software (C3750E-UNIVERSALK9-M), Version 15.2(4)E10, RELEASE SOFTWARE (fc2)",
            Some("Cisco IOS 15.2(4)E10"),
        ),
        (
            "Cisco IOS Software [Bengaluru], Catalyst L3 Switch Software (CAT9K_IOSXE), Version 17.6.4, RELEASE SOFTWARE (fc1)",
            Some("Cisco IOS XE 17.6.4"),
        ),
        (
            "Cisco IOS Software, IOS-XE Software, Catalyst 4500 L3 Switch Software (cat4500e-UNIVERSALK9-M), Version 03.06.06.E RELEASE SOFTWARE (fc1)",
            Some("Cisco IOS XE 03.06.06.E"),
        ),
        (
            "Cisco Nexus Operating System (NX-OS) Software 9.3(8)\nTAC support: http://www.cisco.com/tac",
            None,
        ),
        (
            "Juniper Networks, Inc. ex2200-24t-4g Ethernet Switch, kernel JUNOS 12.3R6.6, Build date: 2014-03-13",
            Some("JUNOS 12.3R6.6"),
        ),
        (
            "Debian GNU/Linux 12 (bookworm) Linux 6.1.0-13-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.55-1 (2023-09-29) x86_64",
            Some("Linux 6.1.0-13-amd64"),
        ),
        (
            "Siemens, SIMATIC NET, SCALANCE X212-2, 6GK5 212-2BB00-2AA3, HW: 7, FW: V4.02",
            None,
        ),
        ("Linux switch", None),
        ("Cisco IOS Software, no version", None),
    ];
    for (desc, want) in cases {
        assert_eq!(os_from_description(desc).as_deref(), want, "{desc}");
    }
}

#[test]
fn profinet_station_description() {
    let d = "Siemens, SIMATIC NET, SCALANCE X212-2, 6GK5 212-2BB00-2AA3, HW: 7, FW: V4.02";
    let s = StationDescription::parse(d).unwrap();
    assert_eq!(
        (s.vendor, s.product, s.order_id, s.hardware, s.firmware),
        (
            "Siemens",
            "SIMATIC NET, SCALANCE X212-2",
            "6GK5 212-2BB00-2AA3",
            "7",
            "V4.02"
        )
    );
    let cpu = "Siemens, SIMATIC S7, CPU 1511-1 PN, 6ES7 511-1AK01-0AB0, HW: 3, FW: V2.1.0";
    let s = StationDescription::parse(cpu).unwrap();
    assert_eq!((s.order_id, s.firmware), ("6ES7 511-1AK01-0AB0", "V2.1.0"));
    for other in [
        "Cisco IOS Software, C2960 Software, Version 12.2(55)SE5",
        "Siemens, 6GK5, HW: 7, FW: V4.02", // no product field
        "Siemens, SIMATIC NET, X212, 6GK5, HW: 7", // no firmware
        "Vendor, Product, Order, HW: , FW: V1", // empty hardware
        ", HW: 1, FW: 2",
    ] {
        assert_eq!(StationDescription::parse(other), None, "{other}");
    }
    // As identity facts.
    let mut b = vec![
        0x02, 0x02, 0x07, b'c', 0x04, 0x02, 0x07, b'p', 0x06, 0x02, 0, 20,
    ];
    b.extend_from_slice(&[0x0c, d.len() as u8]);
    b.extend_from_slice(d.as_bytes());
    b.extend_from_slice(&[0, 0]);
    let mut facts = Vec::new();
    identity(SRC, &Lldpdu::parse(&b).unwrap(), &mut facts);
    let got: Vec<(IdentityKind, &str)> = facts.iter().map(|f| (f.kind, f.value.as_str())).collect();
    assert_eq!(
        got[..4],
        [
            (IdentityKind::Vendor, "Siemens"),
            (IdentityKind::Product, "SIMATIC NET, SCALANCE X212-2"),
            (IdentityKind::Model, "6GK5 212-2BB00-2AA3"),
            (IdentityKind::Firmware, "V4.02"),
        ]
    );
}

#[test]
fn text_trims_nuls_and_blanks() {
    assert_eq!(text(b"name\0\0"), "name");
    assert_eq!(text(b"a b \n"), "a b");
    assert_eq!(text(b"\0"), "");
    assert_eq!(text(b"\xffx"), "\u{fffd}x");
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        exercise(&bytes);
    }

    #[test]
    fn mutated_frames_never_panic(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in any::<usize>(),
    ) {
        let mut b = switch_frame();
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
            assert!(pdu.tlvs.len() <= bytes.len());
            assert!(usize::from(pdu.tlv_count) <= MAX_TLVS);
            let mut facts = Vec::new();
            identity(SRC, &pdu, &mut facts);
            let r = LldpRecord::new(0, SRC, &pdu);
            assert!(r.management_addresses.len() <= MAX_MGMT_ADDRS);
            assert_eq!(
                usize::from(pdu.mgmt_count),
                pdu.management_addresses().count()
            );
        }
        Parsed::Incomplete { .. } => panic!("LLDP is never incomplete"),
        Parsed::NotThisProtocol => assert!(bytes.first().is_none_or(|b| b >> 1 != 1)),
    }
}

/// Writes this module's frames as seeds for `fuzz/fuzz_targets/dissect_l2id.rs`
/// (selector byte 0). Run with
/// `cargo test -p mamori-dissect --lib write_fuzz_seeds -- --ignored`.
#[test]
#[ignore]
fn write_fuzz_seeds() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/dissect_l2id");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in fuzz_seeds() {
        let mut seed = vec![0];
        seed.extend_from_slice(&bytes);
        std::fs::write(dir.join(format!("lldp_{name}")), seed).unwrap();
    }
}

fn fuzz_seeds() -> Vec<(&'static str, Vec<u8>)> {
    vec![("switch", switch_frame())]
}
