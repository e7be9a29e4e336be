use proptest::prelude::*;

use super::*;

/// RFC 1002 encoding of a NetBIOS name: length 0x20, 32 letters, root label.
fn encoded(name: &str, suffix: u8) -> Vec<u8> {
    let mut raw = [b' '; 16];
    raw[..name.len()].copy_from_slice(name.as_bytes());
    raw[15] = suffix;
    let mut out = vec![0x20];
    for b in raw {
        out.push(b'A' + (b >> 4));
        out.push(b'A' + (b & 0x0f));
    }
    out.push(0);
    out
}

/// A NetBIOS datagram (direct group, first fragment) from PLC-HMI01<00> at
/// 192.168.10.5 to `dest`, carrying an SMB mailslot write of `data` to `slot`.
fn datagram(dest: (&str, u8), slot: &str, data: &[u8]) -> Vec<u8> {
    let mut smb = vec![
        0xff, b'S', b'M', b'B', // SMB signature
        0x25, // SMB_COM_TRANSACTION
        0, 0, 0, 0,    // status
        0x00, // flags
        0x00, 0x00, // flags2
        0x00, 0x00, // PID high
        0, 0, 0, 0, 0, 0, 0, 0, // security features
        0x00, 0x00, // reserved
        0x00, 0x00, // TID
        0x00, 0x00, // PID low
        0x00, 0x00, // UID
        0x00, 0x00, // MID
        17,   // word count: 14 + 3 setup words
    ];
    let data_offset = 32 + 1 + 34 + 2 + slot.len() + 1;
    let n = data.len() as u16;
    for w in [
        0u16,               // total parameter count
        n,                  // total data count
        0,                  // max parameter count
        0,                  // max data count
        0,                  // max setup count, reserved
        0,                  // flags
        1000,               // timeout (u32, ms): low word
        0,                  // timeout: high word
        0,                  // reserved
        0,                  // parameter count
        data_offset as u16, // parameter offset
        n,                  // data count
        data_offset as u16, // data offset
        3,                  // setup count 3, reserved
        1,                  // setup: opcode 1, write mailslot
        1,                  // priority
        2,                  // class 2: unreliable (broadcast)
    ] {
        smb.extend_from_slice(&w.to_le_bytes());
    }
    smb.extend_from_slice(&((slot.len() + 1 + data.len()) as u16).to_le_bytes()); // byte count
    smb.extend_from_slice(slot.as_bytes());
    smb.push(0);
    smb.extend_from_slice(data);
    let mut names = encoded("PLC-HMI01", 0x00);
    names.extend(encoded(dest.0, dest.1));
    let mut b = vec![
        0x11, // direct group datagram
        0x02, // flags: first fragment, B node
        0x81, 0x23, // datagram id
        192, 168, 10, 5, // source IP
        0x00, 0x8a, // source port 138
    ];
    b.extend_from_slice(&((names.len() + smb.len()) as u16).to_be_bytes()); // length
    b.extend_from_slice(&[0x00, 0x00]); // packet offset
    b.extend(names);
    b.extend(smb);
    b
}

/// A Windows 7 host announcement: workstation, server, NT workstation, potential
/// browser.
fn host_announcement() -> Vec<u8> {
    let mut d = vec![
        0x01, // host announcement
        0x03, // update count
        0x80, 0xfc, 0x0a, 0x00, // periodicity 720000 ms (12 min)
    ];
    d.extend_from_slice(b"PLC-HMI01\0\0\0\0\0\0\0"); // server name, 16 bytes
    d.extend_from_slice(&[
        0x06, 0x01, // OS 6.1
        0x03, 0x10, 0x01, 0x00, // server type 0x00011003
        0x0f, 0x01, // browser 15.1
        0x55, 0xaa, // signature
    ]);
    d.extend_from_slice(b"Line 3 HMI\0"); // comment
    datagram(("WORKGROUP", 0x1d), "\\MAILSLOT\\BROWSE", &d)
}

