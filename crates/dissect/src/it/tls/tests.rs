use proptest::prelude::*;

use super::*;

fn vec8(b: &[u8]) -> Vec<u8> {
    let mut v = vec![b.len() as u8];
    v.extend_from_slice(b);
    v
}
fn vec16(b: &[u8]) -> Vec<u8> {
    let mut v = (b.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(b);
    v
}
fn vec24(b: &[u8]) -> Vec<u8> {
    let mut v = (b.len() as u32).to_be_bytes()[1..].to_vec();
    v.extend_from_slice(b);
    v
}
fn u16s_be(vals: &[u16]) -> Vec<u8> {
    vals.iter().flat_map(|v| v.to_be_bytes()).collect()
}
fn ext(t: u16, data: &[u8]) -> Vec<u8> {
    let mut v = t.to_be_bytes().to_vec();
    v.extend(vec16(data));
    v
}
fn handshake(t: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![t];
    v.extend(vec24(body));
    v
}
fn record(ct: u8, fragment: &[u8]) -> Vec<u8> {
    let mut v = vec![ct, 0x03, 0x03];
    v.extend(vec16(fragment));
    v
}

/// A Chrome-like ClientHello body built to match JA4's published example
/// (`t13d1516h2_8daaf6152771_e5627efa2ab1`): 15 ciphers and 16 extensions besides
/// GREASE, SNI `plant-historian.example`, ALPN h2 and http/1.1.
fn chrome_hello() -> Vec<u8> {
    let ciphers = [
        0x3a3a, // GREASE
        0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014,
        0x009c, 0x009d, 0x002f, 0x0035,
    ];
    let sigalgs = [
        0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
    ];
    let mut exts = Vec::new();
    exts.extend(ext(0x1a1a, &[])); // GREASE
    exts.extend(ext(
        0x0000,
        &vec16(&[&[0u8][..], &vec16(b"plant-historian.example")].concat()),
    )); // SNI
    exts.extend(ext(0x0017, &[])); // extended_master_secret
    exts.extend(ext(0xff01, &[0])); // renegotiation_info
    exts.extend(ext(
        0x000a,
        &vec16(&u16s_be(&[0x2a2a, 0x001d, 0x0017, 0x0018])),
    )); // groups
    exts.extend(ext(0x000b, &vec8(&[0]))); // ec_point_formats: uncompressed
    exts.extend(ext(0x0023, &[])); // session_ticket
    exts.extend(ext(
        0x0010,
        &vec16(&[vec8(b"h2"), vec8(b"http/1.1")].concat()),
    )); // ALPN
    exts.extend(ext(0x0005, &[1, 0, 0, 0, 0])); // status_request
    exts.extend(ext(0x000d, &vec16(&u16s_be(&sigalgs)))); // signature_algorithms
    exts.extend(ext(0x0012, &[])); // signed_certificate_timestamp
    exts.extend(ext(
        0x0033,
        &vec16(&[&u16s_be(&[0x001d])[..], &vec16(&[7; 32])].concat()),
    )); // key_share
    exts.extend(ext(0x002d, &vec8(&[1]))); // psk_key_exchange_modes
    exts.extend(ext(0x002b, &vec8(&u16s_be(&[0x6a6a, 0x0304, 0x0303])))); // supported_versions
    exts.extend(ext(0x001b, &vec8(&u16s_be(&[0x0002])))); // compress_certificate
    exts.extend(ext(0x4469, &vec16(&vec8(b"h2")))); // application_settings
    exts.extend(ext(0xfafa, &[0])); // GREASE
    exts.extend(ext(0x0015, &[0; 20])); // padding
    let mut body = vec![0x03, 0x03]; // legacy_version TLS 1.2
    body.extend([0x11; 32]); // random
    body.extend(vec8(&[0x22; 32])); // session id
    body.extend(vec16(&u16s_be(&ciphers)));
    body.extend(vec8(&[0])); // compression: null
    body.extend(vec16(&exts));
    body
}

/// A TLS 1.2 ServerHello: cipher 0xc02f, extensions renegotiation_info, ALPN h2.
fn server_hello_12(session_id: &[u8]) -> Vec<u8> {
    let mut body = vec![0x03, 0x03];
    body.extend([0x33; 32]);
    body.extend(vec8(session_id));
    body.extend(0xc02fu16.to_be_bytes());
    body.push(0);
    let mut exts = ext(0xff01, &[0]);
    exts.extend(ext(0x0010, &vec16(&vec8(b"h2"))));
    body.extend(vec16(&exts));
    body
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    match content.len() {
        n if n < 0x80 => v.push(n as u8),
        n if n < 0x100 => v.extend([0x81, n as u8]),
        n => v.extend([0x82, (n >> 8) as u8, n as u8]),
    }
    v.extend_from_slice(content);
    v
}

/// A Name from (OID content, string tag, value).
fn dn(attrs: &[(&[u8], u8, &str)]) -> Vec<u8> {
    let mut rdns = Vec::new();
    for (oid, tag, value) in attrs {
        let atv = tlv(
            0x30,
            &[tlv(0x06, oid), tlv(*tag, value.as_bytes())].concat(),
        );
        rdns.extend(tlv(0x31, &atv));
    }
    tlv(0x30, &rdns)
}

/// A self-made certificate (unsigned: the signature is filler).
fn certificate(issuer: &[u8], subject: &[u8], not_before: &str, not_after: &str) -> Vec<u8> {
    let alg = tlv(
        0x30,
        &[tlv(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02])].concat(),
    ); // ecdsa-with-SHA256
    let spki = tlv(
        0x30,
        &[
            tlv(
                0x30,
                &[
                    tlv(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]),
                    tlv(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]),
                ]
                .concat(),
            ),
            tlv(0x03, &[&[0u8, 4][..], &[9; 64]].concat()),
        ]
        .concat(),
    );
    let tbs = tlv(
        0x30,
        &[
            tlv(0xa0, &tlv(0x02, &[2])),    // version v3
            tlv(0x02, &[0x01, 0x23, 0x45]), // serial
            alg.clone(),
            issuer.to_vec(),
            tlv(
                0x30,
                &[
                    tlv(0x17, not_before.as_bytes()),
                    tlv(0x17, not_after.as_bytes()),
                ]
                .concat(),
            ),
            subject.to_vec(),
            spki,
        ]
        .concat(),
    );
    tlv(
        0x30,
        &[
            tbs,
            alg,
            tlv(0x03, &[0, 0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]),
        ]
        .concat(),
    )
}

