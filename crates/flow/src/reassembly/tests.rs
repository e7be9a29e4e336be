use proptest::prelude::*;

use super::*;

/// Runs segments through a reassembler and returns the delivered bytes, with each gap
/// written as that many `?` bytes, plus the stats.
fn run(
    segments: &[(u32, &[u8])],
    config: &ReassemblyConfig,
    finish: bool,
) -> (Vec<u8>, ReassemblyStats) {
    let mut r = StreamReassembler::new();
    let mut out = Vec::new();
    let mut sink = |c: Chunk<'_>| match c {
        Chunk::Data(d) => out.extend_from_slice(d),
        Chunk::Gap(n) => out.extend(std::iter::repeat_n(b'?', n as usize)),
    };
    for &(seq, data) in segments {
        r.segment(seq, false, data, config, &mut sink);
    }
    if finish {
        r.finish(&mut sink);
    }
    (out, r.stats())
}

#[test]
fn in_order_segments_are_delivered_as_they_come() {
    let (out, stats) = run(
        &[(100, b"abc"), (103, b"def")],
        &ReassemblyConfig::default(),
        false,
    );
    assert_eq!(out, b"abcdef");
    assert_eq!(stats.delivered, 6);
    assert_eq!(stats.out_of_order, 0);
}

#[test]
fn out_of_order_segment_waits_for_the_hole() {
    let mut r = StreamReassembler::new();
    let mut out = Vec::new();
    let cfg = ReassemblyConfig::default();
    let mut sink = |c: Chunk<'_>| {
        if let Chunk::Data(d) = c {
            out.extend_from_slice(d)
        }
    };
    r.segment(1000, true, b"", &cfg, &mut sink); // SYN: data starts at 1001
    r.segment(1004, false, b"def", &cfg, &mut sink);
    assert_eq!(r.held_bytes(), 3);
    r.segment(1001, false, b"abc", &cfg, &mut sink);
    assert_eq!(out, b"abcdef");
    assert_eq!(r.held_bytes(), 0);
}

#[test]
fn retransmission_of_delivered_bytes_is_dropped() {
    let (out, stats) = run(
        &[(0, b"abcd"), (0, b"abcd"), (2, b"XYef")],
        &ReassemblyConfig::default(),
        false,
    );
    assert_eq!(out, b"abcdef", "delivered bytes are never replaced");
    assert_eq!(stats.overlap_bytes, 6);
}

#[test]
fn held_bytes_win_over_later_overlapping_bytes() {
    // "EFG" is held first at offset 4; a later in-order segment claims offsets 0..6.
    // An empty segment at 0 anchors the stream start, as a SYN would.
    let (out, _) = run(
        &[(0, b""), (4, b"EFG"), (0, b"abcdXY")],
        &ReassemblyConfig::default(),
        false,
    );
    assert_eq!(out, b"abcdEFG");
    // Two held segments overlapping each other: the first one keeps its bytes.
    let (out, _) = run(
        &[(0, b""), (4, b"EF"), (3, b"dXYg"), (0, b"abc")],
        &ReassemblyConfig::default(),
        false,
    );
    assert_eq!(out, b"abcdEFg");
}

#[test]
fn buffer_bound_turns_a_hole_into_a_gap() {
    let cfg = ReassemblyConfig {
        max_buffered_bytes: 4,
        max_segments: 8,
    };
    let (out, stats) = run(
        &[(0, b"ab"), (4, b"ef"), (6, b"gh"), (8, b"ij")],
        &cfg,
        false,
    );
    assert_eq!(out, b"ab??efghij");
    assert_eq!((stats.gaps, stats.gap_bytes), (1, 2));
}

#[test]
fn acknowledgement_past_a_hole_reports_the_gap() {
    let mut r = StreamReassembler::new();
    let cfg = ReassemblyConfig::default();
    let mut chunks = Vec::new();
    let mut sink = |c: Chunk<'_>| {
        chunks.push(match c {
            Chunk::Data(d) => format!("data:{}", String::from_utf8_lossy(d)),
            Chunk::Gap(n) => format!("gap:{n}"),
        })
    };
    r.segment(10, false, b"abc", &cfg, &mut sink);
    r.segment(20, false, b"xyz", &cfg, &mut sink);
    r.acknowledged(23, &mut sink);
    r.acknowledged(30, &mut sink);
    assert_eq!(chunks, ["data:abc", "gap:7", "data:xyz", "gap:7"]);
}