#[test]
fn host_announcement_decodes() {
    let b = host_announcement();
    let d = Datagram::parse(&b).expect("browser");
    assert_eq!((d.msg_type, d.id, d.src_port), (0x11, 0x8123, 138));
    assert_eq!(d.src_ip, Ipv4Addr::new(192, 168, 10, 5));
    assert_eq!(d.source_name.to_string(), "PLC-HMI01<00>");
    assert_eq!(d.dest_name.to_string(), "WORKGROUP<1d>");
    assert_eq!(d.mailslot, Mailslot::Browse);
    let m = d.browse;
    assert_eq!(m.opcode, opcode::HOST_ANNOUNCEMENT);
    assert_eq!((m.update_count, m.periodicity_ms), (Some(3), Some(720_000)));
    assert_eq!(m.name, Some(&b"PLC-HMI01"[..]));
    assert_eq!(m.os_version, Some((6, 1)));
    assert_eq!(m.server_type, Some(0x0001_1003));
    assert_eq!(m.browser_version, Some((15, 1)));
    assert_eq!(m.signature, Some(SIGNATURE));
    assert_eq!(m.comment, Some(&b"Line 3 HMI"[..]));
    assert_eq!(d.flags, Flags::default());
    assert_eq!(
        server_type_names(0x0001_1003).collect::<Vec<_>>(),
        [
            "workstation",
            "server",
            "nt_workstation",
            "potential_browser"
        ]
    );
}

#[test]
fn host_announcement_facts_and_record() {
    let b = host_announcement();
    let d = Datagram::parse(&b).unwrap();
    let mut facts = Vec::new();
    identity(Direction::Resp, &d, &mut facts);
    let got: Vec<(IdentityKind, &str)> = facts.iter().map(|f| (f.kind, f.value.as_str())).collect();
    assert_eq!(
        got,
        [
            (IdentityKind::Hostname, "PLC-HMI01"),
            (IdentityKind::Os, "Windows 6.1"),
            (
                IdentityKind::DeviceType,
                "workstation,server,nt_workstation,potential_browser"
            ),
            (IdentityKind::Domain, "WORKGROUP"),
        ]
    );
    assert!(
        facts
            .iter()
            .all(|f| f.about == Subject::Side(Direction::Resp) && f.protocol == "browser")
    );
    let r = BrowserRecord::new(5, Direction::Resp, &d);
    assert_eq!(r.opcode_name, "host_announcement");
    assert_eq!(r.os.as_deref(), Some("Windows 6.1"));
    assert_eq!(r.os_family, Some("Windows 7 / Server 2008 R2"));
    assert_eq!(r.workgroup.as_deref(), Some("WORKGROUP"));
    assert_eq!(r.comment.as_deref(), Some("Line 3 HMI"));
}

#[test]
fn domain_announcement_names_workgroup_and_master() {
    let mut d = vec![
        0x0c, // domain announcement
        0x00, // update count
        0xe0, 0x93, 0x04, 0x00, // periodicity 300000 ms
    ];
    d.extend_from_slice(b"PLANTNET\0\0\0\0\0\0\0\0"); // workgroup
    d.extend_from_slice(&[
        0x03, 0x0a, // browser configuration version 3.10 (not an OS)
        0x00, 0x10, 0x00, 0x80, // server type: nt_workstation, domain_enum
        0xfc, 0xf9, 0x6b, 0x02, // undocumented value (no signature here)
    ]);
    d.extend_from_slice(b"PLC-HMI01\0"); // master browser
    let b = datagram(
        ("\u{1}\u{2}__MSBROWSE__\u{2}", 0x01),
        "\\MAILSLOT\\BROWSE",
        &d,
    );
    let dg = Datagram::parse(&b).unwrap();
    assert_eq!(dg.flags, Flags::default());
    assert_eq!(dg.browse.signature, None);
    let mut facts = Vec::new();
    identity(Direction::Orig, &dg, &mut facts);
    let got: Vec<(IdentityKind, &str)> = facts.iter().map(|f| (f.kind, f.value.as_str())).collect();
    assert_eq!(
        got,
        [
            (IdentityKind::Hostname, "PLC-HMI01"),
            (IdentityKind::Domain, "PLANTNET"),
        ]
    );
    let r = BrowserRecord::new(0, Direction::Orig, &dg);
    assert_eq!((r.os, r.os_version), (None, None));
}

#[test]
fn samba_and_lanman_announcement() {
    let mut d = vec![
        0x01, // host announcement
        0x01, // update count
        0x03, 0x0b, 0x00, 0x00, // server type 0x00000b03: workstation, server, print, xenix
        0x04, 0x09, // OS 4.9 (Samba's default)
        0xb4, 0x00, // periodicity 180 s
    ];
    d.extend_from_slice(b"FILESRV\0"); // server name
    d.extend_from_slice(b"Samba 4.17\0"); // comment
    let b = datagram(("WORKGROUP", 0x00), "\\MAILSLOT\\LANMAN", &d);
    let dg = Datagram::parse(&b).unwrap();
    assert_eq!(dg.mailslot, Mailslot::Lanman);
    let m = dg.browse;
    assert_eq!(
        (m.name, m.os_version),
        (Some(&b"FILESRV"[..]), Some((4, 9)))
    );
    assert_eq!(
        (m.periodicity_ms, m.comment),
        (Some(180_000), Some(&b"Samba 4.17"[..]))
    );
    assert_eq!(dg.flags, Flags::default());
    let mut facts = Vec::new();
    identity(Direction::Orig, &dg, &mut facts);
    assert!(
        facts
            .iter()
            .any(|f| f.kind == IdentityKind::Os && f.value == "Samba (announces 4.9)")
    );
    // Sent to WORKGROUP<00>, not a browser group name: no domain fact.
    assert!(!facts.iter().any(|f| f.kind == IdentityKind::Domain));
    assert_eq!(BrowserRecord::new(0, Direction::Orig, &dg).os_family, None);
}