fn test_certificate(cn: &str) -> Vec<u8> {
    use certificate::attribute::*;
    certificate(
        &dn(&[
            (COUNTRY, 0x13, "JP"),
            (ORGANIZATION, 0x13, "Plant CA Inc"),
            (COMMON_NAME, 0x13, "Plant Issuing CA"),
        ]),
        &dn(&[
            (COUNTRY, 0x13, "JP"),
            (ORGANIZATION, 0x0c, "Mamori, Test"),
            (COMMON_NAME, 0x0c, cn),
        ]),
        "240101000000Z",
        "341231235959Z",
    )
}

/// Client flight, server flight, then encrypted traffic, for a TLS 1.2 connection.
fn conversation_12(cn: &str) -> (Vec<u8>, Vec<u8>) {
    let mut client = record(22, &handshake(1, &chrome_hello()));
    client.extend(record(22, &handshake(16, &vec8(&[5; 32])))); // ClientKeyExchange
    client.extend(record(20, &[1]));
    client.extend(record(22, &[0xee; 40])); // encrypted Finished
    client.extend(record(23, &[0xab; 100]));
    let mut flight = handshake(2, &server_hello_12(&[0x44; 32]));
    let cert = test_certificate(cn);
    flight.extend(handshake(11, &vec24(&vec24(&cert))));
    flight.extend(handshake(14, &[])); // ServerHelloDone
    let mut server = record(22, &flight);
    server.extend(record(20, &[1]));
    server.extend(record(22, &[0xdd; 40]));
    server.extend(record(23, &[0xcd; 300]));
    (client, server)
}

