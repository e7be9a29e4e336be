//! Live capture end to end: a veth pair inside a network namespace of the test's
//! own, frames written into one end with a plain packet socket, read back from the
//! other end through [`AfPacketSource`].
//!
//! Needs root (CAP_NET_ADMIN for the namespace, CAP_NET_RAW for the sockets) and
//! the `ip` tool; otherwise the test prints why and passes without checking
//! anything. All traffic stays inside the namespace the test creates: the sockets
//! are opened on a thread that has entered it (checked by inode before anything is
//! sent), and the namespace — with the veth pair in it — is deleted at the end,
//! also when the test fails.
//!
//! The namespace, veth and send-socket machinery is in `mamori-testkit`.
#![cfg(target_os = "linux")]

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mamori_testkit::{Netns, RawSender};
use mamori_wire::Timestamp;
use mamori_wire::build::{self, EthernetSpec, L4};
use mamori_wire::capture::afpacket::{AfPacketConfig, AfPacketSource, CaptureStats};
use mamori_wire::decode::MacAddr;

const SEND_IF: &str = "mmv-send";
const CAPTURE_IF: &str = "mmv-cap";

fn mac(last: u8) -> MacAddr {
    MacAddr([0x02, 0x00, 0x5e, 0x10, 0x00, last])
}

/// The frames to send: UDP and TCP over IPv4, UDP over IPv6, a large frame and two
/// 802.1Q-tagged ones. Only private (RFC 1918 / ULA) addresses.
fn test_frames() -> Vec<Vec<u8>> {
    let a = IpAddr::V4(Ipv4Addr::new(10, 99, 0, 1));
    let b = IpAddr::V4(Ipv4Addr::new(10, 99, 0, 2));
    let a6 = IpAddr::V6(Ipv6Addr::new(0xfd00, 0x99, 0, 0, 0, 0, 0, 1));
    let b6 = IpAddr::V6(Ipv6Addr::new(0xfd00, 0x99, 0, 0, 0, 0, 0, 2));
    let plain = EthernetSpec {
        src: mac(1),
        dst: mac(2),
        vlan: None,
    };
    let mut frames = Vec::new();
    let mut push = |eth: &EthernetSpec, src: IpAddr, dst: IpAddr, l4: L4<'_>| {
        let mut f = Vec::new();
        build::ip_frame(&mut f, eth, src, dst, 64, frames.len() as u16, &l4);
        frames.push(f);
    };
    for i in 0..20u16 {
        let payload = format!("mamori udp {i}");
        push(
            &plain,
            a,
            b,
            L4::Udp {
                src_port: 40000 + i,
                dst_port: 502,
                payload: payload.as_bytes(),
            },
        );
    }
    for i in 0..10u32 {
        push(
            &plain,
            b,
            a,
            L4::Tcp {
                src_port: 102,
                dst_port: 50000,
                seq: 1000 + i,
                ack: 7,
                flags: 0x18,
                window: 8192,
                options: &[],
                payload: b"\x03\x00\x00\x07\x02\xf0\x80",
            },
        );
    }
    push(
        &plain,
        a6,
        b6,
        L4::Udp {
            src_port: 47808,
            dst_port: 47808,
            payload: b"mamori v6",
        },
    );
    let big = vec![0x5a; 1400];
    push(
        &plain,
        a,
        b,
        L4::Udp {
            src_port: 2222,
            dst_port: 2222,
            payload: &big,
        },
    );
    for vid in [100u16, 4094] {
        let tagged = EthernetSpec {
            vlan: Some(vid),
            ..plain
        };
        push(
            &tagged,
            a,
            b,
            L4::Udp {
                src_port: 44818,
                dst_port: 2222,
                payload: b"mamori vlan",
            },
        );
    }
    frames
}

/// A frame that is not part of the test set, sent until the capture sees it, so
/// the test does not race the kernel finishing link setup.
fn probe_frame() -> Vec<u8> {
    let mut f = Vec::new();
    build::ethernet_header(
        &mut f,
        &EthernetSpec {
            src: mac(1),
            dst: mac(2),
            vlan: None,
        },
        0x88b5, // IEEE local experimental
    );
    f.extend_from_slice(b"mamori link probe");
    f.resize(60, 0);
    f
}

struct Captured {
    ts: Timestamp,
    data: Vec<u8>,
    orig_len: u32,
}