#[test]
fn other_opcodes() {
    let slot = "\\MAILSLOT\\BROWSE";
    let to = ("WORKGROUP", 0x1e);
    // Election: version 1, criteria, uptime 1 h, reserved, name.
    let mut e = vec![
        0x08, 0x01, 0x0f, 0x01, 0x14, 0x20, 0x80, 0xee, 0x36, 0x00, 0, 0, 0, 0,
    ];
    e.extend_from_slice(b"ENG-WS2\0");
    let b = datagram(to, slot, &e);
    let d = Datagram::parse(&b).unwrap();
    assert_eq!(d.browse.election, Some((1, 0x2014_010f, 3_600_000)));
    assert_eq!(d.browse.name, Some(&b"ENG-WS2"[..]));
    let mut facts = Vec::new();
    identity(Direction::Orig, &d, &mut facts);
    assert_eq!(facts.len(), 2); // hostname ENG-WS2, domain WORKGROUP
    // Announcement request: unused byte, name to answer to; no facts.
    let b = datagram(to, slot, b"\x02\x00ENG-WS2\0");
    let d = Datagram::parse(&b).unwrap();
    assert_eq!(d.browse.name, Some(&b"ENG-WS2"[..]));
    let mut facts = Vec::new();
    identity(Direction::Orig, &d, &mut facts);
    assert!(facts.is_empty());
    // Become backup, master announcement, reset state.
    for (data, name) in [
        (&b"\x0bBACKUP1\0"[..], Some(&b"BACKUP1"[..])),
        (&b"\x0dMASTER\0"[..], Some(&b"MASTER"[..])),
        (&b"\x0e\x01"[..], None),
    ] {
        let b = datagram(to, slot, data);
        let d = Datagram::parse(&b).unwrap();
        assert_eq!(d.browse.name, name);
        assert_eq!(d.flags, Flags::default(), "{data:02x?}");
    }
    // Backup list response: count 2, token, two names.
    let b = datagram(to, slot, b"\x0a\x02\x01\x00\x00\x00SRV1\0SRV2\0");
    let d = Datagram::parse(&b).unwrap();
    assert_eq!(d.browse.backup, Some((2, 1)));
    assert_eq!(
        d.browse.backup_servers().collect::<Vec<_>>(),
        [&b"SRV1"[..], &b"SRV2"[..]]
    );
    // Unknown opcode.
    let b = datagram(to, slot, b"\x42");
    assert!(
        Datagram::parse(&b)
            .unwrap()
            .flags
            .has(Flags::UNKNOWN_FUNCTION)
    );
}

#[test]
fn truncated_and_bad_signature() {
    let b = host_announcement();
    // Cut inside the announcement: still browser, with what parsed and bad_length.
    let cut = &b[..b.len() - 20];
    let d = Datagram::parse(cut).unwrap();
    assert!(d.flags.has(Flags::BAD_LENGTH));
    assert_eq!(d.browse.name, Some(&b"PLC-HMI01"[..]));
    assert_eq!(d.browse.os_version, None);
    // Comment without its NUL.
    let d = Datagram::parse(&b[..b.len() - 1]).unwrap();
    assert!(d.flags.has(Flags::BAD_LENGTH));
    assert_eq!(d.browse.comment, Some(&b"Line 3 HMI"[..]));
    // Signature wrong.
    let mut bad = b.clone();
    let sig = bad.len() - 11 - 2;
    bad[sig] = 0x00;
    assert!(
        Datagram::parse(&bad)
            .unwrap()
            .flags
            .has(Flags::RESERVED_SET)
    );
}