fn run(chunks: &[(Direction, &[u8])]) -> (Session, Vec<TlsRecord>, Vec<IdentityFact>) {
    let mut s = Session::new();
    let mut facts = Vec::new();
    for (i, (dir, bytes)) in chunks.iter().enumerate() {
        s.on_data(*dir, i as i64, bytes, &mut facts);
    }
    let mut records = Vec::new();
    s.finish(&mut records);
    (s, records, facts)
}

#[test]
fn ja4_matches_the_published_example() {
    let body = chrome_hello();
    let ch = ClientHello::parse(&body).expect("parses");
    assert_eq!(ch.ja4(), "t13d1516h2_8daaf6152771_e5627efa2ab1");
    assert_eq!(ch.flags, Flags::default());
    assert_eq!(ch.server_name(), Some(&b"plant-historian.example"[..]));
    assert_eq!(ch.alpn().collect::<Vec<_>>(), vec![&b"h2"[..], b"http/1.1"]);
}

#[test]
fn ja3_leaves_grease_out() {
    let body = chrome_hello();
    let ch = ClientHello::parse(&body).expect("parses");
    let ja3 = ch.ja3_string();
    assert_eq!(
        ja3,
        "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,\
         0-23-65281-10-11-35-16-5-13-18-51-45-43-27-17513-21,29-23-24,0"
    );
    assert_eq!(ja3_hash(""), "d41d8cd98f00b204e9800998ecf8427e");
}

#[test]
fn ja4_without_sni_alpn_or_signature_algorithms() {
    // TLS 1.0 hello: two ciphers, no extensions.
    let mut body = vec![0x03, 0x01];
    body.extend([0; 32]);
    body.extend(vec8(&[]));
    body.extend(vec16(&u16s_be(&[0x0035, 0x002f])));
    body.extend(vec8(&[0]));
    let ch = ClientHello::parse(&body).expect("parses");
    assert_eq!(&ch.ja4()[..11], "t10i020000_");
    assert!(ch.ja4().ends_with("_000000000000"));
    assert_eq!(ch.ja3_string(), "769,53-47,,,");
    // ALPN with a non-alphanumeric end: hex of first and last byte.
    let mut with_alpn = body.clone();
    with_alpn.extend(vec16(&ext(0x0010, &vec16(&vec8(b"h2/")))));
    let ch = ClientHello::parse(&with_alpn).expect("parses");
    assert_eq!(&ch.ja4()[..11], "t10i02016f_");
}

#[test]
fn a_tls12_connection_gives_one_record() {
    let (client, server) = conversation_12("historian.plant.example");
    let (_, records, facts) = run(&[(Direction::Orig, &client), (Direction::Resp, &server)]);
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(r.client_dir, Some(Direction::Orig));
    assert_eq!(r.version, Some(0x0303));
    assert_eq!(r.client_version, Some(0x0303));
    assert_eq!(r.client_versions, vec![0x0304, 0x0303]);
    assert_eq!(r.cipher, Some(0xc02f));
    assert_eq!(r.server_name.as_deref(), Some("plant-historian.example"));
    assert_eq!(r.next_protocol.as_deref(), Some("h2"));
    assert_eq!(
        r.ja4.as_deref(),
        Some("t13d1516h2_8daaf6152771_e5627efa2ab1")
    );
    assert_eq!(r.ja3s_string.as_deref(), Some("771,49199,65281-16"));
    assert_eq!(
        r.subject.as_deref(),
        Some("CN=historian.plant.example,O=Mamori\\, Test,C=JP")
    );
    assert_eq!(
        r.issuer.as_deref(),
        Some("CN=Plant Issuing CA,O=Plant CA Inc,C=JP")
    );
    assert_eq!(r.subject_o.as_deref(), Some("Mamori, Test"));
    assert_eq!(r.issuer_cn.as_deref(), Some("Plant Issuing CA"));
    assert_eq!(r.not_valid_before, Some(1_704_067_200));
    assert_eq!(r.not_valid_after, Some(2_051_222_399));
    assert!(r.established && !r.resumed);
    assert_eq!(r.records[0].application_data, 1);
    assert_eq!(r.records[1].application_bytes, 300);
    assert_eq!(r.records[1].change_cipher_spec, 1);
    assert_eq!(r.flags, Flags::default());
    assert_eq!(
        facts,
        vec![IdentityFact {
            about: Subject::Side(Direction::Resp),
            kind: IdentityKind::Hostname,
            value: "historian.plant.example".into(),
            protocol: PROTOCOL,
        }]
    );
}

