//! Acceptance: `conn.jsonl` (and `arp.jsonl`) are byte-identical for any thread count,
//! and for the pcap and pcapng forms of the same capture.

mod common;

use std::fs::File;
use std::io::BufWriter;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::process::Command;

use mamori_wire::build::{self, EthernetSpec, L4};
use mamori_wire::capture::writer::{CaptureWriter, WriteFormat};
use mamori_wire::decode::{MacAddr, TcpFlags};
use mamori_wire::{LinkType, Timestamp};

/// A small deterministic generator (splitmix64), so the capture is the same every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn host(i: u8) -> (MacAddr, IpAddr) {
    (
        MacAddr([0x00, 0x1b, 0x1b, 0x00, 0x00, i]),
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, i)),
    )
}

/// Splits an IPv4 packet (no options) into fragments of at most `max` payload bytes.
fn fragment_ipv4(packet: &[u8], max: usize) -> Vec<Vec<u8>> {
    let (header, payload) = packet.split_at(20);
    let step = max / 8 * 8;
    let mut out = Vec::new();
    for (i, piece) in payload.chunks(step).enumerate() {
        let mut h = header.to_vec();
        let offset = (i * step / 8) as u16;
        let more = (i + 1) * step < payload.len();
        h[2..4].copy_from_slice(&((20 + piece.len()) as u16).to_be_bytes());
        h[6..8].copy_from_slice(&(offset | if more { 0x2000 } else { 0 }).to_be_bytes());
        h[10..12].copy_from_slice(&[0, 0]);
        let sum = build::checksum(&h, 0);
        h[10..12].copy_from_slice(&sum.to_be_bytes());
        h.extend_from_slice(piece);
        out.push(h);
    }
    out
}

