//! Live capture end to end: `mamori sensor` on one end of a veth pair logs the same
//! flows as `mamori analyze` on a capture file whose frames are written into the
//! other end.
//!
//! The test builds a small plant's traffic (TCP conversations with handshake, data
//! both ways and FIN teardown, one reset, UDP request/response, ICMP echo, ARP, a
//! VLAN-tagged flow, an IPv6 flow), writes it to a pcapng file and runs `mamori
//! analyze` on it. It then starts `mamori sensor` inside a network namespace of its
//! own, waits until the sensor's capture sockets are bound, sends a few probe frames
//! (a flow of their own), replays the file's frames in order, lets the sensor stop
//! after `--duration`, and compares the two `conn.jsonl` (and `arp.jsonl`) logs per
//! flow, ignoring `ts`, `uid` and `duration`.
//!
//! Needs root and the `ip` tool; otherwise it prints why and passes. All traffic
//! stays inside the namespace the test creates (see `mamori-testkit`), which is
//! deleted at the end, also when the test fails; the sensor is killed if still
//! running.
#![cfg(target_os = "linux")]

mod common;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use mamori_testkit::{Netns, RawSender, wait_for_packet_sockets};
use mamori_wire::build::{self, EthernetSpec, L4};
use mamori_wire::capture::writer::{CaptureWriter, WriteFormat};
use mamori_wire::decode::{MacAddr, ethertype};
use mamori_wire::{LinkType, Timestamp};
use serde_json::Value;

use common::read_jsonl;

const SEND_IF: &str = "mms-send";
const CAPTURE_IF: &str = "mms-cap";
/// Worker threads of the sensor (and fanout sockets to wait for).
const SENSOR_THREADS: usize = 2;
/// How long the sensor runs; the replay must end well before.
const SENSOR_SECS: f64 = 3.0;
/// Probe frames sent before the replay (one UDP flow of their own).
const PROBES: usize = 3;
/// Pause after each replayed frame, so that the veth backlog never overflows.
const PACE: Duration = Duration::from_micros(200);

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;

/// A station on the plant network.
#[derive(Debug, Clone, Copy)]
struct Host {
    mac: MacAddr,
    ip: IpAddr,
}

fn host(last: u8) -> Host {
    Host {
        mac: MacAddr([0x02, 0x00, 0x5e, 0x77, 0x00, last]),
        ip: IpAddr::V4(Ipv4Addr::new(10, 77, 0, last)),
    }
}

fn host6(last: u8) -> Host {
    Host {
        mac: MacAddr([0x02, 0x00, 0x5e, 0x77, 0x06, last]),
        ip: IpAddr::V6(Ipv6Addr::new(0xfd00, 0x77, 0, 0, 0, 0, 0, u16::from(last))),
    }
}

/// Frames per conversation, interleaved into one trace at the end. Every IP frame
/// gets its own IP identification, so no two frames are identical (the sensor
/// drops identical IP frames within 3 ms as mirror duplicates).
#[derive(Default)]
struct Trace {
    conversations: Vec<Vec<Vec<u8>>>,
    ident: u16,
}

impl Trace {
    fn conversation(&mut self) -> usize {
        self.conversations.push(Vec::new());
        self.conversations.len() - 1
    }

    fn ip(&mut self, conv: usize, vlan: Option<u16>, src: Host, dst: Host, l4: &L4<'_>) {
        self.ident = self.ident.wrapping_add(1);
        let eth = EthernetSpec {
            src: src.mac,
            dst: dst.mac,
            vlan,
        };
        let mut f = Vec::new();
        build::ip_frame(&mut f, &eth, src.ip, dst.ip, 64, self.ident, l4);
        self.conversations[conv].push(f);
    }