#[test]
fn a_wildcard_common_name_is_no_fact() {
    let (client, server) = conversation_12("*.plant.example");
    let (_, records, facts) = run(&[(Direction::Orig, &client), (Direction::Resp, &server)]);
    assert_eq!(records[0].subject_cn.as_deref(), Some("*.plant.example"));
    assert!(facts.is_empty());
}

#[test]
fn a_handshake_message_across_records_and_records_across_segments() {
    let msg = handshake(1, &chrome_hello());
    let (a, b) = msg.split_at(100);
    let mut stream = record(22, a);
    stream.extend(record(22, b));
    let chunks: Vec<_> = stream.chunks(7).map(|c| (Direction::Orig, c)).collect();
    let (_, records, _) = run(&chunks);
    assert_eq!(
        records[0].ja4.as_deref(),
        Some("t13d1516h2_8daaf6152771_e5627efa2ab1")
    );
    assert_eq!(records[0].records[0].handshake, 2);
}

#[test]
fn a_gap_in_application_data_is_skipped() {
    let (client, server) = conversation_12("h");
    let mut s = Session::new();
    let mut facts = Vec::new();
    s.on_data(Direction::Orig, 0, &client, &mut facts);
    s.on_data(Direction::Resp, 1, &server, &mut facts);
    // 1000 bytes of application data: 10 arrive, 900 are lost, 90 arrive.
    s.on_data(
        Direction::Resp,
        2,
        &record(23, &[0; 1000])[..15],
        &mut facts,
    );
    s.on_gap(Direction::Resp, 900);
    s.on_data(Direction::Resp, 3, &[0; 90], &mut facts);
    s.on_data(Direction::Resp, 4, &record(21, &[1, 0]), &mut facts); // encrypted alert
    let mut records = Vec::new();
    s.finish(&mut records);
    let r = &records[0];
    assert_eq!(r.flags, Flags::default());
    assert_eq!(r.records[1].application_data, 2);
    assert_eq!(r.records[1].application_bytes, 1300);
    assert_eq!(r.records[1].alert, 1);
    assert_eq!(r.last_alert, None, "encrypted alerts are not read");
}

#[test]
fn a_gap_in_the_handshake_resynchronises() {
    let (client, server) = conversation_12("h");
    let mut s = Session::new();
    let mut facts = Vec::new();
    s.on_data(Direction::Orig, 0, &client, &mut facts);
    s.on_data(Direction::Resp, 1, &server[..120], &mut facts);
    s.on_gap(Direction::Resp, 5000); // beyond the handshake record
    let mut after = vec![0x99; 3]; // tail of something
    after.extend(record(23, &[1; 50]));
    after.extend(record(21, &[2, 40]));
    s.on_data(Direction::Resp, 2, &after, &mut facts);
    let mut records = Vec::new();
    s.finish(&mut records);
    let r = &records[0];
    assert!(r.flags.has(Flags::RESYNC));
    assert_eq!(
        r.version,
        Some(0x0303),
        "the ServerHello came before the gap"
    );
    assert_eq!(r.subject, None);
    assert_eq!(r.records[1].application_data, 1);
    assert!(facts.is_empty());
}