/// About ten minutes of mixed traffic among 40 hosts: TCP conversations with
/// handshakes and teardown (some left open, some reset), UDP polls, pings, ARP, a VLAN,
/// fragmented UDP datagrams, and ports reused after a close.
fn frames() -> Vec<(Timestamp, Vec<u8>)> {
    let mut rng = Rng(42);
    let mut out = Vec::new();
    let start = Timestamp::from_secs(1_750_000_000);
    for conv in 0..400u64 {
        let t0 = start.plus_nanos((rng.below(600_000_000) * 1000) as i64);
        let (a, b) = (rng.below(40) as u8 + 1, rng.below(40) as u8 + 1);
        if a == b {
            continue;
        }
        let ((ma, ia), (mb, ib)) = (host(a), host(b));
        let vlan = (conv % 7 == 0).then_some(10);
        let ab = EthernetSpec {
            src: ma,
            dst: mb,
            vlan,
        };
        let ba = EthernetSpec {
            src: mb,
            dst: ma,
            vlan,
        };
        let mut t = t0;
        let mut step = |rng: &mut Rng| {
            t = t.plus_nanos(((rng.below(5000) + 1) * 1000) as i64);
            t
        };
        let mut push = |ts, eth: &EthernetSpec, s, d, l4: L4<'_>| {
            let mut f = Vec::new();
            build::ip_frame(&mut f, eth, s, d, 64, (conv & 0xffff) as u16, &l4);
            out.push((ts, f));
        };
        match conv % 5 {
            0 | 1 => {
                let (sp, dp) = (
                    20_000 + (conv % 50) as u16,
                    [502u16, 102, 44818][conv as usize % 3],
                );
                let (mut sa, mut sb) = (rng.next() as u32, rng.next() as u32);
                let tcp = |seq, ack, flags, payload| L4::Tcp {
                    src_port: sp,
                    dst_port: dp,
                    seq,
                    ack,
                    flags,
                    window: 8192,
                    options: &[],
                    payload,
                };
                let rtcp = |seq, ack, flags, payload| L4::Tcp {
                    src_port: dp,
                    dst_port: sp,
                    seq,
                    ack,
                    flags,
                    window: 8192,
                    options: &[],
                    payload,
                };
                push(step(&mut rng), &ab, ia, ib, tcp(sa, 0, TcpFlags::SYN, &[]));
                push(
                    step(&mut rng),
                    &ba,
                    ib,
                    ia,
                    rtcp(sb, sa + 1, TcpFlags::SYN | TcpFlags::ACK, &[]),
                );
                sa += 1;
                sb += 1;
                push(step(&mut rng), &ab, ia, ib, tcp(sa, sb, TcpFlags::ACK, &[]));
                for _ in 0..rng.below(20) {
                    push(
                        step(&mut rng),
                        &ab,
                        ia,
                        ib,
                        tcp(sa, sb, TcpFlags::ACK | TcpFlags::PSH, b"request!"),
                    );
                    sa += 8;
                    push(
                        step(&mut rng),
                        &ba,
                        ib,
                        ia,
                        rtcp(sb, sa, TcpFlags::ACK | TcpFlags::PSH, b"response bytes"),
                    );
                    sb += 14;
                }
                match rng.below(3) {
                    0 => {
                        push(
                            step(&mut rng),
                            &ab,
                            ia,
                            ib,
                            tcp(sa, sb, TcpFlags::FIN | TcpFlags::ACK, &[]),
                        );
                        push(
                            step(&mut rng),
                            &ba,
                            ib,
                            ia,
                            rtcp(sb, sa + 1, TcpFlags::FIN | TcpFlags::ACK, &[]),
                        );
                        push(
                            step(&mut rng),
                            &ab,
                            ia,
                            ib,
                            tcp(sa + 1, sb + 1, TcpFlags::ACK, &[]),
                        );
                    }
                    1 => push(
                        step(&mut rng),
                        &ba,
                        ib,
                        ia,
                        rtcp(sb, sa, TcpFlags::RST, &[]),
                    ),
                    _ => {}
                }
            }
            2 => {
                for i in 0..rng.below(30) + 1 {
                    let p = [i as u8; 12];
                    push(
                        step(&mut rng),
                        &ab,
                        ia,
                        ib,
                        L4::Udp {
                            src_port: 40_000 + (conv % 9) as u16,
                            dst_port: 47808,
                            payload: &p,
                        },
                    );
                    push(
                        step(&mut rng),
                        &ba,
                        ib,
                        ia,
                        L4::Udp {
                            src_port: 47808,
                            dst_port: 40_000 + (conv % 9) as u16,
                            payload: &p,
                        },
                    );
                }
            }
            3 => {
                for i in 0..3u16 {
                    let body = [0, 1, (i >> 8) as u8, i as u8, 0xab, 0xcd];
                    push(
                        step(&mut rng),
                        &ab,
                        ia,
                        ib,
                        L4::Icmp {
                            icmp_type: 8,
                            code: 0,
                            body: &body,
                        },
                    );
                    push(
                        step(&mut rng),
                        &ba,
                        ib,
                        ia,
                        L4::Icmp {
                            icmp_type: 0,
                            code: 0,
                            body: &body,
                        },
                    );
                }
            }
            _ => {
                // A large UDP datagram in fragments, the pieces out of order.
                let payload: Vec<u8> = (0..3000).map(|i| (i * 7 + conv as usize) as u8).collect();
                let mut ip = Vec::new();
                build::ip_packet(
                    &mut ip,
                    ia,
                    ib,
                    64,
                    conv as u16,
                    &L4::Udp {
                        src_port: 5000,
                        dst_port: 2049,
                        payload: &payload,
                    },
                );
                let mut pieces = fragment_ipv4(&ip, 1480);
                pieces.swap(0, 1);
                for piece in pieces {
                    let mut f = Vec::new();
                    build::ethernet_header(&mut f, &ab, 0x0800);
                    f.extend_from_slice(&piece);
                    out.push((step(&mut rng), f));
                }
            }
        }
        // An ARP exchange now and then.
        if conv % 11 == 0 {
            let mut f = Vec::new();
            build::ethernet_header(
                &mut f,
                &EthernetSpec {
                    src: ma,
                    dst: MacAddr::BROADCAST,
                    vlan: None,
                },
                0x0806,
            );
            f.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
            f.extend_from_slice(&ma.0);
            f.extend_from_slice(&[10, 0, 0, a, 0, 0, 0, 0, 0, 0, 10, 0, 0, b]);
            out.push((step(&mut rng), f));
        }
    }
    out.sort_by_key(|(ts, _)| *ts);
    out
}

fn write(path: &Path, format: WriteFormat, frames: &[(Timestamp, Vec<u8>)]) {
    let mut w = CaptureWriter::new(
        BufWriter::new(File::create(path).unwrap()),
        format,
        LinkType::ETHERNET,
    )
    .unwrap();
    for (ts, f) in frames {
        w.write_packet(*ts, f).unwrap();
    }
    w.finish().unwrap();
}

