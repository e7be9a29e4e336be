//! Fuzzes the SSDP dissector: see `fuzz/README.md` for the input format.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_flow::Direction;
use mamori_dissect::contract::{Parsed, PduParser};
use mamori_dissect::it::ssdp;

// Input: one datagram.
fuzz_target!(|data: &[u8]| {
    if let Parsed::Pdu { pdu, consumed } = ssdp::Parser.parse(Direction::Orig, data) {
        assert_eq!(consumed, data.len());
        let mut facts = Vec::new();
        ssdp::identity(Direction::Orig, &pdu, &mut facts);
        assert!(facts.len() <= 3);
        let _ = ssdp::SsdpRecord::new(0, &pdu);
    }
});
