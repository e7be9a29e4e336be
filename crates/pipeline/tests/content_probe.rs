//! The port only hints: a flow's first payload decides its dissector. Built captures
//! run through the whole pipeline; `ot.jsonl` rows (OT events) and the conn log's
//! `service` show what the flow was taken for.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::{Arc, Mutex};

use mamori_pipeline::collector::{ConsumerError, EventConsumer};
use mamori_pipeline::event::Event;
use mamori_pipeline::run::{Progress, RunConfig, run_files};
use mamori_pipeline::worker::WorkerConfig;
use mamori_wire::build::{EthernetSpec, L4, ip_frame};
use mamori_wire::capture::writer::{CaptureWriter, WriteFormat};
use mamori_wire::decode::MacAddr;
use mamori_wire::{LinkType, Timestamp};

struct Recorder(Arc<Mutex<Vec<Event>>>);

impl EventConsumer for Recorder {
    fn consume(&mut self, event: &Event) -> Result<(), ConsumerError> {
        self.0.lock().unwrap().push(event.clone());
        Ok(())
    }
    fn finish(&mut self) -> Result<(), ConsumerError> {
        Ok(())
    }
}

const CLIENT: [u8; 4] = [10, 0, 0, 10];
const SERVER: [u8; 4] = [10, 0, 0, 20];

/// Frames of one capture, in time order.
#[derive(Default)]
struct Capture {
    frames: Vec<Vec<u8>>,
}

impl Capture {
    fn push(&mut self, from_client: bool, l4: L4<'_>) {
        let (src, dst) = if from_client {
            (CLIENT, SERVER)
        } else {
            (SERVER, CLIENT)
        };
        let mac = |ip: [u8; 4]| MacAddr([2, 0, 0, 0, 0, ip[3]]);
        let eth = EthernetSpec {
            src: mac(src),
            dst: mac(dst),
            vlan: None,
        };
        let mut frame = Vec::new();
        let (s, d) = (
            IpAddr::V4(Ipv4Addr::from(src)),
            IpAddr::V4(Ipv4Addr::from(dst)),
        );
        ip_frame(&mut frame, &eth, s, d, 64, 1, &l4);
        self.frames.push(frame);
    }

    /// A whole TCP connection from `sport` to `dport`: handshake, one request, one
    /// response, close.
    fn tcp(&mut self, sport: u16, dport: u16, request: &[u8], response: &[u8]) {
        let (c, s) = (1000u32, 5000u32);
        let q = request.len() as u32;
        let r = response.len() as u32;
        let seg = |from_client: bool, seq, ack, flags, payload| {
            let (src_port, dst_port) = if from_client {
                (sport, dport)
            } else {
                (dport, sport)
            };
            (
                from_client,
                L4::Tcp {
                    src_port,
                    dst_port,
                    seq,
                    ack,
                    flags,
                    window: 8192,
                    options: &[],
                    payload,
                },
            )
        };
        for (from_client, l4) in [
            seg(true, c, 0, 0x02, &[][..]),                  // SYN
            seg(false, s, c + 1, 0x12, &[][..]),             // SYN+ACK
            seg(true, c + 1, s + 1, 0x10, &[][..]),          // ACK
            seg(true, c + 1, s + 1, 0x18, request),          // request
            seg(false, s + 1, c + 1 + q, 0x18, response),    // response
            seg(true, c + 1 + q, s + 1 + r, 0x11, &[][..]),  // FIN
            seg(false, s + 1 + r, c + 2 + q, 0x11, &[][..]), // FIN
            seg(true, c + 2 + q, s + 2 + r, 0x10, &[][..]),  // ACK
        ] {
            self.push(from_client, l4);
        }
    }

    fn udp(&mut self, sport: u16, dport: u16, payload: &[u8]) {
        self.push(
            true,
            L4::Udp {
                src_port: sport,
                dst_port: dport,
                payload,
            },
        );
    }

    /// Writes the capture and runs it through the pipeline.
    fn events(&self, dir: &Path) -> Vec<Event> {
        let path = dir.join("probe.pcap");
        let file = std::fs::File::create(&path).unwrap();
        let mut w = CaptureWriter::new(file, WriteFormat::Pcap, LinkType::ETHERNET).unwrap();
        for (i, frame) in self.frames.iter().enumerate() {
            let ts = Timestamp::from_secs_nanos(1_700_000_000, i as u32 * 1000);
            w.write_packet(ts, frame).unwrap();
        }
        drop(w);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let config = RunConfig {
            inputs: vec![path],
            threads: 1,
            worker: WorkerConfig::default(),
        };
        run_files(
            &config,
            vec![Box::new(Recorder(Arc::clone(&seen)))],
            &Progress::default(),
        )
        .unwrap();
        let mut guard = seen.lock().unwrap();
        std::mem::take(&mut *guard)
    }
}

/// (server port, services of its conn record, OT function names) per flow.
fn by_port(events: &[Event]) -> Vec<(u16, Vec<&'static str>, Vec<&'static str>)> {
    let mut out = Vec::new();
    for e in events {
        if let Event::Conn(c) = e {
            let ops = events
                .iter()
                .filter_map(|e| match e {
                    Event::Ot(o) if o.uid == c.uid => Some(o.op.function.name),
                    _ => None,
                })
                .collect();
            out.push((c.resp.port, c.services.names().collect(), ops));
        }
    }
    out.sort();
    out
}