    /// An ARP request (broadcast) or reply.
    fn arp(&mut self, conv: usize, reply: bool, sender: Host, target: Host) {
        let (IpAddr::V4(sip), IpAddr::V4(tip)) = (sender.ip, target.ip) else {
            unreachable!("ARP is IPv4");
        };
        let eth = EthernetSpec {
            src: sender.mac,
            dst: if reply {
                target.mac
            } else {
                MacAddr([0xff; 6])
            },
            vlan: None,
        };
        let mut f = Vec::new();
        build::ethernet_header(&mut f, &eth, ethertype::ARP);
        f.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, if reply { 2 } else { 1 }]);
        f.extend_from_slice(&sender.mac.0);
        f.extend_from_slice(&sip.octets());
        f.extend_from_slice(&if reply { target.mac.0 } else { [0; 6] });
        f.extend_from_slice(&tip.octets());
        self.conversations[conv].push(f);
    }

    /// Interleaves the conversations with a fixed pseudo-random choice, keeping
    /// each conversation's order.
    fn interleave(self) -> Vec<Vec<u8>> {
        let mut queues: Vec<std::collections::VecDeque<Vec<u8>>> =
            self.conversations.into_iter().map(Into::into).collect();
        let mut out = Vec::new();
        let mut state = 0x2545_f491_4f6c_dd1du64;
        loop {
            let live: Vec<usize> = (0..queues.len())
                .filter(|&i| !queues[i].is_empty())
                .collect();
            if live.is_empty() {
                return out;
            }
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let pick = live[(state % live.len() as u64) as usize];
            out.extend(queues[pick].pop_front());
        }
    }
}

/// How a TCP conversation ends.
#[derive(Clone, Copy)]
enum End {
    /// FIN from the client, ACK, FIN from the server, ACK.
    Fin,
    /// The client aborts with RST.
    Reset,
}

/// A TCP conversation: handshake, one request/response per exchange (responses
/// over 1400 bytes split into segments, a pure ACK from the client every third
/// exchange), then `end`.
#[allow(clippy::too_many_arguments)]
fn tcp(
    t: &mut Trace,
    vlan: Option<u16>,
    client: Host,
    cport: u16,
    server: Host,
    sport: u16,
    exchanges: &[(Vec<u8>, Vec<u8>)],
    end: End,
) {
    let conv = t.conversation();
    let mss = [2, 4, 0x05, 0xb4];
    let (mut cseq, mut sseq) = (0x1000_0000u32 + u32::from(cport), 0x7000_0000u32);
    let seg = |t: &mut Trace, from_client: bool, flags: u8, ack: u32, seq: u32, data: &[u8]| {
        let (src, dst, sp, dp) = if from_client {
            (client, server, cport, sport)
        } else {
            (server, client, sport, cport)
        };
        let l4 = L4::Tcp {
            src_port: sp,
            dst_port: dp,
            seq,
            ack,
            flags,
            window: 8192,
            options: if flags & SYN != 0 { &mss } else { &[] },
            payload: data,
        };
        t.ip(conv, vlan, src, dst, &l4);
    };
    seg(t, true, SYN, 0, cseq, &[]);
    cseq += 1;
    seg(t, false, SYN | ACK, cseq, sseq, &[]);
    sseq += 1;
    seg(t, true, ACK, sseq, cseq, &[]);
    for (i, (request, response)) in exchanges.iter().enumerate() {
        seg(t, true, PSH | ACK, sseq, cseq, request);
        cseq += request.len() as u32;
        let chunks: Vec<&[u8]> = response.chunks(1400).collect();
        for (j, chunk) in chunks.iter().enumerate() {
            let flags = if j + 1 == chunks.len() {
                PSH | ACK
            } else {
                ACK
            };
            seg(t, false, flags, cseq, sseq, chunk);
            sseq += chunk.len() as u32;
        }
        if i % 3 == 2 {
            seg(t, true, ACK, sseq, cseq, &[]);
        }
    }
    match end {
        End::Fin => {
            seg(t, true, FIN | ACK, sseq, cseq, &[]);
            cseq += 1;
            seg(t, false, ACK, cseq, sseq, &[]);
            seg(t, false, FIN | ACK, cseq, sseq, &[]);
            sseq += 1;
            seg(t, true, ACK, sseq, cseq, &[]);
        }
        End::Reset => seg(t, true, RST | ACK, sseq, cseq, &[]),
    }
}

