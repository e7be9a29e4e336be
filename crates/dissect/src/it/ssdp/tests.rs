use proptest::prelude::*;

use super::*;

/// A search from a Windows host (the final empty line is there).
const SEARCH: &[u8] = b"M-SEARCH * HTTP/1.1\r\n\
HOST: 239.255.255.250:1900\r\n\
MAN: \"ssdp:discover\"\r\n\
MX: 3\r\n\
ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n\
USER-AGENT: Microsoft-Windows/10.0 UPnP/1.0\r\n\
\r\n";

/// An alive notification from a camera, header names in mixed case, no final empty line.
const NOTIFY: &[u8] = b"NOTIFY * HTTP/1.1\r\n\
Host: 239.255.255.250:1900\r\n\
Cache-Control: max-age=1800\r\n\
Location: http://192.168.1.64:49152/rootDesc.xml\r\n\
nt: upnp:rootdevice\r\n\
NTS: ssdp:alive\r\n\
Server: Linux/3.10 UPnP/1.0 IPCamera/2.1\r\n\
USN: uuid:4d696e69-444c-164e-9d41-b827eb000001::upnp:rootdevice\r\n";

/// A search response.
const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\n\
CACHE-CONTROL: max-age=120\r\n\
ST: upnp:rootdevice\r\n\
USN: uuid:plc-1::upnp:rootdevice\r\n\
EXT:\r\n\
SERVER: VxWorks/6.9 UPnP/1.0 PLC/1.0\r\n\
LOCATION: http://10.0.0.5:80/desc.xml\r\n\
\r\n";

#[test]
fn search_fields_and_facts() {
    let m = Message::parse(SEARCH).expect("parses");
    assert_eq!(m.kind, Kind::Search);
    assert_eq!(
        m.st,
        Some(&b"urn:schemas-upnp-org:device:InternetGatewayDevice:1"[..])
    );
    assert_eq!(m.man, Some(&b"\"ssdp:discover\""[..]));
    assert_eq!(m.host, Some(&b"239.255.255.250:1900"[..]));
    let mut facts = Vec::new();
    identity(Direction::Orig, &m, &mut facts);
    assert_eq!(
        facts,
        vec![IdentityFact {
            about: Subject::Side(Direction::Orig),
            kind: IdentityKind::UserAgent,
            value: "Microsoft-Windows/10.0 UPnP/1.0".into(),
            protocol: PROTOCOL,
        }]
    );
}

#[test]
fn notify_without_final_empty_line() {
    let m = Message::parse(NOTIFY).expect("parses");
    assert_eq!(m.kind, Kind::Notify);
    assert_eq!(m.nt, Some(&b"upnp:rootdevice"[..]));
    assert_eq!(m.nts, Some(&b"ssdp:alive"[..]));
    assert_eq!(
        m.usn,
        Some(&b"uuid:4d696e69-444c-164e-9d41-b827eb000001::upnp:rootdevice"[..])
    );
    let mut facts = Vec::new();
    identity(Direction::Orig, &m, &mut facts);
    let got: Vec<_> = facts.iter().map(|f| (f.kind, f.value.as_str())).collect();
    assert_eq!(
        got,
        vec![
            (IdentityKind::Software, "Linux/3.10 UPnP/1.0 IPCamera/2.1"),
            (
                IdentityKind::Description,
                "http://192.168.1.64:49152/rootDesc.xml"
            ),
        ]
    );
    let r = SsdpRecord::new(7, &m);
    assert_eq!(r.kind, "NOTIFY");
    assert_eq!(r.target.as_deref(), Some("upnp:rootdevice"));
}

#[test]
fn response_and_byebye() {
    let m = Message::parse(RESPONSE).expect("parses");
    assert_eq!(m.kind, Kind::Response(200));
    assert_eq!(m.location, Some(&b"http://10.0.0.5:80/desc.xml"[..]));
    let r = SsdpRecord::new(1, &m);
    assert_eq!((r.kind.as_str(), r.status_code), ("response", Some(200)));
    let bye = b"NOTIFY * HTTP/1.1\r\nNTS: ssdp:byebye\r\nLOCATION: http://x/\r\n\r\n";
    let mut facts = Vec::new();
    identity(
        Direction::Orig,
        &Message::parse(bye).expect("parses"),
        &mut facts,
    );
    assert!(facts.is_empty());
}

#[test]
fn other_payloads_are_not_ssdp() {
    for bytes in [
        &b""[..],
        b"\x00\x01\x02",
        b"hello world\r\n\r\n",
        b"NOTIFY *\r\n\r\n",
    ] {
        assert_eq!(
            Parser.parse(Direction::Orig, bytes),
            Parsed::NotThisProtocol,
            "{bytes:?}"
        );
    }
    let sub = Message::parse(b"SUBSCRIBE /evt HTTP/1.1\r\n\r\n").expect("parses");
    assert!(sub.flags.has(Flags::UNKNOWN_FUNCTION));
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400), prefix in 0usize..3) {
        let mut d = [SEARCH, NOTIFY, RESPONSE][prefix][..40].to_vec();
        d.extend(bytes);
        if let Parsed::Pdu { pdu, consumed } = Parser.parse(Direction::Orig, &d) {
            prop_assert_eq!(consumed, d.len());
            let mut facts = Vec::new();
            identity(Direction::Resp, &pdu, &mut facts);
            let _ = SsdpRecord::new(0, &pdu);
        }
    }
}

/// Writes `fuzz/seeds/dissect_ssdp/` (run with `--ignored`): one datagram per file.
#[test]
#[ignore]
fn write_fuzz_seeds() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/dissect_ssdp");
    std::fs::create_dir_all(&dir).expect("seed dir");
    for (name, bytes) in [
        ("search", SEARCH),
        ("notify", NOTIFY),
        ("response", RESPONSE),
    ] {
        std::fs::write(dir.join(name), bytes).expect("seed written");
    }
}