#[test]
fn tls13_is_established_by_encrypted_records_both_ways() {
    let mut sh = vec![0x03, 0x03];
    sh.extend([0x55; 32]);
    sh.extend(vec8(&[0x22; 32])); // echoes the client's session id (compatibility mode)
    sh.extend(0x1301u16.to_be_bytes());
    sh.push(0);
    sh.extend(vec16(
        &[ext(0x002b, &[0x03, 0x04]), ext(0x0033, &[0; 36])].concat(),
    ));
    let mut server = record(22, &handshake(2, &sh));
    server.extend(record(20, &[1]));
    server.extend(record(23, &[0; 2000]));
    let mut client = record(22, &handshake(1, &chrome_hello()));
    let (_, records, _) = run(&[
        (Direction::Orig, &client.clone()),
        (Direction::Resp, &server),
    ]);
    assert!(!records[0].established);
    client.extend(record(20, &[1]));
    client.extend(record(23, &[0; 60]));
    let (_, records, _) = run(&[(Direction::Orig, &client), (Direction::Resp, &server)]);
    let r = &records[0];
    assert_eq!(r.version, Some(0x0304));
    assert!(r.established && !r.resumed);
    assert_eq!(r.ja3s_string.as_deref(), Some("771,4865,43-51"));
}

#[test]
fn not_tls_is_not_this_protocol() {
    for bytes in [
        &b"GET / HTTP/1.1\r\n\r\n"[..],
        b"\x16\x02\x01\x00\x10",
        b"\x17\x03\x03\x00\x00",
        b"SSH-2.0",
    ] {
        assert_eq!(
            RecordParser.parse(Direction::Orig, bytes),
            Parsed::NotThisProtocol,
            "{bytes:?}"
        );
        let (s, records, _) = run(&[(Direction::Orig, bytes)]);
        assert!(s.not_tls() && records.is_empty());
    }
    assert_eq!(
        RecordParser.parse(Direction::Orig, b"\x16\x03"),
        Parsed::Incomplete { needed: 5 }
    );
    assert_eq!(
        RecordParser.parse(Direction::Orig, b"\x16\x03\x01\x00\x10ab"),
        Parsed::Incomplete { needed: 21 }
    );
}

#[test]
fn the_handshake_buffer_is_bounded() {
    // A Certificate message claiming 200 KiB.
    let mut msg = vec![11, 0x03, 0x20, 0x00];
    msg.extend([0; 1000]);
    let mut stream = record(22, &handshake(1, &chrome_hello()));
    stream.extend(record(22, &msg));
    for _ in 0..10 {
        stream.extend(record(22, &[0; 16000]));
    }
    let (s, records, _) = run(&[(Direction::Orig, &stream)]);
    assert!(records[0].flags.has(Flags::BAD_LENGTH));
    assert!(s.sides[0].handshake.capacity() <= MAX_HANDSHAKE);
    assert_eq!(records[0].records[0].handshake, 12);
}