fn capture_until(
    source: &mut AfPacketSource,
    out: &mut Vec<Captured>,
    deadline: Instant,
    mut done: impl FnMut(&[Captured]) -> bool,
) {
    while !done(out) && Instant::now() < deadline {
        source
            .poll(Duration::from_millis(20), |p| {
                out.push(Captured {
                    ts: p.ts,
                    data: p.data.to_vec(),
                    orig_len: p.orig_len,
                })
            })
            .expect("poll");
    }
}

fn now() -> Timestamp {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    Timestamp::from_secs_nanos(d.as_secs() as i64, d.subsec_nanos())
}

struct Outcome {
    sent: usize,
    matched: usize,
    extra: usize,
    probes: usize,
    stats: CaptureStats,
    fanout_counts: Vec<usize>,
    flood_stats: CaptureStats,
}

/// Everything that runs inside the namespace (on a thread that has entered it).
fn inside() -> Outcome {
    let config = AfPacketConfig {
        block_size: 1 << 16,
        block_count: 8,
        block_timeout_ms: 10,
        ..AfPacketConfig::new(CAPTURE_IF)
    };
    let mut source = AfPacketSource::open(&config).expect("open AF_PACKET source");
    assert_eq!(source.link_type(), mamori_wire::LinkType::ETHERNET);
    let sender = RawSender::open(SEND_IF).expect("open send socket");

    // Wait until the link passes frames.
    let probe = probe_frame();
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && !seen.iter().any(|c: &Captured| c.data == probe) {
        sender.send(&probe).expect("send");
        capture_until(
            &mut source,
            &mut seen,
            Instant::now() + Duration::from_millis(50),
            |c| c.iter().any(|c| c.data == probe),
        );
    }
    assert!(
        seen.iter().any(|c| c.data == probe),
        "the link never passed a probe frame"
    );

    let frames = test_frames();
    let before = now();
    for f in &frames {
        sender.send(f).expect("send");
    }
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    capture_until(&mut source, &mut got, deadline, |c| {
        frames
            .iter()
            .all(|f| c.iter().any(|c| c.data.as_slice() == f.as_slice()))
    });
    let after = now();

    // Every frame exactly once, byte-identical (VLAN tags put back), in order,
    // with timestamps inside the sending window.
    let mut matched = 0;
    let mut last_index = None;
    let mut last_ts = Timestamp::MIN;
    for c in &got {
        let Some(index) = frames.iter().position(|f| *f == c.data) else {
            continue;
        };
        matched += 1;
        assert!(
            last_index.is_none_or(|l| index > l),
            "frame {index} out of order or duplicated"
        );
        last_index = Some(index);
        assert_eq!(c.orig_len as usize, c.data.len(), "frame {index} orig_len");
        assert!(
            c.ts >= before.plus_secs(-1) && c.ts <= after.plus_secs(1),
            "frame {index} timestamp {} outside [{before}, {after}]",
            c.ts
        );
        assert!(c.ts >= last_ts, "timestamps go backwards at frame {index}");
        last_ts = c.ts;
    }
    let missing: Vec<usize> = (0..frames.len())
        .filter(|&i| !got.iter().any(|c| c.data == frames[i]))
        .collect();
    assert!(missing.is_empty(), "frames never captured: {missing:?}");
    assert_eq!(matched, frames.len());

    let probes = seen.iter().filter(|c| c.data == probe).count()
        + got.iter().filter(|c| c.data == probe).count();
    let extra = seen.len() + got.len() - matched - probes;
    let stats = source.stats().expect("stats");
    assert!(
        stats.packets >= (frames.len() + probes) as u64,
        "kernel counted {} packets, expected at least {}",
        stats.packets,
        frames.len() + probes
    );
    assert_eq!(stats.drops, 0, "kernel drops on an idle veth");
    assert_eq!(stats.delivered, (seen.len() + got.len()) as u64);
    assert_eq!(stats.malformed_blocks, 0);
    drop(source);

    // Fanout: two sockets in one (kernel-chosen) group; both directions of every
    // flow must reach the same socket (PACKET_FANOUT_HASH is symmetric).
    let mut workers = AfPacketSource::open_fanout(&config, 2).expect("open fanout group");
    assert_eq!(workers.len(), 2);
    assert!(workers[0].fanout_group().is_some());
    assert_eq!(workers[0].fanout_group(), workers[1].fanout_group());
    let a = IpAddr::V4(Ipv4Addr::new(10, 99, 1, 1));
    let b = IpAddr::V4(Ipv4Addr::new(10, 99, 1, 2));
    let eth = EthernetSpec {
        src: mac(1),
        dst: mac(2),
        vlan: None,
    };
    let mut flow_frames = Vec::new();
    for flow in 0..16u16 {
        for (src, dst, sport, dport) in [(a, b, 30000 + flow, 502), (b, a, 502, 30000 + flow)] {
            let mut f = Vec::new();
            let l4 = L4::Udp {
                src_port: sport,
                dst_port: dport,
                payload: b"mamori fanout",
            };
            build::ip_frame(&mut f, &eth, src, dst, 64, flow, &l4);
            flow_frames.push((flow, f));
        }
    }
    for (_, f) in &flow_frames {
        sender.send(f).expect("send");
    }
    let mut per_worker: Vec<Vec<Captured>> = vec![Vec::new(), Vec::new()];
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let all_seen = flow_frames.iter().all(|(_, f)| {
            per_worker
                .iter()
                .any(|w| w.iter().any(|c| c.data.as_slice() == f.as_slice()))
        });
        if all_seen {
            break;
        }
        for (w, out) in workers.iter_mut().zip(per_worker.iter_mut()) {
            capture_until(w, out, Instant::now() + Duration::from_millis(20), |_| {
                false
            });
        }
    }
    let mut home: HashMap<u16, usize> = HashMap::new();
    for (flow, f) in &flow_frames {
        let owners: Vec<usize> = (0..2)
            .filter(|&w| per_worker[w].iter().any(|c| c.data == *f))
            .collect();
        assert_eq!(
            owners.len(),
            1,
            "flow {flow}: frame seen by workers {owners:?}"
        );
        let owner = *home.entry(*flow).or_insert(owners[0]);
        assert_eq!(
            owner, owners[0],
            "flow {flow}: directions split over workers"
        );
    }
    let fanout_counts = (0..2)
        .map(|w| home.values().filter(|&&o| o == w).count())
        .collect();

    drop(workers);

    // Kernel drops: a ring of two 64 KiB blocks that nobody reads while 1000 large
    // frames arrive must overflow, and the counters must add up once drained.
    let small = AfPacketConfig {
        block_count: 2,
        ..config.clone()
    };
    let mut slow = AfPacketSource::open(&small).expect("open small ring");
    let big = frames
        .iter()
        .max_by_key(|f| f.len())
        .expect("frames")
        .clone();
    for _ in 0..1000 {
        sender.send(&big).expect("send");
    }
    std::thread::sleep(Duration::from_millis(100));
    let mut flood_stats = CaptureStats::default();
    for _ in 0..10 {
        while slow.poll(Duration::from_millis(50), |_| {}).expect("poll") > 0 {}
        flood_stats = slow.stats().expect("stats");
        if slow.poll(Duration::ZERO, |_| {}).expect("poll") == 0 {
            flood_stats = slow.stats().expect("stats");
            break;
        }
    }
    assert!(flood_stats.drops > 0, "no drops counted: {flood_stats:?}");
    assert!(flood_stats.freeze_queue_count > 0, "{flood_stats:?}");
    assert_eq!(
        flood_stats.packets,
        flood_stats.delivered + flood_stats.drops,
        "kernel packets = delivered + dropped: {flood_stats:?}"
    );

    Outcome {
        flood_stats,
        sent: frames.len(),
        matched,
        extra,
        probes,
        stats,
        fanout_counts,
    }
}

#[test]
fn veth_capture_returns_every_frame_byte_identical() {
    // A namespace with a veth pair, both ends up and IPv6 off (so the kernel sends
    // no neighbour discovery of its own).
    let ns = match Netns::with_veth(SEND_IF, CAPTURE_IF) {
        Ok((ns, _veth)) => ns,
        Err(skip) => return skip.report(),
    };
    // A dedicated thread enters the namespace, so no other test thread moves.
    let result = ns.run(inside);
    drop(ns);
    match result {
        Ok(Ok(o)) => eprintln!(
            "veth capture: {} of {} frames matched byte for byte, {} probe(s), {} unrelated; \
             kernel: {} packets, {} drops, {} freezes; fanout flows per worker: {:?}; \
             flood into a 2-block ring: {} packets, {} delivered, {} dropped, {} freezes",
            o.matched,
            o.sent,
            o.probes,
            o.extra,
            o.stats.packets,
            o.stats.drops,
            o.stats.freeze_queue_count,
            o.fanout_counts,
            o.flood_stats.packets,
            o.flood_stats.delivered,
            o.flood_stats.drops,
            o.flood_stats.freeze_queue_count,
        ),
        Ok(Err(skip)) => skip.report(),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}
