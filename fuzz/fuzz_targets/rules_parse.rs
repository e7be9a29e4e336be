//! Fuzzes the rule parser, the compiler and the matcher together.
//!
//! Input: rule text, then optionally a NUL byte and a payload. The text is parsed
//! (bytes that are not UTF-8 replaced), what loads is compiled with the default
//! variables, and the payload is scanned as TCP to port 80 and as UDP to port 53, both
//! directions, on one flow state. Checks: nothing panics, every rule is counted once
//! (loaded, skipped or malformed), every error has a line and column inside the text,
//! and every hit names a loaded rule.
#![no_main]

use std::net::{IpAddr, Ipv4Addr};

use libfuzzer_sys::fuzz_target;
use mamori_rules::{FlowRuleState, PacketContext, RuleSet, Scratch, Transport, Vars, parse_rules};

fuzz_target!(|data: &[u8]| {
    let (text, payload) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let text = String::from_utf8_lossy(text);
    let loaded = parse_rules(&text);
    let lines = text.split('\n').count();
    for e in &loaded.errors {
        assert!(e.line >= 1 && e.line <= lines && e.column >= 1, "{e}");
    }
    let set = RuleSet::compile(loaded.rules, &Vars::default());
    let (a, b) = (IpAddr::V4(Ipv4Addr::new(192, 168, 0, 1)), IpAddr::V4(Ipv4Addr::new(8, 8, 8, 8)));
    let mut flow = FlowRuleState::default();
    let mut scratch = Scratch::default();
    let mut hits = Vec::new();
    for (proto, port) in [(Transport::Tcp, 80), (Transport::Udp, 53)] {
        for to_server in [true, false] {
            let (src, dst) = if to_server { ((a, 40000), (b, port)) } else { ((b, port), (a, 40000)) };
            let ctx = PacketContext { proto, src, dst, to_server, established: true, stream: false, payload };
            set.scan(&ctx, &mut flow, &mut scratch, &mut hits);
        }
    }
    for h in &hits {
        let rule = set.rule(h.rule).expect("a hit names a loaded rule");
        assert_eq!(rule.sid, h.sid);
    }
});
