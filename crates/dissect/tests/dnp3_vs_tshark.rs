//! Acceptance: on the shared captures, DNP3 requests per application function code
//! equal tshark's.
//!
//! Rule: tshark 4.0 (`-o tcp.analyze_sequence_numbers:FALSE`, display filter
//! `dnp3.al.func`), a request is each `dnp3.al.func` value below 128 in a frame whose
//! link frames were all sent by the master (`dnp3.ctl.dir == 1`). tshark reassembles
//! transport segments and shows `dnp3.al.func` once per application fragment, in the
//! frame that completed it, so the count is one per fragment. Copies of a TCP segment
//! (dissected again with sequence analysis off) are counted once, by `tcp.stream`,
//! `tcp.seq_raw` and position in the frame; UDP datagrams are each counted.
//! mamori: every `ot` operation of the DNP3 dissector (one per request fragment from
//! the master, answered or not), by `function`; TCP through the shared replay harness
//! (flows, reassembly, [`StreamBuffer`]), UDP datagrams on port 20000 straight into
//! [`Session::on_datagram`].

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use mamori_dissect::ot::dnp3::{PORT, Parser, Session};
use mamori_dissect::record::OtOperation;
use mamori_dissect::stream::StreamBuffer;
use mamori_flow::Direction;
use mamori_flow::reassembly::Chunk;
use mamori_wire::capture::file::CaptureFile;
use mamori_wire::decode::{self, Network, Transport};

#[derive(Default)]
struct Flow {
    bufs: [StreamBuffer; 2],
    session: Session,
    ops: Vec<OtOperation>,
}

fn count(ops: Vec<OtOperation>, counts: &mut BTreeMap<u32, u64>) {
    for op in ops {
        *counts.entry(op.function.code).or_insert(0) += 1;
    }
}

/// Every operation of a capture, TCP flows first, in the order they finished.
fn operations(path: &Path) -> Vec<OtOperation> {
    let mut all = Vec::new();
    common::replay_tcp::<Flow>(path, feed, |_, mut flow| {
        flow.session.finish(&mut flow.ops);
        all.append(&mut flow.ops);
    });
    all.extend(udp_operations(path));
    all
}

fn feed(flow: &mut Flow, ports: (u16, u16), dir: Direction, ts: i64, chunk: Chunk<'_>) {
    let Some(dir) = common::towards_server(PORT, ports, dir) else {
        return;
    };
    let Flow { bufs, session, ops } = flow;
    let mut facts = Vec::new();
    match chunk {
        Chunk::Data(bytes) => bufs[dir.index()].feed(&Parser, dir, bytes, |frame| {
            session.on_frame(dir, ts, &frame, ops, &mut facts)
        }),
        Chunk::Gap(n) => {
            bufs[dir.index()].gap(n);
            session.gap(dir);
        }
    }
}

fn ours_tcp(path: &Path, counts: &mut BTreeMap<u32, u64>) {
    common::replay_tcp::<Flow>(path, feed, |_, mut flow| {
        flow.session.finish(&mut flow.ops);
        count(flow.ops, counts);
    });
}

/// UDP: one session per (address, port) pair, direction towards port 20000.
fn udp_operations(path: &Path) -> Vec<OtOperation> {
    let mut file = CaptureFile::open(path).expect("capture opens");
    let mut sessions: HashMap<String, Session> = HashMap::new();
    let mut ops = Vec::new();
    while let Some(pkt) = file.current() {
        if let Ok(frame) = decode::decode(pkt.link, pkt.data)
            && let Network::Ip(ip) = &frame.network
            && let Transport::Udp(udp) = &ip.transport
        {
            let (src, dst) = (format!("{:?}", ip.src), format!("{:?}", ip.dst));
            let (dir, key) = if udp.dst_port == PORT {
                (Direction::Orig, format!("{src}:{} {dst}", udp.src_port))
            } else if udp.src_port == PORT {
                (Direction::Resp, format!("{dst}:{} {src}", udp.dst_port))
            } else {
                (Direction::Orig, String::new())
            };
            if !key.is_empty() {
                sessions.entry(key).or_default().on_datagram(
                    dir,
                    pkt.ts.0,
                    udp.payload,
                    &mut ops,
                    &mut Vec::new(),
                );
            }
        }
        if file.advance().is_err() {
            break;
        }
    }
    for session in sessions.values_mut() {
        session.finish(&mut ops);
    }
    ops
}

fn ours(path: &Path) -> BTreeMap<u32, u64> {
    let mut counts = BTreeMap::new();
    ours_tcp(path, &mut counts);
    count(udp_operations(path), &mut counts);
    counts
}