/// UDP request/response pairs on one flow.
fn udp(
    t: &mut Trace,
    client: Host,
    cport: u16,
    server: Host,
    sport: u16,
    pairs: &[(Vec<u8>, Vec<u8>)],
) {
    let conv = t.conversation();
    for (request, response) in pairs {
        let l4 = L4::Udp {
            src_port: cport,
            dst_port: sport,
            payload: request,
        };
        t.ip(conv, None, client, server, &l4);
        let l4 = L4::Udp {
            src_port: sport,
            dst_port: cport,
            payload: response,
        };
        t.ip(conv, None, server, client, &l4);
    }
}

fn modbus_read(tid: u16, count: u16) -> (Vec<u8>, Vec<u8>) {
    let mut req = Vec::new();
    req.extend_from_slice(&tid.to_be_bytes());
    req.extend_from_slice(&[0, 0, 0, 6, 1, 3]);
    req.extend_from_slice(&(tid * 10).to_be_bytes());
    req.extend_from_slice(&count.to_be_bytes());
    let mut resp = Vec::new();
    resp.extend_from_slice(&tid.to_be_bytes());
    resp.extend_from_slice(&[0, 0]);
    resp.extend_from_slice(&(3 + 2 * count).to_be_bytes());
    resp.extend_from_slice(&[1, 3, (2 * count) as u8]);
    for r in 0..count {
        resp.extend_from_slice(&(tid ^ r).to_be_bytes());
    }
    (req, resp)
}

fn dns(id: u16, name: &str, answer: [u8; 4]) -> (Vec<u8>, Vec<u8>) {
    let mut q = Vec::new();
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 1, 0, 1]);
    let mut r = q.clone();
    r[2] = 0x81;
    r[3] = 0x80;
    r[7] = 1;
    r.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4]);
    r.extend_from_slice(&answer);
    (q, r)
}

