//! DHCPv6 transactions become rows of `dhcpv6.jsonl`: a built capture (a SOLICIT
//! answered by a REPLY, and one SOLICIT never answered) through the whole pipeline
//! and the log writer.

use std::net::{IpAddr, Ipv6Addr};

use mamori_pipeline::logs::LogWriter;
use mamori_pipeline::run::{Progress, RunConfig, run_files};
use mamori_pipeline::worker::WorkerConfig;
use mamori_wire::build::{EthernetSpec, L4, ip_frame};
use mamori_wire::capture::writer::{CaptureWriter, WriteFormat};
use mamori_wire::decode::MacAddr;
use mamori_wire::{LinkType, Timestamp};

/// A Windows-like SOLICIT.
const SOLICIT: [u8; 89] = [
    0x01, // msg-type: SOLICIT
    0x4a, 0x2c, 0x01, // transaction id 0x4a2c01
    0x00, 0x08, 0x00, 0x02, 0x00, 0x64, // elapsed time: 100 (1 s)
    0x00, 0x01, 0x00, 0x0e, // client identifier, 14 bytes
    0x00, 0x01, // DUID-LLT
    0x00, 0x01, // hardware type 1 (Ethernet)
    0x2a, 0x1b, 0x3c, 0x4d, // time
    0x00, 0x0c, 0x29, 0x4f, 0x8e, 0x35, // link-layer address
    0x00, 0x03, 0x00, 0x0c, // IA_NA, 12 bytes
    0x0e, 0x00, 0x0c, 0x29, // IAID
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // T1, T2
    0x00, 0x27, 0x00, 0x0b, // client FQDN, 11 bytes
    0x00, // flags
    0x06, b'h', b'm', b'i', b'-', b'0', b'1', // label "hmi-01"
    0x02, b'l', b'n', // label "ln" (partial name: no root)
    0x00, 0x10, 0x00, 0x0e, // vendor class, 14 bytes
    0x00, 0x00, 0x01, 0x37, // enterprise 311 (Microsoft)
    0x00, 0x08, b'M', b'S', b'F', b'T', b' ', b'5', b'.', b'0', // "MSFT 5.0"
    0x00, 0x06, 0x00, 0x08, // option request, 8 bytes
    0x00, 0x11, 0x00, 0x17, 0x00, 0x18, 0x00, 0x27, // 17, 23, 24, 39
];

fn reply() -> Vec<u8> {
    let mut reply = vec![0x07, 0x4a, 0x2c, 0x01]; // REPLY, the SOLICIT's transaction id
    reply.extend_from_slice(&SOLICIT[10..28]); // the client identifier echoed
    reply.extend_from_slice(&[
        0x00, 0x02, 0x00, 0x0a, // server identifier, 10 bytes
        0x00, 0x03, 0x00, 0x01, // DUID-LL, Ethernet
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // link-layer address
        0x00, 0x03, 0x00, 0x28, // IA_NA, 40 bytes
        0x0e, 0x00, 0x0c, 0x29, 0, 0, 0, 0, 0, 0, 0, 0, // IAID, T1, T2
        0x00, 0x05, 0x00, 0x18, // IAADDR, 24 bytes
    ]);
    reply.extend_from_slice(&"2001:db8::7".parse::<Ipv6Addr>().unwrap().octets());
    reply.extend_from_slice(&[0; 8]); // preferred and valid lifetimes
    reply
}

/// Sender MAC, source, destination, source port, destination port, payload.
type Datagram<'a> = (MacAddr, IpAddr, IpAddr, u16, u16, &'a [u8]);

#[test]
fn dhcpv6_transactions_are_logged() {
    let dir = tempfile::tempdir().unwrap();
    let client: IpAddr = "fe80::20c:29ff:fe4f:8e35".parse().unwrap();
    let server: IpAddr = "fe80::1".parse().unwrap();
    let all_servers: IpAddr = "ff02::1:2".parse().unwrap();
    let (client_mac, server_mac) = (
        MacAddr([0x00, 0x0c, 0x29, 0x4f, 0x8e, 0x35]),
        MacAddr([0x02, 0, 0, 0, 0, 1]),
    );
    let mut unanswered = SOLICIT;
    unanswered[3] = 0x02; // another transaction
    let reply = reply();
    let packets: [Datagram<'_>; 3] = [
        (client_mac, client, all_servers, 546, 547, &SOLICIT),
        (server_mac, server, client, 547, 546, &reply),
        (client_mac, client, all_servers, 546, 547, &unanswered),
    ];
    let path = dir.path().join("dhcpv6.pcap");
    let file = std::fs::File::create(&path).unwrap();
    let mut w = CaptureWriter::new(file, WriteFormat::Pcap, LinkType::ETHERNET).unwrap();
    for (i, (mac, src, dst, sport, dport, payload)) in packets.into_iter().enumerate() {
        let eth = EthernetSpec {
            src: mac,
            dst: MacAddr([0x33, 0x33, 0, 1, 0, 2]),
            vlan: None,
        };
        let mut frame = Vec::new();
        let udp = L4::Udp {
            src_port: sport,
            dst_port: dport,
            payload,
        };
        ip_frame(&mut frame, &eth, src, dst, 1, 0, &udp);
        let ts = Timestamp::from_secs_nanos(1_700_000_000 + i as i64, 0);
        w.write_packet(ts, &frame).unwrap();
    }
    drop(w);

    let logs = dir.path().join("logs");
    let writer = LogWriter::create(&logs).unwrap();
    let config = RunConfig {
        inputs: vec![path],
        threads: 2,
        worker: WorkerConfig::default(),
    };
    run_files(&config, vec![Box::new(writer)], &Progress::default()).unwrap();

    let text = std::fs::read_to_string(logs.join("dhcpv6.jsonl")).unwrap();
    let rows: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2, "{text}");
    let answered = rows
        .iter()
        .find(|r| r["trans_id"] == 0x4a2c01)
        .expect("the answered transaction");
    assert_eq!(
        answered["msg_types"],
        serde_json::json!(["SOLICIT", "REPLY"])
    );
    assert_eq!(answered["mac"], "00:0c:29:4f:8e:35");
    assert_eq!(answered["client_fqdn"], "hmi-01.ln");
    assert_eq!(answered["client_software"], "311 MSFT 5.0");
    assert_eq!(answered["oro"], "17,23,24,39");
    assert_eq!(
        answered["assigned_addrs"],
        serde_json::json!(["2001:db8::7"])
    );
    assert_eq!(answered["server_duid"], "00:03:00:01:02:00:00:00:00:01");
    assert_eq!(answered["duration"], 1.0);
    assert!(answered.get("flags").is_none(), "{answered}");
    assert_eq!(answered["uids"].as_array().map(Vec::len), Some(1));
    let lost = rows.iter().find(|r| r["trans_id"] == 0x4a2c02).unwrap();
    assert_eq!(lost["flags"], serde_json::json!(["no_response"]));
    // Nothing of it lands in the IPv4 log.
    let v4 = std::fs::read_to_string(logs.join("dhcp.jsonl")).unwrap();
    assert!(v4.is_empty(), "{v4}");
}