fn theirs(path: &Path) -> BTreeMap<u32, u64> {
    let fields = [
        "frame.number",
        "tcp.stream",
        "tcp.seq_raw",
        "dnp3.ctl.dir",
        "dnp3.al.func",
    ];
    let frames = common::tshark_fields_with(
        path,
        &["-o", "tcp.analyze_sequence_numbers:FALSE"],
        "dnp3.al.func",
        &fields,
    );
    let mut seen = BTreeSet::new();
    let mut counts = BTreeMap::new();
    for frame in frames {
        let dirs = &frame[3];
        if dirs.is_empty() || dirs.iter().any(|d| d != "1") {
            continue;
        }
        // TCP copies by stream and offset; a UDP frame by its number.
        let key = match (frame[1].first(), frame[2].first()) {
            (Some(stream), Some(seq)) => format!("tcp {stream} {seq}"),
            _ => format!("frame {}", frame[0][0]),
        };
        for (i, code) in frame[4].iter().enumerate() {
            let code: u32 = code.parse().expect("numeric code");
            if code < 128 && seen.insert((key.clone(), i)) {
                *counts.entry(code).or_insert(0) += 1;
            }
        }
    }
    counts
}

#[test]
fn dnp3_requests_per_function_code_equal_tsharks() {
    let Some(dir) = common::shared_pcaps("dnp3_vs_tshark") else {
        return;
    };
    if !common::have_tshark("dnp3_vs_tshark") {
        return;
    }
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for name in [
        "iti_cold_restart_and_response.pcap",
        "iti_direct_operate_crob_malform_but_good_crc.pcap",
        "iti_full_exchange.pcap",
        "iti-opendnp3-8.2.4.2_dump.pcap",
        "zeek_dnp3_file_write.pcap",
        "zeek_dnp3_udp_select_operate.pcap",
    ] {
        let path = dir.join(name);
        let (o, t) = (ours(&path), theirs(&path));
        report.push(format!("{name}: mamori {o:?} tshark {t:?}"));
        if o != t || o.is_empty() {
            failures.push(format!("{name}: mamori {o:?} != tshark {t:?}"));
        }
    }
    eprintln!("{}", report.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What each capture's requests were and how they ended (no tshark needed).
#[test]
fn dnp3_operations_on_the_shared_captures() {
    let Some(dir) = common::shared_pcaps("dnp3_operations_on_the_shared_captures") else {
        return;
    };
    let cases: [(&str, &[&str]); 6] = [
        (
            "iti_cold_restart_and_response.pcap",
            // IIN2 0x01: the outstation does not support cold restart.
            &["cold_restart dst 10 exception:1"],
        ),
        (
            "iti_direct_operate_crob_malform_but_good_crc.pcap",
            &["direct_operate dst 4 g12v1 index 1 count 2 no_response bad_length,no_response"],
        ),
        (
            "iti_full_exchange.pcap",
            &[
                "disable_unsolicited dst 10 g60v2 all ok",
                "confirm dst 10 ok",
                "write dst 10 g80v1 index 7 ok",
                "read dst 10 g60v2 all ok",
                "enable_unsolicited dst 10 g60v2 all ok",
            ],
        ),
        (
            "iti-opendnp3-8.2.4.2_dump.pcap",
            &[
                "select dst 1024 g12v1 index 10 count 4 ok",
                "operate dst 1024 g12v1 index 10 count 4 ok",
                "select dst 1024 g12v1 index 10 count 5 ok",
                "direct_operate dst 1024 g12v1 index 10 count 5 ok",
                // IIN2 0x04: parameter error (the second CROB's index is 65535).
                "select dst 1024 g12v1 index 0 exception:4",
            ],
        ),
        (
            "zeek_dnp3_file_write.pcap",
            &[
                "open_file dst 4 g70v3 count 1 ok",
                "write dst 4 g70v5 count 1 ok",
                "close_file dst 4 g70v4 count 1 ok",
            ],
        ),
        (
            "zeek_dnp3_udp_select_operate.pcap",
            &[
                "select dst 1 g12v1 index 1 ok",
                "operate dst 1 g12v1 index 1 ok",
                "read dst 1 g60v2 all ok",
            ],
        ),
    ];
    for (name, expected) in cases {
        let got: Vec<String> = operations(&dir.join(name))
            .iter()
            .map(|op| {
                let flags: Vec<_> = op.flags.names().collect();
                let line = format!("{} {} {}", op.function.name, op.target, op.status);
                if flags.is_empty() {
                    line
                } else {
                    format!("{line} {}", flags.join(","))
                }
            })
            .collect();
        assert_eq!(got, expected, "{name}");
    }
}
