//! Fuzzes the layer-2 and NetBIOS identity dissectors: LLDP, CDP and CIFS browser.
//!
//! Input: one byte choosing the parser (`% 4`: 0 LLDP on an EtherType 0x88CC payload,
//! 1 CDP on a PDU and on a whole Ethernet frame through `pdu_from_frame`, 2 the
//! browser on a UDP 138 payload, 3 all of them on the same bytes), then the bytes.
//! Each PDU that parses is also turned into its owned record and its identity facts,
//! and the walk's invariants are checked: the whole input is consumed (these are
//! datagram protocols), TLV counts stay within their caps, the iterators agree with
//! the counts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_dissect::contract::{Parsed, PduParser};
use mamori_dissect::it::{browser, cdp, lldp};
use mamori_flow::Direction;
use mamori_wire::decode::MacAddr;

const SRC: MacAddr = MacAddr([0x00, 0x1b, 0x1b, 0x01, 0x02, 0x03]);

fn lldp(bytes: &[u8]) {
    let mut facts = Vec::new();
    match lldp::Parser.parse(Direction::Orig, bytes) {
        Parsed::Pdu { pdu, consumed } => {
            assert!(consumed >= 1 && consumed <= bytes.len());
            assert!(usize::from(pdu.tlv_count) <= lldp::MAX_TLVS);
            assert!(pdu.tlvs.len() <= bytes.len());
            assert_eq!(usize::from(pdu.tlv_count), pdu.iter_tlvs().count());
            assert_eq!(usize::from(pdu.mgmt_count), pdu.management_addresses().count());
            assert_eq!(usize::from(pdu.org_tlvs), pdu.iter_tlvs().filter(|t| t.tlv_type == 127).count());
            lldp::identity(SRC, &pdu, &mut facts);
            let r = lldp::LldpRecord::new(0, SRC, &pdu);
            assert!(r.management_addresses.len() <= lldp::MAX_MGMT_ADDRS);
        }
        Parsed::Incomplete { .. } => panic!("LLDP is never incomplete"),
        Parsed::NotThisProtocol => {}
    }
}

fn cdp(bytes: &[u8]) {
    let mut facts = Vec::new();
    for input in [Some(bytes), cdp::pdu_from_frame(bytes)].into_iter().flatten() {
        match cdp::Parser.parse(Direction::Orig, input) {
            Parsed::Pdu { pdu, consumed } => {
                assert!(consumed >= 1 && consumed <= input.len());
                assert!(usize::from(pdu.tlv_count) <= cdp::MAX_TLVS);
                assert_eq!(usize::from(pdu.tlv_count), pdu.iter_tlvs().count());
                assert_eq!(pdu.bad_checksum, cdp::checksum(input) != 0);
                cdp::identity(SRC, &pdu, &mut facts);
                let r = cdp::CdpRecord::new(0, SRC, &pdu);
                assert!(r.addresses.len() <= cdp::MAX_ADDRESSES);
            }
            Parsed::Incomplete { .. } => panic!("CDP is never incomplete"),
            Parsed::NotThisProtocol => {}
        }
    }
}

fn browser(bytes: &[u8]) {
    let mut facts = Vec::new();
    match browser::Parser.parse(Direction::Resp, bytes) {
        Parsed::Pdu { pdu, consumed } => {
            assert!(consumed >= 1 && consumed <= bytes.len());
            browser::identity(Direction::Resp, &pdu, &mut facts);
            assert!(facts.len() <= 4);
            let r = browser::BrowserRecord::new(0, Direction::Resp, &pdu);
            assert!(r.server_type_names.len() <= 32);
            assert!(pdu.browse.backup_servers().count() <= browser::MAX_BACKUP_NAMES);
        }
        Parsed::Incomplete { .. } => panic!("browser is never incomplete"),
        Parsed::NotThisProtocol => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    match selector % 4 {
        0 => lldp(rest),
        1 => cdp(rest),
        2 => browser(rest),
        _ => {
            lldp(rest);
            cdp(rest);
            browser(rest);
        }
    }
});
