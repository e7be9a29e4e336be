//! Acceptance: per unordered 5-tuple, `conn.jsonl` counts the same packets and IP
//! bytes as Wireshark's `tshark` shows for the same capture.
//!
//! The rule, per frame of `tshark -r FILE` (IP reassembly off, first occurrence of
//! each field, so the outermost IP header is used):
//! - the frame counts when it has an IPv4 or IPv6 header and is not an IP fragment
//!   (mamori reassembles fragments into one datagram; tshark shows each piece);
//! - its IP bytes are `ip.len` (IPv4) or 40 + `ipv6.plen` (IPv6);
//! - its protocol is the outer IPv4 `ip.proto`, or for IPv6 whichever of TCP, UDP,
//!   ICMPv6 tshark found (else `ipv6.nxt`); ports come from the TCP/UDP header of that
//!   protocol and are 0 for everything else (ICMP errors quote a TCP header that must
//!   not be taken for the packet's own);
//! - the key is the protocol and the two (address, port) endpoints, unordered.
//!
//! mamori's side sums `orig_pkts + resp_pkts` and `orig_ip_bytes + resp_ip_bytes` of
//! every `conn.jsonl` record with that key (a 5-tuple may hold several connections).

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::*;

type Key = (u8, (String, u16), (String, u16));

const FIELDS: &[&str] = &[
    "ip.src",
    "ip.dst",
    "ip.len",
    "ip.proto",
    "ip.flags.mf",
    "ip.frag_offset",
    "ipv6.src",
    "ipv6.dst",
    "ipv6.plen",
    "ipv6.nxt",
    "tcp.srcport",
    "tcp.dstport",
    "udp.srcport",
    "udp.dstport",
    "icmpv6.type",
    "ipv6.fraghdr.offset",
];

fn key(proto: u8, a: (String, u16), b: (String, u16)) -> Key {
    if a <= b { (proto, a, b) } else { (proto, b, a) }
}

fn tshark_counts(file: &Path) -> BTreeMap<Key, (u64, u64)> {
    let mut cmd = Command::new("tshark");
    cmd.args(["-r"]).arg(file).args([
        "-n",
        "-T",
        "fields",
        "-E",
        "occurrence=f",
        "-E",
        "separator=\t",
    ]);
    cmd.args(["-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE"]);
    for f in FIELDS {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("tshark runs");
    assert!(
        out.status.success(),
        "tshark failed on {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut counts = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let v: BTreeMap<&str, &str> = FIELDS.iter().copied().zip(line.split('\t')).collect();
        let get = |f: &str| v.get(f).copied().unwrap_or("");
        let num = |f: &str| get(f).parse::<u64>().unwrap_or(0);
        let (src, dst, ip_bytes, proto) = if !get("ip.src").is_empty() {
            if get("ip.flags.mf") == "1" || num("ip.frag_offset") > 0 {
                continue;
            }
            (
                get("ip.src"),
                get("ip.dst"),
                num("ip.len"),
                num("ip.proto") as u8,
            )
        } else if !get("ipv6.src").is_empty() {
            if !get("ipv6.fraghdr.offset").is_empty() {
                continue;
            }
            let proto = if !get("tcp.srcport").is_empty() {
                6
            } else if !get("udp.srcport").is_empty() {
                17
            } else if !get("icmpv6.type").is_empty() {
                58
            } else {
                num("ipv6.nxt") as u8
            };
            (
                get("ipv6.src"),
                get("ipv6.dst"),
                40 + num("ipv6.plen"),
                proto,
            )
        } else {
            continue;
        };
        let (sp, dp) = match proto {
            6 => (num("tcp.srcport"), num("tcp.dstport")),
            17 => (num("udp.srcport"), num("udp.dstport")),
            _ => (0, 0),
        };
        let k = key(
            proto,
            (src.to_string(), sp as u16),
            (dst.to_string(), dp as u16),
        );
        let e = counts.entry(k).or_insert((0, 0));
        e.0 += 1;
        e.1 += ip_bytes;
    }
    counts
}

fn mamori_counts(file: &Path, logs: &Path) -> BTreeMap<Key, (u64, u64)> {
    let out = run_mamori(&[
        "analyze",
        file.to_str().unwrap(),
        "--threads",
        "1",
        "-q",
        "--logs",
        logs.to_str().unwrap(),
    ]);
    assert!(
        out.status.code().is_some_and(|c| c <= 2),
        "mamori failed on {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut counts = BTreeMap::new();
    for r in read_jsonl(&logs.join("conn.jsonl")) {
        let proto = match r["proto"].as_str() {
            Some("tcp") => 6,
            Some("udp") => 17,
            Some("icmp") => 1,
            Some("icmp6") => 58,
            Some(n) => n.parse().expect("numeric proto"),
            None => panic!("record without proto: {r}"),
        };
        let port = |f: &str| {
            if matches!(proto, 6 | 17) {
                r[f].as_u64().unwrap_or(0) as u16
            } else {
                0
            }
        };
        let host = |f: &str| r[f].as_str().unwrap_or("").to_string();
        let k = key(
            proto,
            (host("id.orig_h"), port("id.orig_p")),
            (host("id.resp_h"), port("id.resp_p")),
        );
        let e = counts.entry(k).or_insert((0, 0));
        e.0 += r["orig_pkts"].as_u64().unwrap() + r["resp_pkts"].as_u64().unwrap();
        e.1 += r["orig_ip_bytes"].as_u64().unwrap() + r["resp_ip_bytes"].as_u64().unwrap();
    }
    counts
}

#[test]
fn conn_log_matches_tshark_per_five_tuple_on_every_shared_capture() {
    let Some(dir) = shared_pcaps("conn_vs_tshark") else {
        return;
    };
    if !have_tool("tshark", "conn_vs_tshark") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let (mut files, mut tuples, mut packets) = (0, 0, 0u64);
    for file in capture_files(&dir) {
        let logs = tmp.path().join(file.file_name().unwrap());
        let theirs = tshark_counts(&file);
        let ours = mamori_counts(&file, &logs);
        files += 1;
        tuples += theirs.len();
        packets += theirs.values().map(|v| v.0).sum::<u64>();
        for k in theirs.keys().chain(ours.keys()) {
            let (t, o) = (
                theirs.get(k).copied().unwrap_or_default(),
                ours.get(k).copied().unwrap_or_default(),
            );
            if t != o {
                failures.push(format!(
                    "{}: {k:?}: tshark {t:?} (pkts, ip bytes), mamori {o:?}",
                    file.display()
                ));
            }
        }
    }
    eprintln!("compared {files} captures, {tuples} 5-tuples, {packets} IP packets with tshark");
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