/// The plant's traffic, a few hundred frames. Only private addresses; MACs in the
/// locally administered range 02:00:5e:77:*.
fn plant_trace() -> (Vec<Vec<u8>>, Vec<MacAddr>) {
    let plc = host(10);
    let hmi = host(20);
    let eng = host(30);
    let historian = host(40);
    let dns_server = host(53);
    let ntp_server = host(123);
    let nms = host(161);
    let (bms, controller) = (host6(1), host6(2));
    let macs = [
        plc, hmi, eng, historian, dns_server, ntp_server, nms, bms, controller,
    ]
    .map(|h| h.mac)
    .to_vec();
    let mut t = Trace::default();

    // Modbus/TCP polling, 40 reads.
    let polls: Vec<_> = (1..=40).map(|i| modbus_read(i, 8 + i % 5)).collect();
    tcp(&mut t, None, hmi, 49152, plc, 502, &polls, End::Fin);
    // S7comm-like exchange (TPKT/COTP framing), 20 requests.
    let s7: Vec<_> = (0..20u8)
        .map(|i| {
            let req = vec![
                3, 0, 0, 31, 2, 0xf0, 0x80, 0x32, 1, 0, 0, i, 0, 0, 14, 0, 0, 4, 1, 0x12, 10, 0x10,
                2, 0, 8, 0, 1, 0x84, 0, 0, i,
            ];
            let mut resp = vec![
                3, 0, 0, 41, 2, 0xf0, 0x80, 0x32, 3, 0, 0, i, 0, 0, 2, 0, 12, 0, 0, 4, 1, 0xff, 4,
                0, 64,
            ];
            resp.extend_from_slice(&[i; 16]);
            (req, resp)
        })
        .collect();
    tcp(&mut t, None, eng, 50321, plc, 102, &s7, End::Fin);
    // The PLC's web page: responses of several segments.
    let web: Vec<_> = [
        b"GET / HTTP/1.1\r\nHost: plc\r\n\r\n".to_vec(),
        b"GET /diag HTTP/1.1\r\nHost: plc\r\n\r\n".to_vec(),
    ]
    .into_iter()
    .zip([3000usize, 5000])
    .map(|(req, len)| {
        let mut resp = format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\n\r\n").into_bytes();
        resp.resize(resp.len() + len, b'x');
        (req, resp)
    })
    .collect();
    tcp(&mut t, None, eng, 50400, plc, 80, &web, End::Fin);
    // Historian collecting values over EtherNet/IP on VLAN 20.
    let enip: Vec<_> = (0..12u8)
        .map(|i| {
            (
                vec![
                    0x6f, 0, 24, 0, 1, 2, 3, 4, 0, 0, 0, 0, i, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                ],
                vec![
                    0x6f, 0, 40, 0, 1, 2, 3, 4, 0, 0, 0, 0, i, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, i,
                    i, i, i,
                ],
            )
        })
        .collect();
    tcp(
        &mut t,
        Some(20),
        historian,
        51000,
        plc,
        44818,
        &enip,
        End::Fin,
    );
    // A session the engineering station aborts with a reset.
    let aborted = [modbus_read(900, 2), modbus_read(901, 2)];
    tcp(&mut t, None, eng, 50500, plc, 502, &aborted, End::Reset);

    // DNS lookups, one flow each; NTP; SNMP polling.
    for (i, name) in [
        "plc.plant.lan",
        "hmi.plant.lan",
        "historian.plant.lan",
        "ntp.plant.lan",
    ]
    .iter()
    .enumerate()
    {
        let i = i as u8;
        udp(
            &mut t,
            hmi,
            53000 + u16::from(i),
            dns_server,
            53,
            &[dns(0x100 + u16::from(i), name, [10, 77, 0, 10 + i])],
        );
    }
    let ntp: Vec<_> = (0..3u8)
        .map(|i| {
            let mut q = vec![0x23, 0, 6, 0xec];
            q.resize(48, i);
            let mut r = vec![0x24, 2, 6, 0xec];
            r.resize(48, i ^ 0x55);
            (q, r)
        })
        .collect();
    udp(&mut t, plc, 123, ntp_server, 123, &ntp);
    let snmp: Vec<_> = (0..5u8)
        .map(|i| {
            (
                vec![
                    0x30, 0x26, 2, 1, 1, 4, 6, b'p', b'u', b'b', b'l', b'i', b'c', 0xa0, 0x19, 2,
                    1, i,
                ],
                vec![
                    0x30, 0x2a, 2, 1, 1, 4, 6, b'p', b'u', b'b', b'l', b'i', b'c', 0xa2, 0x1d, 2,
                    1, i, 2, 1, 0,
                ],
            )
        })
        .collect();
    udp(&mut t, nms, 40161, plc, 161, &snmp);
    // BACnet/IP over IPv6.
    let bacnet: Vec<_> = (0..4u8)
        .map(|i| {
            (
                vec![
                    0x82, 0x0a, 0, 17, 1, 4, 0, 5, i, 0x0c, 0x0c, 0, 0, 0, 1, 0x19, 0x55,
                ],
                vec![
                    0x82, 0x0a, 0, 20, 1, 0, 0x30, i, 0x0c, 0x0c, 0, 0, 0, 1, 0x19, 0x55, 0x3e,
                    0x44, 0x42, 0x3f,
                ],
            )
        })
        .collect();
    udp(&mut t, bms, 47808, controller, 47808, &bacnet);

    // ICMP echo from the engineering station to the PLC.
    let ping = t.conversation();
    for seq in 1..=5u16 {
        let mut body = vec![0x12, 0x34];
        body.extend_from_slice(&seq.to_be_bytes());
        body.extend(std::iter::repeat_n(0x61, 32));
        t.ip(
            ping,
            None,
            eng,
            plc,
            &L4::Icmp {
                icmp_type: 8,
                code: 0,
                body: &body,
            },
        );
        t.ip(
            ping,
            None,
            plc,
            eng,
            &L4::Icmp {
                icmp_type: 0,
                code: 0,
                body: &body,
            },
        );
    }

    // ARP: who-has and replies.
    let arp = t.conversation();
    for (asker, owner) in [(hmi, plc), (eng, plc), (historian, plc), (plc, ntp_server)] {
        t.arp(arp, false, asker, owner);
        t.arp(arp, true, owner, asker);
    }

    (t.interleave(), macs)
}

