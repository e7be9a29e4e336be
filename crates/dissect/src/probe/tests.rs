use proptest::prelude::*;

use super::*;

/// Each protocol's first client PDU, field by field.
fn samples() -> Vec<(&'static str, bool, Vec<u8>)> {
    let mut dnp3_read = vec![
        0x05, 0x64, // start
        0x0B, // length: control, addresses and 6 user bytes
        0xC4, // control: DIR, PRM, unconfirmed user data
        0x04, 0x00, // destination 4
        0x03, 0x00, // source 3
    ];
    let crc = crate::ot::dnp3::link::crc(&dnp3_read);
    dnp3_read.extend_from_slice(&crc.to_le_bytes()); // header CRC
    dnp3_read.extend_from_slice(&[0xC0, 0xC0, 0x01, 0x3C, 0x02, 0x06]); // transport, app: read class 1
    let mut tls = vec![
        0x16, 0x03, 0x01, // handshake record, TLS 1.0 record version
        0x00, 0x40, // record length 64
        0x01, // ClientHello
        0x00, 0x00, 0x3C, // handshake length 60
        0x03, 0x03, // client version TLS 1.2
    ];
    tls.resize(5 + 64, 0); // random, session id, ... (zeros here)
    vec![
        (
            "modbus",
            true,
            vec![
                0x00, 0x01, // transaction id
                0x00, 0x00, // protocol id 0
                0x00, 0x06, // length 6
                0x01, // unit 1
                0x03, // read holding registers
                0x00, 0x00, 0x00, 0x0A, // address 0, quantity 10
            ],
        ),
        (
            "s7comm",
            true,
            vec![
                0x03, 0x00, 0x00, 0x16, // TPKT v3, length 22
                0x11, 0xE0, // COTP li 17, connection request
                0x00, 0x00, 0x00, 0x01, 0x00, // dst ref, src ref, class 0
                0xC0, 0x01, 0x0A, // TPDU size 1024
                0xC1, 0x02, 0x01, 0x00, // calling TSAP
                0xC2, 0x02, 0x01, 0x02, // called TSAP (rack 0 slot 2)
            ],
        ),
        (
            "s7comm",
            true,
            vec![
                0x03, 0x00, 0x00, 0x19, // TPKT v3, length 25
                0x02, 0xF0, 0x80, // COTP data, last unit
                0x32, 0x01, // S7 protocol id, job
                0x00, 0x00, 0x00, 0x00, // reserved, pdu ref
                0x00, 0x08, 0x00, 0x00, // parameter length 8, data length 0
                0xF0, 0x00, 0x00, 0x01, 0x00, 0x01, 0x01, 0xE0, // setup communication
            ],
        ),
        (
            "enip",
            true,
            vec![
                0x65, 0x00, // RegisterSession
                0x04, 0x00, // length 4
                0x00, 0x00, 0x00, 0x00, // session handle
                0x00, 0x00, 0x00, 0x00, // status
                1, 2, 3, 4, 5, 6, 7, 8, // sender context
                0x00, 0x00, 0x00, 0x00, // options
                0x01, 0x00, 0x00, 0x00, // protocol version 1, flags 0
            ],
        ),
        ("dnp3", true, dnp3_read.clone()),
        (
            "iec104",
            true,
            vec![0x68, 0x04, 0x07, 0x00, 0x00, 0x00], // start, length 4, STARTDT act
        ),
        (
            "iec104",
            true,
            vec![
                0x68, 0x0E, // start, length 14
                0x00, 0x00, 0x00, 0x00, // I frame, send 0, receive 0
                0x64, 0x01, // C_IC_NA_1 (interrogation), one object
                0x06, 0x00, // cause: activation, originator 0
                0x01, 0x00, // common address 1
                0x00, 0x00, 0x00, 0x14, // ioa 0, QOI station interrogation
            ],
        ),
        (
            "opcua",
            true,
            [
                &b"HELF"[..],                     // hello, final chunk
                &[0x38, 0, 0, 0],                 // message size 56
                &[0, 0, 0, 0],                    // protocol version 0
                &[0, 0, 1, 0, 0, 0, 1, 0],        // receive, send buffer 65536
                &[0, 0, 0, 0, 0, 0, 0, 0],        // max message size, chunk count
                &[0x18, 0, 0, 0],                 // endpoint url length 24
                &b"opc.tcp://10.0.0.1:4840/"[..], // endpoint url
            ]
            .concat(),
        ),
        (
            "slmp",
            true,
            vec![
                0x50, 0x00, // 3E request subheader
                0x00, 0xFF, // network 0, station 0xFF
                0xFF, 0x03, 0x00, // module i/o 0x03FF, multidrop 0
                0x0C, 0x00, // data length 12
                0x10, 0x00, // monitoring timer
                0x01, 0x04, 0x00, 0x00, // device read, subcommand 0 (words)
                0x64, 0x00, 0x00, 0xA8, // D100
                0x01, 0x00, // one point
            ],
        ),
        (
            "fins",
            true,
            vec![
                b'F', b'I', b'N', b'S', // magic
                0x00, 0x00, 0x00, 0x0C, // length 12
                0x00, 0x00, 0x00, 0x00, // command: node address data send (client)
                0x00, 0x00, 0x00, 0x00, // error code
                0x00, 0x00, 0x00, 0x00, // client node: ask the server
            ],
        ),
        (
            "http",
            true,
            b"GET /index.html HTTP/1.1\r\nHost: plc\r\n\r\n".to_vec(),
        ),
        ("ssl", true, tls),
        (
            "bacnet",
            false,
            vec![
                0x81, 0x0B, 0x00, 0x0C, // BVLC, original broadcast, length 12
                0x01, 0x20, 0xFF, 0xFF, 0x00, 0xFF, // NPDU: global broadcast, hop count 255
                0x10, 0x08, // unconfirmed who-is
            ],
        ),
        ("dnp3", false, dnp3_read),
        (
            "enip",
            false,
            [&[0x63, 0x00, 0x00, 0x00][..], &[0; 20]].concat(), // ListIdentity, length 0
        ),
    ]
}

