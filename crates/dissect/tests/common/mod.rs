//! Test harness: replays a capture file through decoding, the flow table and TCP
//! reassembly, handing each TCP flow's in-order chunks to a per-flow state of the
//! test's choosing. This is how the pipeline will drive dissectors; the tests use it
//! to compare dissector output with tshark on real captures.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::Command;

use mamori_flow::reassembly::{Chunk, ReassemblyConfig, StreamReassembler};
use mamori_flow::table::FlowSink;
use mamori_flow::{ConnRecord, Direction, FlowConfig, FlowTable};
use mamori_wire::capture::file::CaptureFile;
use mamori_wire::decode::{self, Network, Transport};

/// Per-flow state: two reassemblers and the test's own state.
#[derive(Default)]
pub struct PerFlow<S> {
    reassembly: [StreamReassembler; 2],
    /// The test's state for this flow.
    pub state: S,
    /// The flow's (originator, responder) ports.
    pub ports: (u16, u16),
}

struct EndSink<'a, S, E: FnMut((u16, u16), S)>(&'a mut E, std::marker::PhantomData<S>);

impl<S, E: FnMut((u16, u16), S)> FlowSink<PerFlow<S>> for EndSink<'_, S, E> {
    fn flow_ended(&mut self, _record: ConnRecord, ext: PerFlow<S>) {
        (self.0)(ext.ports, ext.state);
    }
}

/// The direction towards a server on `port` (as `Direction::Orig`), given a flow's
/// (originator, responder) ports and a chunk's direction; `None` when neither side
/// uses the port. Flows are oriented by who sent the first SYN or packet, which a
/// capture that starts mid-conversation (or a fuzzed one) can get backwards.
pub fn towards_server(port: u16, ports: (u16, u16), dir: Direction) -> Option<Direction> {
    if ports.1 == port {
        Some(dir)
    } else if ports.0 == port {
        Some(dir.reverse())
    } else {
        None
    }
}

/// Replays every TCP segment of `path`: `on_chunk(state, ports, dir, ts_nanos, chunk)`
/// gets each flow's in-order bytes and gaps (`ports` = originator's and responder's);
/// `on_end(ports, state)` gets each flow's state when the capture ends. Returns the
/// packets read.
pub fn replay_tcp<S: Default>(
    path: &Path,
    mut on_chunk: impl FnMut(&mut S, (u16, u16), Direction, i64, Chunk<'_>),
    mut on_end: impl FnMut((u16, u16), S),
) -> u64 {
    let mut file = CaptureFile::open(path).expect("capture opens");
    let mut table: FlowTable<PerFlow<S>> = FlowTable::new(FlowConfig::default());
    let config = ReassemblyConfig::default();
    let mut packets = 0;
    while let Some(pkt) = file.current() {
        packets += 1;
        if let Ok(frame) = decode::decode(pkt.link, pkt.data)
            && let Network::Ip(ip) = &frame.network
            && let Transport::Tcp(tcp) = &ip.transport
            && ip.fragment.is_none()
        {
            let (id, dir) = table.process(
                pkt.ts,
                &frame.l2,
                ip,
                &mut EndSink(&mut on_end, Default::default()),
            );
            if let Some(flow) = table.flow_mut(id) {
                let (orig, resp) = flow.endpoints();
                let ports = (orig.port, resp.port);
                let ext = &mut flow.ext;
                ext.ports = ports;
                let ts = pkt.ts.0;
                let PerFlow {
                    reassembly, state, ..
                } = ext;
                if tcp.flags.ack() {
                    reassembly[dir.reverse().index()].acknowledged(tcp.ack, &mut |c| {
                        on_chunk(state, ports, dir.reverse(), ts, c)
                    });
                }
                reassembly[dir.index()].segment(
                    tcp.seq,
                    tcp.flags.syn(),
                    tcp.payload,
                    &config,
                    &mut |c| on_chunk(state, ports, dir, ts, c),
                );
            }
        }
        if file.advance().is_err() {
            break;
        }
    }
    table.flush(&mut EndSink(&mut on_end, Default::default()));
    packets
}

/// Replays every unfragmented UDP datagram of `path`:
/// `on_datagram((src, src_port), (dst, dst_port), ts_nanos, payload)`. Returns the
/// packets read. UDP has no flow table here: the test keys its sessions as it needs.
pub fn replay_udp(
    path: &Path,
    mut on_datagram: impl FnMut((std::net::IpAddr, u16), (std::net::IpAddr, u16), i64, &[u8]),
) -> u64 {
    let mut file = CaptureFile::open(path).expect("capture opens");
    let mut packets = 0;
    while let Some(pkt) = file.current() {
        packets += 1;
        if let Ok(frame) = decode::decode(pkt.link, pkt.data)
            && let Network::Ip(ip) = &frame.network
            && let Transport::Udp(udp) = &ip.transport
            && ip.fragment.is_none()
        {
            on_datagram(
                (ip.src, udp.src_port),
                (ip.dst, udp.dst_port),
                pkt.ts.0,
                udp.payload,
            );
        }
        if file.advance().is_err() {
            break;
        }
    }
    packets
}

/// `../shared/pcaps` if present (else prints why the test skips).
pub fn shared_pcaps(test: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/pcaps");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped {test}: ../shared/pcaps is not present");
        None
    }
}

/// Whether tshark runs (prints why the test skips when not).
pub fn have_tshark(test: &str) -> bool {
    let ok = Command::new("tshark")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipped {test}: tshark is not installed (Debian package: tshark)");
    }
    ok
}

/// Runs tshark with a display filter and fields; returns one Vec of values per field
/// per frame (fields with several occurrences give several values).
pub fn tshark_fields(path: &Path, filter: &str, fields: &[&str]) -> Vec<Vec<Vec<String>>> {
    tshark_fields_with(path, &[], filter, fields)
}

/// [`tshark_fields`] with extra tshark arguments (preferences such as `-o name:value`).
pub fn tshark_fields_with(
    path: &Path,
    extra: &[&str],
    filter: &str,
    fields: &[&str],
) -> Vec<Vec<Vec<String>>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(path).args(extra).args([
        "-n",
        "-Y",
        filter,
        "-T",
        "fields",
        "-E",
        "separator=\t",
        "-E",
        "occurrence=a",
        "-E",
        // A separator no field value contains (descriptions hold commas).
        "aggregator=\u{1f}",
    ]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("tshark runs");
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            l.split('\t')
                .map(|v| {
                    v.split('\u{1f}')
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .collect()
        })
        .collect()
}