/// The probe flow: UDP between two addresses no plant station uses.
fn probe_frames() -> Vec<Vec<u8>> {
    let (a, b) = (host(250), host(251));
    (0..PROBES)
        .map(|i| {
            let mut f = Vec::new();
            let payload = format!("mamori sensor probe {i}");
            let l4 = L4::Udp {
                src_port: 9,
                dst_port: 9,
                payload: payload.as_bytes(),
            };
            let eth = EthernetSpec {
                src: a.mac,
                dst: b.mac,
                vlan: None,
            };
            build::ip_frame(&mut f, &eth, a.ip, b.ip, 64, 0xf000 + i as u16, &l4);
            f
        })
        .collect()
}

fn write_capture(path: &Path, frames: &[Vec<u8>]) {
    let file = BufWriter::new(File::create(path).expect("create capture"));
    let mut w =
        CaptureWriter::new(file, WriteFormat::PcapNg, LinkType::ETHERNET).expect("capture header");
    let start = Timestamp::from_secs(1_767_225_600); // 2026-01-01
    for (i, f) in frames.iter().enumerate() {
        w.write_packet(start.plus_nanos(i as i64 * 1_000_000), f)
            .expect("write packet");
    }
    w.finish().expect("finish capture");
}

/// A flow's identity in `conn.jsonl`.
type FlowKey = (String, String, u64, String, u64, Option<u64>);

/// The `conn.jsonl` fields that must be equal (besides the flow's identity); `ts`,
/// `uid` and `duration` are not compared.
const COMPARED: [&str; 13] = [
    "orig_pkts",
    "resp_pkts",
    "orig_ip_bytes",
    "resp_ip_bytes",
    "orig_bytes",
    "resp_bytes",
    "conn_state",
    "history",
    "service",
    "missed_bytes",
    "orig_l2_addr",
    "resp_l2_addr",
    "inner_vlan",
];

/// The records of a `conn.jsonl` by flow (a list, in case a flow was split).
fn flows(conn_log: &Path) -> BTreeMap<FlowKey, Vec<BTreeMap<&'static str, Value>>> {
    let mut out: BTreeMap<FlowKey, Vec<_>> = BTreeMap::new();
    for r in read_jsonl(conn_log) {
        let s = |k: &str| r[k].as_str().unwrap_or("").to_string();
        let n = |k: &str| r[k].as_u64().unwrap_or(0);
        let key = (
            s("proto"),
            s("id.orig_h"),
            n("id.orig_p"),
            s("id.resp_h"),
            n("id.resp_p"),
            r["vlan"].as_u64(),
        );
        let fields = COMPARED.iter().map(|&k| (k, r[k].clone())).collect();
        out.entry(key).or_default().push(fields);
    }
    out
}

/// `arp.jsonl` records without their timestamps, sorted.
fn arp_records(arp_log: &Path) -> Vec<String> {
    let mut out: Vec<String> = read_jsonl(arp_log)
        .into_iter()
        .map(|mut r| {
            r.as_object_mut().map(|o| o.remove("ts"));
            r.to_string()
        })
        .collect();
    out.sort();
    out
}

/// The sensor process; killed (by its id) if still running when dropped.
struct Sensor(Option<Child>);