/// Every non-empty `*.jsonl` log in `dir`, by file name (an empty log and no log
/// say the same: a run that failed at open writes no ledger or alerts).
fn read_logs(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
                .map(|p| {
                    let name = p.file_name().unwrap().to_string_lossy().into_owned();
                    (name, std::fs::read(&p).unwrap())
                })
                .filter(|(_, bytes)| !bytes.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

fn analyze_all(
    input: &Path,
    threads: usize,
    logs: &Path,
) -> std::collections::BTreeMap<String, Vec<u8>> {
    let out = common::run_mamori(&[
        "analyze",
        input.to_str().unwrap(),
        "--threads",
        &threads.to_string(),
        "-q",
        "--logs",
        logs.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    read_logs(logs)
}

#[test]
fn logs_are_identical_for_any_thread_count_and_both_file_formats() {
    let dir = tempfile::tempdir().unwrap();
    let frames = frames();
    let pcap = dir.path().join("mix.pcap");
    let pcapng = dir.path().join("mix.pcapng");
    write(&pcap, WriteFormat::Pcap, &frames);
    write(&pcapng, WriteFormat::PcapNg, &frames);
    let reference_all = analyze_all(&pcap, 1, &dir.path().join("ref"));
    let reference = (
        reference_all["conn.jsonl"].clone(),
        reference_all["arp.jsonl"].clone(),
    );
    let conns = reference.0.iter().filter(|&&b| b == b'\n').count();
    assert!(
        conns > 300,
        "the mix should make hundreds of connections, got {conns}"
    );
    assert!(
        String::from_utf8_lossy(&reference.0).contains("\"id.resp_p\":2049"),
        "reassembled fragments make a flow"
    );
    assert!(!reference.1.is_empty(), "ARP is logged");
    for (input, threads) in [(&pcap, 2), (&pcap, 3), (&pcapng, 1), (&pcapng, 2)] {
        let logs = dir.path().join(format!(
            "{}-{threads}",
            input.extension().unwrap().to_str().unwrap()
        ));
        let got = analyze_all(input, threads, &logs);
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            reference_all.keys().collect::<Vec<_>>()
        );
        for (name, bytes) in &reference_all {
            assert!(
                &got[name] == bytes,
                "{name} differs for {} with {threads} threads",
                input.display()
            );
        }
    }
}

#[test]
fn shared_captures_give_identical_logs_as_pcap_and_pcapng() {
    let Some(shared) = common::shared_pcaps("pcap_vs_pcapng") else {
        return;
    };
    if Command::new("editcap").arg("-h").output().is_err() {
        eprintln!(
            "skipped pcap_vs_pcapng: editcap is not installed (Debian package: wireshark-common)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut compared = 0;
    for file in common::capture_files(&shared) {
        if file.extension().is_some_and(|e| e == "pcapng") {
            continue;
        }
        let converted = dir
            .path()
            .join(file.file_name().unwrap())
            .with_extension("pcapng");
        let status = Command::new("editcap")
            .args(["-F", "pcapng"])
            .arg(&file)
            .arg(&converted)
            .status()
            .unwrap();
        if !status.success() {
            continue; // e.g. a link type editcap cannot write as pcapng
        }
        let a = analyze_lenient(&file, 2, &dir.path().join(format!("{compared}-a")));
        let b = analyze_lenient(&converted, 2, &dir.path().join(format!("{compared}-b")));
        assert!(
            a == b,
            "logs differ between {} and its pcapng form",
            file.display()
        );
        let one = analyze_lenient(&converted, 1, &dir.path().join(format!("{compared}-c")));
        assert!(
            one == b,
            "logs of {} differ between 1 and 2 threads",
            file.display()
        );
        compared += 1;
    }
    eprintln!("compared {compared} captures in both formats");
    assert!(compared > 40);
}

/// Like `analyze_all`, but a skipped capture (unsupported link type) is fine.
fn analyze_lenient(
    input: &Path,
    threads: usize,
    logs: &Path,
) -> std::collections::BTreeMap<String, Vec<u8>> {
    let out = common::run_mamori(&[
        "analyze",
        input.to_str().unwrap(),
        "--threads",
        &threads.to_string(),
        "-q",
        "--logs",
        logs.to_str().unwrap(),
    ]);
    assert!(
        out.status.code().is_some_and(|c| c <= 2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    read_logs(logs)
}
