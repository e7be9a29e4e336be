//! Content decides, the port only hints: every TCP stream and UDP datagram of every
//! shared capture goes to the OPC UA, FINS and SLMP dissectors whatever its port,
//! and only the captures that carry a protocol give operations of it. The only SLMP
//! in the captures is CC-Link IE Field Basic's cyclic command (0x0E70); nothing may
//! panic.

mod common;

use std::collections::BTreeMap;

use mamori_dissect::ot::{fins, opcua, slmp};
use mamori_dissect::record::OtOperation;
use mamori_dissect::stream::StreamBuffer;
use mamori_flow::Direction;
use mamori_flow::reassembly::Chunk;

#[derive(Default)]
struct Flow {
    bufs: [[StreamBuffer; 2]; 3],
    opcua: opcua::Session,
    fins: fins::Session,
    slmp: slmp::Session,
    ops: Vec<OtOperation>,
}

fn feed(flow: &mut Flow, dir: Direction, ts: i64, chunk: Chunk<'_>) {
    let Flow {
        bufs,
        opcua,
        fins,
        slmp,
        ops,
    } = flow;
    let mut facts = Vec::new();
    let d = dir.index();
    match chunk {
        Chunk::Data(bytes) => {
            bufs[0][d].feed(&opcua::Parser, dir, bytes, |c| {
                opcua.on_chunk(dir, ts, &c, ops, &mut facts)
            });
            bufs[1][d].feed(&fins::TcpParser, dir, bytes, |m| {
                fins.on_tcp(dir, ts, &m, ops, &mut facts)
            });
            bufs[2][d].feed(&slmp::Parser, dir, bytes, |f| {
                slmp.on_frame(dir, ts, &f, ops, &mut facts)
            });
        }
        Chunk::Gap(n) => bufs.iter_mut().for_each(|b| b[d].gap(n)),
    }
}

#[test]
fn only_captures_that_carry_a_protocol_give_its_operations() {
    let Some(dir) = common::shared_pcaps("ot2_content_check") else {
        return;
    };
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .expect("readable")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| [".pcap", ".pcapng", ".cap"].iter().any(|x| n.ends_with(x)))
        .collect();
    names.sort();
    let mut found: BTreeMap<String, BTreeMap<&str, u64>> = BTreeMap::new();
    for name in &names {
        let path = dir.join(name);
        if mamori_wire::capture::file::CaptureFile::open(&path).is_err() {
            continue; // a link type the reader does not take (MS/TP serial)
        }
        let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
        let mut tally = |ops: &[OtOperation]| {
            for op in ops {
                *counts.entry(op.protocol).or_insert(0) += 1;
            }
        };
        let mut all = Vec::new();
        common::replay_tcp::<Flow>(
            &path,
            |flow, _, dir, ts, chunk| feed(flow, dir, ts, chunk),
            |_, mut flow| {
                flow.opcua.finish(&mut flow.ops);
                flow.fins.finish(&mut flow.ops);
                flow.slmp.finish(&mut flow.ops);
                all.append(&mut flow.ops);
            },
        );
        let (mut f, mut s) = (fins::Session::default(), slmp::Session::default());
        let mut facts = Vec::new();
        common::replay_udp(&path, |_, _, ts, payload| {
            f.on_datagram(Direction::Orig, ts, payload, &mut all, &mut facts);
            s.on_datagram(Direction::Orig, ts, payload, &mut all, &mut facts);
        });
        f.finish(&mut all);
        s.finish(&mut all);
        tally(&all);
        if name.contains("cclinkiefb") {
            assert!(all.iter().all(|o| o.function.code == 0x0e70), "{name}");
        }
        if !counts.is_empty() {
            found.insert(name.clone(), counts);
        }
    }
    eprintln!("{found:#?}");
    for (name, counts) in &found {
        for protocol in counts.keys() {
            let expected = match *protocol {
                "opcua" => name.contains("opcua"),
                "fins" => name.contains("fins"),
                "slmp" => name.contains("cclinkiefb"),
                _ => false,
            };
            assert!(expected, "{name}: {counts:?}");
        }
    }
    assert_eq!(found.len(), 6, "{found:?}");
}