impl Sensor {
    /// Waits for the sensor to exit by itself, at most `limit`.
    fn wait(mut self, limit: Duration) -> Output {
        let mut child = self.0.take().expect("sensor running");
        let deadline = Instant::now() + limit;
        while child.try_wait().expect("sensor status").is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                let out = child.wait_with_output().expect("sensor output");
                panic!(
                    "the sensor did not stop within {limit:?} of --duration {SENSOR_SECS}; stderr: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        child.wait_with_output().expect("sensor output")
    }
}

impl Drop for Sensor {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// What happened inside the namespace.
struct Replay {
    ready_after: Duration,
    replay_time: Duration,
    sent: usize,
}

/// Inside the namespace: waits for the sensor's sockets, sends the probes, then the
/// trace.
fn replay(frames: Vec<Vec<u8>>, probes: Vec<Vec<u8>>) -> Replay {
    let ready_after = wait_for_packet_sockets(CAPTURE_IF, SENSOR_THREADS, Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("the sensor never started capturing: {e}"));
    // The sockets are bound; the fanout group is joined microseconds later.
    std::thread::sleep(Duration::from_millis(100));
    let sender = RawSender::open(SEND_IF).expect("open send socket");
    for p in &probes {
        sender.send(p).expect("send probe");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(50));
    let start = Instant::now();
    for f in &frames {
        sender.send(f).expect("send frame");
        std::thread::sleep(PACE);
    }
    Replay {
        ready_after,
        replay_time: start.elapsed(),
        sent: frames.len(),
    }
}

/// The numbers in the sensor's summary line, by the word after each.
fn summary_numbers(stdout: &str) -> BTreeMap<String, u64> {
    let line = stdout.lines().next().unwrap_or("");
    let counts = line.split(';').next().unwrap_or("");
    counts
        .split(", ")
        .filter_map(|part| {
            let (n, what) = part.trim().split_once(' ')?;
            Some((what.to_string(), n.parse().ok()?))
        })
        .collect()
}

#[test]
fn sensor_on_a_veth_logs_the_same_flows_as_analyze_on_the_file() {
    let started = Instant::now();
    let (ns, _veth) = match Netns::with_veth(SEND_IF, CAPTURE_IF) {
        Ok(pair) => pair,
        Err(skip) => return skip.report(),
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let (frames, macs) = plant_trace();
    let probes = probe_frames();
    for end in [SEND_IF, CAPTURE_IF] {
        let own = MacAddr(ns.mac_of(end).expect("veth MAC"));
        assert!(
            !macs.contains(&own),
            "{end}'s own MAC {own:?} is used by the trace"
        );
    }
    let unique: std::collections::BTreeSet<&Vec<u8>> = frames.iter().chain(&probes).collect();
    assert_eq!(
        unique.len(),
        frames.len() + probes.len(),
        "the trace repeats a frame"
    );

    // The file, and what `mamori analyze` makes of it.
    let pcap = dir.path().join("plant.pcapng");
    write_capture(&pcap, &frames);
    let file_logs = dir.path().join("analyze");
    let out = common::mamori()
        .env("MAMORI_NO_DB", "1")
        .arg("analyze")
        .arg(&pcap)
        .arg("--logs")
        .arg(&file_logs)
        .args(["--threads", "2", "-q"])
        .output()
        .expect("mamori analyze runs");
    assert!(
        out.status.success(),
        "analyze failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The same frames through a live sensor.
    let live_logs = dir.path().join("sensor");
    let spawned = Instant::now();
    let sensor = Sensor(Some(
        ns.command(env!("CARGO_BIN_EXE_mamori"))
            .args(["sensor", "--iface", CAPTURE_IF, "--threads"])
            .arg(SENSOR_THREADS.to_string())
            .arg("--duration")
            .arg(SENSOR_SECS.to_string())
            .arg("--logs")
            .arg(&live_logs)
            .arg("-q")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start mamori sensor"),
    ));
    let replayed = match ns.run(move || replay(frames, probes)) {
        Ok(Ok(r)) => r,
        Ok(Err(skip)) => return skip.report(),
        Err(panic) => std::panic::resume_unwind(panic),
    };
    let replay_done = spawned.elapsed();
    assert!(
        replay_done.as_secs_f64() < SENSOR_SECS - 0.5,
        "the replay ended {replay_done:?} after the sensor started, too close to its --duration {SENSOR_SECS}s \
         (machine too slow or loaded)"
    );
    let out = sensor.wait(Duration::from_secs_f64(SENSOR_SECS + 20.0));
    let sensor_time = spawned.elapsed();
    drop(ns);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "sensor failed: {}{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = summary_numbers(&stdout);

    // Compare per flow.
    let want = flows(&file_logs.join("conn.jsonl"));
    let got = flows(&live_logs.join("conn.jsonl"));
    let mut differences = Vec::new();
    let mut packets = 0;
    for (key, records) in &want {
        match got.get(key) {
            None => differences.push(format!("{key:?}: missing from the sensor's log")),
            Some(live) if live != records => differences.push(format!(
                "{key:?}:\n    analyze {records:?}\n    sensor  {live:?}"
            )),
            Some(_) => {
                packets += records
                    .iter()
                    .map(|r| {
                        r["orig_pkts"].as_u64().unwrap_or(0) + r["resp_pkts"].as_u64().unwrap_or(0)
                    })
                    .sum::<u64>()
            }
        }
    }
    let extra: Vec<&FlowKey> = got.keys().filter(|k| !want.contains_key(*k)).collect();
    let probe_key = (
        "udp".to_string(),
        host(250).ip.to_string(),
        9,
        host(251).ip.to_string(),
        9,
        None,
    );
    let probe_pkts = got.get(&probe_key).map(|r| {
        r.iter()
            .map(|r| r["orig_pkts"].as_u64().unwrap_or(0))
            .sum::<u64>()
    });

    let want_arp = arp_records(&file_logs.join("arp.jsonl"));
    let got_arp = arp_records(&live_logs.join("arp.jsonl"));

    eprintln!(
        "sensor vs analyze: {} flows compared ({} packets), {} differ; sensor-only flows: {} {:?}; \
         probe flow: {:?} of {PROBES} packets; ARP records: {} analyze, {} sensor; \
         replayed {} frames in {:?} (sensor sockets ready after {:?}); sensor ran {:?}, whole test {:?}; \
         sensor summary: {summary:?}",
        want.len(),
        packets,
        differences.len(),
        extra.len(),
        extra,
        probe_pkts,
        want_arp.len(),
        got_arp.len(),
        replayed.sent,
        replayed.replay_time,
        replayed.ready_after,
        sensor_time,
        started.elapsed(),
    );
    for (key, records) in &want {
        for r in records {
            eprintln!(
                "  {} {}:{} -> {}:{} vlan {:?}: {} {} pkts {}/{} ip bytes {}/{} payload {}/{}",
                key.0,
                key.1,
                key.2,
                key.3,
                key.4,
                key.5,
                r["conn_state"],
                r["history"],
                r["orig_pkts"],
                r["resp_pkts"],
                r["orig_ip_bytes"],
                r["resp_ip_bytes"],
                r["orig_bytes"],
                r["resp_bytes"],
            );
        }
    }
    assert!(
        differences.is_empty(),
        "flows differ between sensor and analyze:\n{}",
        differences.join("\n")
    );
    assert_eq!(
        probe_pkts,
        Some(PROBES as u64),
        "the sensor missed probe frames sent before the trace"
    );
    assert_eq!(got_arp, want_arp, "arp.jsonl differs (ignoring ts)");
    assert_eq!(
        summary.get("duplicates").copied(),
        Some(0),
        "sensor summary: {stdout}"
    );
    assert_eq!(
        summary.get("dropped by the kernel").copied(),
        Some(0),
        "sensor summary: {stdout}"
    );
    // More would be the namespace's own traffic (reported above as sensor-only flows).
    assert!(
        summary.get("packets").copied() >= Some((replayed.sent + PROBES) as u64),
        "the sensor counted fewer packets than were sent: {stdout}"
    );
}
