//! Fuzzes `decode()` and the defragmenter.
//!
//! Input: one byte choosing the link type (an index into `LINKS`; any other value is
//! used as a raw, mostly unsupported, link type), then frames, each a big-endian u16
//! length and that many bytes (the last frame takes whatever is left). Every frame is
//! decoded; IP fragments go to one small `Defragmenter`, and whatever it reassembles
//! is decoded again as raw IP.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_wire::decode::defrag::{DefragConfig, Defragmenter};
use mamori_wire::decode::{Network, decode};
use mamori_wire::{LinkType, Timestamp};

const LINKS: [LinkType; 10] = [
    LinkType::ETHERNET,
    LinkType::RAW,
    LinkType::IPV4,
    LinkType::IPV6,
    LinkType::NULL,
    LinkType::LOOP,
    LinkType::LINUX_SLL,
    LinkType::LINUX_SLL2,
    LinkType::RAW_BSD12,
    LinkType::RAW_BSD14,
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, mut rest)) = data.split_first() else {
        return;
    };
    let link = LINKS
        .get(usize::from(selector))
        .copied()
        .unwrap_or(LinkType(u16::from(selector)));
    // Small limits so that eviction, timeouts and the piece cap are all reachable.
    let mut defrag = Defragmenter::new(DefragConfig {
        max_datagrams: 4,
        max_fragments: 16,
        timeout_nanos: 3_000_000_000,
    });
    let mut second = 0i64;
    while !rest.is_empty() {
        let frame = if rest.len() >= 2 {
            let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
            let body = &rest[2..];
            let len = len.min(body.len());
            rest = &body[len..];
            &body[..len]
        } else {
            std::mem::take(&mut rest)
        };
        second += 1;
        let Ok(decoded) = decode(link, frame) else {
            continue;
        };
        let Network::Ip(ip) = decoded.network else {
            continue;
        };
        // The header and payload are views of the frame, cut at the stated length.
        let seen = ip.header.len() + ip.payload.len();
        assert!(seen <= ip.total_len as usize);
        assert!(ip.truncated || seen == ip.total_len as usize);
        if let Some(datagram) = defrag.push(Timestamp::from_secs(second), &ip) {
            let _ = decode(LinkType::RAW, datagram);
        }
    }
    let stats = defrag.stats();
    assert!(
        stats.reassembled + stats.timed_out + stats.evicted + stats.oversized <= stats.fragments
    );
});