const MODBUS_READ: [u8; 12] = [
    0x00, 0x01, // transaction 1
    0x00, 0x00, // protocol 0
    0x00, 0x06, // length 6
    0x01, 0x03, // unit 1, read holding registers
    0x00, 0x00, 0x00, 0x02, // address 0, quantity 2
];
const MODBUS_REPLY: [u8; 13] = [
    0x00, 0x01, 0x00, 0x00, 0x00, 0x07, // MBAP, length 7
    0x01, 0x03, 0x04, // unit 1, read holding registers, 4 bytes
    0x00, 0x2A, 0x00, 0x2B, // two registers
];
const ENIP_REGISTER: [u8; 28] = [
    0x65, 0x00, 0x04, 0x00, // RegisterSession, length 4
    0x00, 0x00, 0x00, 0x00, // session 0
    0x00, 0x00, 0x00, 0x00, // status 0
    1, 2, 3, 4, 5, 6, 7, 8, // sender context
    0x00, 0x00, 0x00, 0x00, // options
    0x01, 0x00, 0x00, 0x00, // protocol version 1, flags 0
];
const ENIP_REGISTERED: [u8; 28] = [
    0x65, 0x00, 0x04, 0x00, // RegisterSession, length 4
    0x01, 0x00, 0x00, 0x00, // session 1
    0x00, 0x00, 0x00, 0x00, // status 0
    1, 2, 3, 4, 5, 6, 7, 8, // sender context
    0x00, 0x00, 0x00, 0x00, // options
    0x01, 0x00, 0x00, 0x00, // protocol version 1, flags 0
];

#[test]
fn foreign_content_on_ot_ports_is_not_logged_as_ot() {
    let dir = tempfile::tempdir().unwrap();
    let mut cap = Capture::default();
    let http = b"GET /index.html HTTP/1.1\r\nHost: plc\r\n\r\n";
    let http_ok = b"HTTP/1.1 200 OK\r\nServer: tiny\r\nContent-Length: 0\r\n\r\n";
    cap.tcp(40001, 502, http, http_ok);
    let mut hello = vec![
        0x16, 0x03, 0x01, 0x00, 0x40, 0x01, 0x00, 0x00, 0x3C, 0x03, 0x03,
    ];
    hello.resize(5 + 64, 0); // a ClientHello's record header, zeros for the rest
    cap.tcp(40002, 44818, &hello, &[]);
    cap.tcp(40003, 502, b"\x17\x42garbage that is nothing at all", b"");
    cap.tcp(40004, 502, &MODBUS_READ, &MODBUS_REPLY); // the real thing still is
    let flows = by_port(&cap.events(dir.path()));
    let on_502: Vec<_> = flows.iter().filter(|f| f.0 == 502).collect();
    assert_eq!(on_502.len(), 3, "{flows:?}");
    assert!(on_502.contains(&&(502, vec!["http"], vec![])), "{flows:?}");
    assert!(
        on_502.contains(&&(502, vec![], vec![])),
        "garbage has no service: {flows:?}"
    );
    assert!(
        on_502.contains(&&(502, vec!["modbus"], vec!["read_holding_registers"])),
        "{flows:?}"
    );
    let enip: Vec<_> = flows.iter().filter(|f| f.0 == 44818).collect();
    assert_eq!(enip.len(), 1, "{flows:?}");
    assert!(
        enip[0].2.is_empty(),
        "a TLS hello is no EtherNet/IP: {flows:?}"
    );
    assert!(!enip[0].1.contains(&"enip"), "{flows:?}");
}

#[test]
fn ot_content_on_unregistered_ports_gets_its_dissector() {
    let dir = tempfile::tempdir().unwrap();
    let mut cap = Capture::default();
    cap.tcp(40001, 15020, &MODBUS_READ, &MODBUS_REPLY);
    cap.tcp(40002, 12345, &ENIP_REGISTER, &ENIP_REGISTERED);
    cap.tcp(
        40003,
        18080,
        b"GET / HTTP/1.1\r\nHost: hmi\r\n\r\n",
        b"HTTP/1.1 204 No Content\r\n\r\n",
    );
    cap.tcp(
        40004,
        23456,
        b"SSH-2.0-OpenSSH_9.6\r\n",
        b"SSH-2.0-OpenSSH_9.6\r\n",
    );
    cap.udp(
        47809,
        47900,
        &[
            0x81, 0x0B, 0x00, 0x0C, // BVLC: original broadcast, length 12
            0x01, 0x20, 0xFF, 0xFF, 0x00, 0xFF, // NPDU: global broadcast, hop count 255
            0x10, 0x08, // unconfirmed request: who-is
        ],
    );
    let flows = by_port(&cap.events(dir.path()));
    let find = |port| {
        flows
            .iter()
            .find(|f| f.0 == port)
            .unwrap_or_else(|| panic!("{port}: {flows:?}"))
    };
    assert_eq!(find(15020).1, ["modbus"]);
    assert_eq!(find(15020).2, ["read_holding_registers"]);
    assert_eq!(find(12345).1, ["enip"]);
    assert_eq!(find(12345).2, ["register_session"]);
    assert_eq!(find(18080).1, ["http"]);
    assert_eq!(find(23456), &(23456, vec![], vec![]));
    assert_eq!(find(47900).1, ["bacnet"]);
    assert_eq!(find(47900).2, ["who_is"]);
}