#[test]
fn not_browser() {
    let b = host_announcement();
    // Other mailslot.
    let other = datagram(("DOMAIN", 0x1c), "\\MAILSLOT\\NET\\NETLOGON", &[0x12, 0]);
    assert!(Datagram::parse(&other).is_none());
    // Not a first fragment.
    let mut frag = b.clone();
    frag[1] = 0x00;
    assert!(Datagram::parse(&frag).is_none());
    // Error datagram type.
    let mut err = b.clone();
    err[0] = 0x13;
    assert!(Datagram::parse(&err).is_none());
    // Not SMB.
    let mut smb = b.clone();
    smb[14 + 34 + 34] = 0xfe;
    assert!(Datagram::parse(&smb).is_none());
    // Name label not 32 bytes.
    let mut name = b.clone();
    name[14] = 0x1f;
    assert!(Datagram::parse(&name).is_none());
    // Header cut.
    assert!(Datagram::parse(&b[..60]).is_none());
    assert!(Datagram::parse(&[]).is_none());
}

#[test]
fn length_fields_disagreeing_are_flagged() {
    let mut b = host_announcement();
    b[11] = b[11].wrapping_add(1); // datagram length one too many
    assert!(Datagram::parse(&b).unwrap().flags.has(Flags::BAD_LENGTH));
}

#[test]
fn windows_families() {
    assert_eq!(windows_family(5, 1), Some("Windows XP"));
    assert_eq!(
        windows_family(10, 0),
        Some("Windows 10 / 11 / Server 2016 or later")
    );
    assert_eq!(windows_family(3, 10), None);
    assert_eq!(os_value(5, 1, 0x1003), "Windows 5.1");
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        exercise(&bytes);
    }

    #[test]
    fn mutated_datagrams_never_panic(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in any::<usize>(),
    ) {
        let mut b = host_announcement();
        for (at, v) in edits {
            let i = at % b.len();
            b[i] = v;
        }
        b.truncate(cut % (b.len() + 1));
        exercise(&b);
    }

    #[test]
    fn arbitrary_browser_data_never_panics(
        data in proptest::collection::vec(any::<u8>(), 1..80),
        lanman in any::<bool>(),
    ) {
        let slot = if lanman { "\\MAILSLOT\\LANMAN" } else { "\\MAILSLOT\\BROWSE" };
        let b = datagram(("WORKGROUP", 0x1d), slot, &data);
        let d = Datagram::parse(&b).expect("a well-framed mailslot write is browser");
        prop_assert_eq!(d.browse.opcode, data[0]);
        exercise(&b);
    }
}

fn exercise(bytes: &[u8]) {
    match Parser.parse(Direction::Orig, bytes) {
        Parsed::Pdu { pdu, consumed } => {
            assert!(consumed >= 1 && consumed <= bytes.len());
            let mut facts = Vec::new();
            identity(Direction::Orig, &pdu, &mut facts);
            assert!(facts.len() <= 4);
            let r = BrowserRecord::new(0, Direction::Orig, &pdu);
            assert!(r.server_type_names.len() <= 32);
            assert!(pdu.browse.backup_servers().count() <= MAX_BACKUP_NAMES);
        }
        Parsed::Incomplete { .. } => panic!("browser is never incomplete"),
        Parsed::NotThisProtocol => {}
    }
}

/// Writes this module's frames as seeds for `fuzz/fuzz_targets/dissect_l2id.rs`
/// (selector byte 2). Run with
/// `cargo test -p mamori-dissect --lib write_fuzz_seeds -- --ignored`.
#[test]
#[ignore]
fn write_fuzz_seeds() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/dissect_l2id");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in fuzz_seeds() {
        let mut seed = vec![2];
        seed.extend_from_slice(&bytes);
        std::fs::write(dir.join(format!("browser_{name}")), seed).unwrap();
    }
}

fn fuzz_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let mut election = vec![
        0x08, 0x01, 0x0f, 0x01, 0x14, 0x20, 0x80, 0xee, 0x36, 0, 0, 0, 0, 0,
    ];
    election.extend_from_slice(b"ENG-WS2\0");
    let mut lanman = vec![0x01, 0x01, 0x03, 0x0b, 0x00, 0x00, 0x04, 0x09, 0xb4, 0x00];
    lanman.extend_from_slice(b"FILESRV\0Samba\0");
    let to = ("WORKGROUP", 0x1e);
    vec![
        ("host_announcement", host_announcement()),
        ("election", datagram(to, "\\MAILSLOT\\BROWSE", &election)),
        ("lanman", datagram(to, "\\MAILSLOT\\LANMAN", &lanman)),
        (
            "backup_list",
            datagram(
                to,
                "\\MAILSLOT\\BROWSE",
                b"\x0a\x02\x01\x00\x00\x00SRV1\0SRV2\0",
            ),
        ),
    ]
}