#[test]
fn each_first_pdu_is_its_own_protocol_and_no_other() {
    for (service, tcp_flow, pdu) in samples() {
        let list: &[Probe] = if tcp_flow { &TCP } else { &UDP };
        for (name, _, probe) in list {
            assert_eq!(
                probe(&pdu),
                *name == service,
                "{name} probe on a {service} PDU"
            );
        }
        let found = if tcp_flow { tcp(&pdu) } else { udp(&pdu) };
        assert_eq!(found, Some(service));
        assert!(matches(service, tcp_flow, &pdu));
    }
}

#[test]
fn other_protocols_pass_no_probe() {
    let others: [&[u8]; 6] = [
        // RDP: TPKT and a COTP connection request with a cookie, no TSAPs.
        b"\x03\x00\x00\x2b\x26\xe0\x00\x00\x00\x00\x00Cookie: mstshash=operator\r\n\x01\x00\x08\x00\x03\x00\x00\x00",
        b"SSH-2.0-OpenSSH_9.6\r\n",
        b"220 ftp.plant.example FTP server ready\r\n",
        b"HTTP/1.1 200 OK\r\nServer: x\r\n\r\n", // a response is not a request line
        b"EHLO client.example\r\n",
        &[0; 64], // zero padding
    ];
    for p in others {
        assert_eq!(tcp(p), None, "{p:?}");
        assert_eq!(udp(p), None, "{p:?}");
    }
}

#[test]
fn random_bytes_rarely_pass_a_probe() {
    // A fixed-seed xorshift, so the count is the same on every run.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut hits, runs) = (0, 100_000);
    let mut buf = [0u8; 64];
    for _ in 0..runs {
        for chunk in buf.chunks_mut(8) {
            chunk.copy_from_slice(&next().to_le_bytes());
        }
        let len = (next() % 65) as usize;
        let p = &buf[..len];
        hits += usize::from(tcp(p).is_some()) + usize::from(udp(p).is_some());
    }
    assert!(
        hits * 1000 < runs,
        "{hits} of {runs} random payloads passed a probe"
    );
}

proptest! {
    #[test]
    fn probes_never_panic_and_agree(p in proptest::collection::vec(any::<u8>(), 0..80)) {
        if let Some(s) = tcp(&p) {
            prop_assert!(matches(s, true, &p));
        }
        if let Some(s) = udp(&p) {
            prop_assert!(matches(s, false, &p));
        }
        // A service without a probe lets the port decide.
        prop_assert!(matches("dns", false, &p));
    }
}