proptest! {
    /// Any segmentation gives the same record.
    #[test]
    fn records_survive_any_segmentation(cuts in proptest::collection::vec(1usize..80, 1..30)) {
        let (client, server) = conversation_12("historian.plant.example");
        let whole = run(&[(Direction::Orig, &client), (Direction::Resp, &server)]).1;
        let mut chunks = Vec::new();
        for (dir, stream) in [(Direction::Orig, &client), (Direction::Resp, &server)] {
            let (mut at, mut i) = (0, 0);
            while at < stream.len() {
                let end = (at + cuts[i % cuts.len()]).min(stream.len());
                chunks.push((dir, &stream[at..end]));
                at = end;
                i += 1;
            }
        }
        let mut cut = run(&chunks).1;
        cut[0].ts = whole[0].ts;
        prop_assert_eq!(cut, whole);
    }

    /// Arbitrary bytes and gaps after a valid start never panic.
    #[test]
    fn arbitrary_input_never_panics(
        chunks in proptest::collection::vec((any::<bool>(), any::<bool>(), proptest::collection::vec(any::<u8>(), 0..300)), 0..12),
    ) {
        let mut s = Session::new();
        let mut facts = Vec::new();
        s.on_data(Direction::Orig, 0, &record(22, &handshake(1, &chrome_hello())[..50]), &mut facts);
        for (resp, gap, bytes) in &chunks {
            let dir = if *resp { Direction::Resp } else { Direction::Orig };
            if *gap {
                s.on_gap(dir, bytes.len() as u64 + 1);
            }
            s.on_data(dir, 1, bytes, &mut facts);
        }
        let mut records = Vec::new();
        s.finish(&mut records);
        prop_assert_eq!(records.len(), 1);
    }

    /// Hello parsers take any bytes.
    #[test]
    fn hello_parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Some(ch) = ClientHello::parse(&bytes) {
            let _ = (ch.ja3_string(), ch.ja4(), ch.server_name());
        }
        if let Some(sh) = ServerHello::parse(&bytes) {
            let _ = (sh.ja3s_string(), sh.selected_version(), sh.alpn());
        }
        let _ = certificate::Certificate::parse(&bytes);
    }
}

/// Chunks in the fuzz targets' format: control byte (bit 0 direction), length, bytes.
fn fuzz_chunks(parts: &[(Direction, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (dir, bytes) in parts {
        for piece in bytes.chunks(255) {
            out.push(u8::from(*dir == Direction::Resp));
            out.push(piece.len() as u8);
            out.extend_from_slice(piece);
        }
    }
    out
}

/// Writes `fuzz/seeds/dissect_tls/` (run with `--ignored`).
#[test]
#[ignore]
fn write_fuzz_seeds() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/dissect_tls");
    std::fs::create_dir_all(&dir).expect("seed dir");
    let (client, server) = conversation_12("historian.plant.example");
    let seed = fuzz_chunks(&[(Direction::Orig, &client), (Direction::Resp, &server)]);
    std::fs::write(dir.join("tls12_conversation"), seed).expect("seed written");
}

/// Throughput, for the record (`cargo test --release -p mamori-dissect --lib
/// tls_throughput -- --ignored --nocapture`): 1000 TLS 1.2 handshakes, then 1 MB of
/// application data in 16 KiB records cut into 1460-byte segments.
#[test]
#[ignore]
fn tls_throughput() {
    let (client, server) = conversation_12("historian.plant.example");
    let start = std::time::Instant::now();
    let mut records = Vec::new();
    for _ in 0..1000 {
        let mut s = Session::new();
        let mut facts = Vec::new();
        s.on_data(Direction::Orig, 0, &client, &mut facts);
        s.on_data(Direction::Resp, 0, &server, &mut facts);
        s.finish(&mut records);
    }
    let handshakes = start.elapsed().as_secs_f64();
    let mut data = Vec::new();
    for _ in 0..64 {
        data.extend(record(23, &[0x5a; 16384]));
    }
    let mut s = Session::new();
    let mut facts = Vec::new();
    s.on_data(Direction::Orig, 0, &client, &mut facts);
    s.on_data(Direction::Resp, 0, &server, &mut facts);
    let start = std::time::Instant::now();
    for seg in data.chunks(1460) {
        s.on_data(Direction::Resp, 0, seg, &mut facts);
    }
    let bulk = start.elapsed().as_secs_f64();
    s.finish(&mut records);
    eprintln!(
        "tls: {:.0} handshakes/s (JA3, JA4, certificate), application data {:.0} MB/s",
        1000.0 / handshakes,
        data.len() as f64 / bulk / 1e6
    );
    assert_eq!(records.len(), 1001);
    assert_eq!(records[1000].records[1].application_data, 65);
}