#[test]
fn finish_delivers_what_is_held() {
    let (out, stats) = run(&[(0, b"a"), (5, b"f")], &ReassemblyConfig::default(), true);
    assert_eq!(out, b"a????f");
    assert_eq!(stats.gaps, 1);
}

#[test]
fn sequence_numbers_wrap() {
    let (out, _) = run(
        &[(u32::MAX - 1, b"ab"), (0, b"cd"), (2, b"ef")],
        &ReassemblyConfig::default(),
        false,
    );
    assert_eq!(out, b"abcdef");
}

proptest! {
    /// Without loss, any arrival order (with duplicates) yields exactly the stream.
    #[test]
    fn any_order_without_loss_reassembles_exactly(
        stream in proptest::collection::vec(any::<u8>(), 1..400),
        cuts in proptest::collection::vec(1usize..40, 1..40),
        order in proptest::collection::vec(any::<u32>(), 0..80),
        isn in any::<u32>(),
    ) {
        let mut segs: Vec<(u32, Vec<u8>)> = Vec::new();
        let mut at = 0;
        for c in cuts.iter().cycle() {
            if at >= stream.len() { break; }
            let end = (at + c).min(stream.len());
            segs.push((isn.wrapping_add(at as u32), stream[at..end].to_vec()));
            at = end;
        }
        // The first segment arrives first (it anchors the stream); the rest shuffled, some twice.
        let first = segs.remove(0);
        let mut arrival = vec![first];
        let mut rest = segs.clone();
        for (i, k) in order.iter().enumerate() {
            if rest.is_empty() { break; }
            let idx = *k as usize % rest.len();
            if i % 3 == 0 { arrival.push(rest[idx].clone()); } else { arrival.push(rest.remove(idx)); }
        }
        arrival.extend(rest);
        let big = ReassemblyConfig { max_buffered_bytes: 1 << 20, max_segments: 1 << 10 };
        let refs: Vec<(u32, &[u8])> = arrival.iter().map(|(s, d)| (*s, d.as_slice())).collect();
        let (out, stats) = run(&refs, &big, true);
        prop_assert_eq!(out, stream);
        prop_assert_eq!(stats.gaps, 0);
    }

    /// With tight bounds and loss, whatever is delivered sits at its true offset.
    #[test]
    fn bounded_and_lossy_never_misplaces_bytes(
        stream in proptest::collection::vec(1u8..255, 1..300),
        cuts in proptest::collection::vec(1usize..20, 1..30),
        keep in proptest::collection::vec(any::<bool>(), 1..30),
        limit in 1usize..64,
    ) {
        let mut segs = Vec::new();
        let mut at = 0;
        for c in cuts.iter().cycle() {
            if at >= stream.len() { break; }
            let end = (at + c).min(stream.len());
            segs.push((at as u32, &stream[at..end]));
            at = end;
        }
        let kept: Vec<(u32, &[u8])> = segs.iter().enumerate()
            .filter(|(i, _)| *i == 0 || keep[i % keep.len()]).map(|(_, s)| *s).rev().collect();
        let mut ordered = kept.clone();
        ordered.sort_by_key(|s| s.0);
        let first = ordered[0];
        let mut arrival = vec![first];
        arrival.extend(kept.into_iter().filter(|s| s.0 != first.0));
        let cfg = ReassemblyConfig { max_buffered_bytes: limit, max_segments: 4 };
        let (out, _) = run(&arrival, &cfg, true);
        prop_assert!(out.len() <= stream.len());
        for (i, b) in out.iter().enumerate() {
            prop_assert!(*b == b'?' || *b == stream[i], "byte {} misplaced", i);
        }
    }
}
