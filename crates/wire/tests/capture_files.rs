//! The capture-file reader and the merge, on hand-written pcap and pcapng files.
//!
//! Every file here is spelled out field by field, so a failing test says exactly which
//! bytes the reader got wrong. Damaged files are the same files with one thing broken.
//! `write_fuzz_seeds` (ignored; run it by name) writes these files as the seed corpora
//! of the `capture_file` and `merge` fuzz targets.

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use mamori_wire::capture::file::{CaptureFile, FileError, Format, MAX_RECORD_LEN};
use mamori_wire::capture::merge::MergedCapture;
use mamori_wire::capture::writer::{CaptureWriter, WriteFormat};
use mamori_wire::decode::decode;
use mamori_wire::{LinkType, Timestamp};
use proptest::prelude::*;

// ---------------------------------------------------------------------------
// Reading helpers
// ---------------------------------------------------------------------------

/// One record, copied out of the reader's buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rec {
    ts: Timestamp,
    link: LinkType,
    data: Vec<u8>,
    orig_len: u32,
}

fn open_bytes(bytes: &[u8]) -> Result<CaptureFile, FileError> {
    CaptureFile::from_reader(
        PathBuf::from("test.pcap"),
        Box::new(Cursor::new(bytes.to_vec())),
        false,
    )
}

/// Reads every record, then the error that ended the file, if any.
fn read_all(mut file: CaptureFile) -> (Vec<Rec>, Option<FileError>) {
    let mut out = Vec::new();
    while let Some(p) = file.current() {
        out.push(Rec {
            ts: p.ts,
            link: p.link,
            data: p.data.to_vec(),
            orig_len: p.orig_len,
        });
        if let Err(e) = file.advance() {
            assert!(
                file.current().is_none(),
                "a failed advance finishes the file"
            );
            return (out, Some(e));
        }
    }
    (out, None)
}

fn read_bytes(bytes: &[u8]) -> (Vec<Rec>, Option<FileError>) {
    read_all(open_bytes(bytes).expect("the file opens"))
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn ts(secs: i64, nanos: u32) -> Timestamp {
    Timestamp::from_secs_nanos(secs, nanos)
}

/// 1_700_000_000 s: 2023-11-14T22:13:20Z.
const T0: i64 = 1_700_000_000;

// ---------------------------------------------------------------------------
// Legacy pcap
// ---------------------------------------------------------------------------

/// pcap file header, little-endian, microsecond timestamps, Ethernet.
const PCAP_LE_USEC: [u8; 24] = [
    0xd4, 0xc3, 0xb2, 0xa1, // magic 0xa1b2c3d4, little-endian: microseconds
    0x02, 0x00, 0x04, 0x00, // version 2.4
    0x00, 0x00, 0x00, 0x00, // thiszone 0
    0x00, 0x00, 0x00, 0x00, // sigfigs 0
    0x00, 0x00, 0x04, 0x00, // snaplen 262144
    0x01, 0x00, 0x00, 0x00, // link type 1 (Ethernet)
];

/// pcap file header, big-endian, microsecond timestamps, raw IP.
const PCAP_BE_USEC: [u8; 24] = [
    0xa1, 0xb2, 0xc3, 0xd4, // magic, big-endian: microseconds
    0x00, 0x02, 0x00, 0x04, // version 2.4
    0x00, 0x00, 0x00, 0x00, // thiszone
    0x00, 0x00, 0x00, 0x00, // sigfigs
    0x00, 0x00, 0xff, 0xff, // snaplen 65535
    0x00, 0x00, 0x00, 0x65, // link type 101 (raw IP)
];

/// pcap file header, little-endian, nanosecond timestamps, Linux cooked v1.
const PCAP_LE_NSEC: [u8; 24] = [
    0x4d, 0x3c, 0xb2, 0xa1, // magic 0xa1b23c4d, little-endian: nanoseconds
    0x02, 0x00, 0x04, 0x00, // version 2.4
    0x00, 0x00, 0x00, 0x00, // thiszone
    0x00, 0x00, 0x00, 0x00, // sigfigs
    0xff, 0xff, 0x00, 0x00, // snaplen 65535
    0x71, 0x00, 0x00, 0x00, // link type 113 (Linux SLL)
];

/// pcap file header, big-endian, nanosecond timestamps, Ethernet with FCS bits set.
const PCAP_BE_NSEC_FCS: [u8; 24] = [
    0xa1, 0xb2, 0x3c, 0x4d, // magic, big-endian: nanoseconds
    0x00, 0x02, 0x00, 0x04, // version 2.4
    0x00, 0x00, 0x00, 0x00, // thiszone
    0x00, 0x00, 0x00, 0x00, // sigfigs
    0x00, 0x04, 0x00, 0x00, // snaplen 262144
    0x24, 0x00, 0x00, 0x01, // FCS length 2 + F bit (upper bits), link type 1
];

/// Kuznetzov's modified pcap header, little-endian, Ethernet.
const PCAP_MODIFIED: [u8; 24] = [
    0x34, 0xcd, 0xb2, 0xa1, // magic 0xa1b2cd34, little-endian
    0x02, 0x00, 0x04, 0x00, // version 2.4
    0x00, 0x00, 0x00, 0x00, // thiszone
    0x00, 0x00, 0x00, 0x00, // sigfigs
    0xff, 0xff, 0x00, 0x00, // snaplen 65535
    0x01, 0x00, 0x00, 0x00, // link type 1
];

/// A pcap record header: seconds, fraction, captured length, original length.
fn pcap_record(be: bool, secs: u32, frac: u32, data: &[u8], orig_len: u32) -> Vec<u8> {
    let w = |v: u32| if be { v.to_be_bytes() } else { v.to_le_bytes() };
    cat(&[
        &w(secs),              // ts_sec
        &w(frac),              // ts_usec or ts_nsec
        &w(data.len() as u32), // incl_len
        &w(orig_len),          // orig_len
        data,
    ])
}

/// The frames the pcap files carry: small, distinct, and decodable.
fn eth_frame(tag: u8) -> Vec<u8> {
    cat(&[
        &[0x00, 0x11, 0x22, 0x33, 0x44, 0x55], // destination MAC
        &[0x66, 0x77, 0x88, 0x99, 0xaa, tag],  // source MAC (tagged)
        &[0x88, 0xcc],                         // EtherType LLDP
        &[0x02, 0x01, tag],                    // TLV bytes
    ])
}

/// A little-endian microsecond pcap with three Ethernet records.
fn pcap_le() -> Vec<u8> {
    cat(&[
        &PCAP_LE_USEC,
        &pcap_record(false, T0 as u32, 123_456, &eth_frame(1), 17),
        &pcap_record(false, T0 as u32 + 1, 0, &eth_frame(2), 1514), // cut by snaplen
        &pcap_record(false, T0 as u32 + 2, 999_999, &eth_frame(3), 17),
    ])
}

#[test]
fn pcap_little_endian_microseconds() {
    let file = open_bytes(&pcap_le()).unwrap();
    assert_eq!(
        file.format(),
        Format::Pcap {
            nanos: false,
            big_endian: false,
            modified: false
        }
    );
    assert!(!file.is_compressed());
    let (recs, err) = read_all(file);
    assert!(err.is_none());
    let expected = [
        (ts(T0, 123_456_000), eth_frame(1), 17),
        (ts(T0 + 1, 0), eth_frame(2), 1514),
        (ts(T0 + 2, 999_999_000), eth_frame(3), 17),
    ];
    assert_eq!(recs.len(), 3);
    for (r, (t, d, orig)) in recs.iter().zip(expected) {
        assert_eq!(
            (r.ts, r.link, &r.data, r.orig_len),
            (t, LinkType::ETHERNET, &d, orig)
        );
    }
}

#[test]
fn pcap_big_endian_microseconds() {
    let v4 = [
        0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ];
    let bytes = cat(&[
        &PCAP_BE_USEC,
        &pcap_record(true, T0 as u32, 500_000, &v4, 20),
    ]);
    let file = open_bytes(&bytes).unwrap();
    assert_eq!(
        file.format(),
        Format::Pcap {
            nanos: false,
            big_endian: true,
            modified: false
        }
    );
    let (recs, err) = read_all(file);
    assert!(err.is_none());
    assert_eq!(recs.len(), 1);
    assert_eq!(
        (recs[0].ts, recs[0].link),
        (ts(T0, 500_000_000), LinkType::RAW)
    );
    assert_eq!(recs[0].data, v4);
    assert!(decode(recs[0].link, &recs[0].data).is_ok());
}

#[test]
fn pcap_nanoseconds_in_both_byte_orders() {
    let sll = [
        0x00, 0x00, 0x00, 0x01, 0x00, 0x06, // to us, ARPHRD_ETHER, address length 6
        0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x00, 0x00, // address
        0x88, 0xcc, // protocol LLDP
    ];
    let le = cat(&[
        &PCAP_LE_NSEC,
        &pcap_record(false, T0 as u32, 123_456_789, &sll, 16),
    ]);
    let file = open_bytes(&le).unwrap();
    assert!(matches!(
        file.format(),
        Format::Pcap {
            nanos: true,
            big_endian: false,
            ..
        }
    ));
    let (recs, _) = read_all(file);
    assert_eq!(
        (recs[0].ts, recs[0].link),
        (ts(T0, 123_456_789), LinkType::LINUX_SLL)
    );

    let be = cat(&[
        &PCAP_BE_NSEC_FCS,
        &pcap_record(true, T0 as u32, 7, &eth_frame(9), 17),
    ]);
    let file = open_bytes(&be).unwrap();
    assert!(matches!(
        file.format(),
        Format::Pcap {
            nanos: true,
            big_endian: true,
            ..
        }
    ));
    let (recs, _) = read_all(file);
    // The FCS bits above the link type are not part of it.
    assert_eq!((recs[0].ts, recs[0].link), (ts(T0, 7), LinkType::ETHERNET));
}

/// A record of the modified pcap format: the usual 16 bytes plus 8 more.
fn modified_record(secs: u32, data: &[u8]) -> Vec<u8> {
    cat(&[
        &secs.to_le_bytes(),                // ts_sec
        &250u32.to_le_bytes(),              // ts_usec
        &(data.len() as u32).to_le_bytes(), // incl_len
        &(data.len() as u32).to_le_bytes(), // orig_len
        &3u32.to_le_bytes(),                // interface index
        &0x0800u16.to_le_bytes(),           // protocol
        &[0],                               // packet type
        &[0],                               // padding
        data,
    ])
}

#[test]
fn modified_pcap_has_longer_record_headers() {
    let record = modified_record;
    let bytes = cat(&[
        &PCAP_MODIFIED,
        &record(T0 as u32, &eth_frame(1)),
        &record(T0 as u32 + 5, &eth_frame(2)),
    ]);
    let file = open_bytes(&bytes).unwrap();
    assert!(matches!(file.format(), Format::Pcap { modified: true, .. }));
    let (recs, err) = read_all(file);
    assert!(err.is_none());
    assert_eq!(recs.len(), 2);
    assert_eq!(
        (recs[0].ts, &recs[0].data),
        (ts(T0, 250_000), &eth_frame(1))
    );
    assert_eq!(
        (recs[1].ts, &recs[1].data),
        (ts(T0 + 5, 250_000), &eth_frame(2))
    );
}

#[test]
fn zero_length_records_are_packets_with_no_bytes() {
    let bytes = cat(&[
        &PCAP_LE_USEC,
        &pcap_record(false, T0 as u32, 0, &[], 0),
        &pcap_record(false, T0 as u32, 1, &[], 60), // everything cut off
        &pcap_record(false, T0 as u32, 2, &eth_frame(1), 17),
    ]);
    let (recs, err) = read_bytes(&bytes);
    assert!(err.is_none());
    assert_eq!(recs.len(), 3);
    assert!(recs[0].data.is_empty() && recs[1].data.is_empty());
    assert_eq!(recs[1].orig_len, 60);
    // Decoding an empty frame is an error, not a panic.
    assert!(decode(recs[0].link, &recs[0].data).is_err());
    assert_eq!(recs[2].data, eth_frame(1));
}

#[test]
fn empty_pcap_has_no_packets() {
    let file = open_bytes(&PCAP_LE_USEC).unwrap();
    assert!(file.current().is_none());
    assert_eq!(file.position(), 24);
}

// ---------------------------------------------------------------------------
// Damaged legacy pcap
// ---------------------------------------------------------------------------

#[test]
fn truncated_file_header() {
    let err = open_bytes(&PCAP_LE_USEC[..14]).unwrap_err();
    assert!(
        matches!(
            err,
            FileError::Truncated {
                offset: 0,
                what: "pcap file header",
                needed: 24,
                available: 14,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn not_a_capture() {
    let err = open_bytes(b"GET / HTTP/1.1\r\n").unwrap_err();
    let FileError::NotACapture { magic, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(magic, b"GET / HT");
    assert!(err.to_string().contains("not a pcap or pcapng file"));
    let err = open_bytes(&[]).unwrap_err();
    assert!(matches!(err, FileError::NotACapture { ref magic, .. } if magic.is_empty()));
}

#[test]
fn truncated_record_keeps_the_records_before_it() {
    let good = pcap_le();
    let third = 24 + (16 + 17) * 2; // where the third record starts
    for cut in [third + 8, third + 16, third + 20, good.len() - 1] {
        let (recs, err) = read_bytes(&good[..cut]);
        assert_eq!(recs.len(), 2, "cut at {cut}");
        let Some(FileError::Truncated {
            offset,
            what,
            available,
            ..
        }) = err
        else {
            panic!("cut at {cut}: {err:?}");
        };
        assert_eq!(offset, third as u64, "cut at {cut}");
        assert_eq!(available, cut - third);
        let expected = if cut - third < 16 {
            "pcap record header"
        } else {
            "pcap record"
        };
        assert_eq!(what, expected);
    }
}

#[test]
fn truncated_first_record_fails_at_open() {
    let cut = &pcap_le()[..24 + 20];
    assert!(matches!(
        open_bytes(cut),
        Err(FileError::Truncated { offset: 24, .. })
    ));
}

#[test]
fn lying_record_length_is_malformed() {
    let mut bytes = pcap_le();
    let second = 24 + 16 + 17;
    let lie = (MAX_RECORD_LEN as u32 + 1).to_le_bytes();
    bytes[second + 8..second + 12].copy_from_slice(&lie);
    let (recs, err) = read_bytes(&bytes);
    assert_eq!(recs.len(), 1);
    let Some(FileError::Malformed { offset, reason, .. }) = err else {
        panic!("{err:?}");
    };
    assert_eq!(offset, (second + 8) as u64); // the incl_len field
    assert!(reason.contains("exceeds"), "{reason}");
}

#[test]
fn unsupported_legacy_link_type_fails_at_open() {
    let mut header = PCAP_LE_USEC;
    header[20] = 105; // IEEE 802.11
    let err = open_bytes(&cat(&[&header, &pcap_record(false, 0, 0, &[0; 24], 24)])).unwrap_err();
    assert!(
        matches!(
            err,
            FileError::UnsupportedLinkType {
                link: LinkType(105),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("105 (IEEE802_11)"), "{err}");
}

// ---------------------------------------------------------------------------
// pcapng
// ---------------------------------------------------------------------------

/// Section header block, little-endian, no options.
const SHB_LE: [u8; 28] = [
    0x0a, 0x0d, 0x0d, 0x0a, // block type: section header
    0x1c, 0x00, 0x00, 0x00, // block total length 28
    0x4d, 0x3c, 0x2b, 0x1a, // byte-order magic 0x1a2b3c4d, little-endian
    0x01, 0x00, 0x00, 0x00, // version 1.0
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // section length: unknown
    0x1c, 0x00, 0x00, 0x00, // block total length 28
];

/// Section header block, big-endian, no options.
const SHB_BE: [u8; 28] = [
    0x0a, 0x0d, 0x0d, 0x0a, // block type: section header
    0x00, 0x00, 0x00, 0x1c, // block total length 28
    0x1a, 0x2b, 0x3c, 0x4d, // byte-order magic, big-endian
    0x00, 0x01, 0x00, 0x00, // version 1.0
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // section length: unknown
    0x00, 0x00, 0x00, 0x1c, // block total length 28
];

/// Interface 0 of the little-endian section: Ethernet, if_tsresol 10^-9.
const IDB_ETH_NSEC: [u8; 32] = [
    0x01, 0x00, 0x00, 0x00, // block type: interface description
    0x20, 0x00, 0x00, 0x00, // block total length 32
    0x01, 0x00, // link type 1 (Ethernet)
    0x00, 0x00, // reserved
    0xff, 0xff, 0x00, 0x00, // snaplen 65535
    0x09, 0x00, 0x01, 0x00, // option if_tsresol (9), length 1
    0x09, 0x00, 0x00, 0x00, // 10^-9, padded to 4 bytes
    0x00, 0x00, 0x00, 0x00, // opt_endofopt
    0x20, 0x00, 0x00, 0x00, // block total length 32
];

/// Interface 1 of the little-endian section: raw IP, if_tsresol 2^-20, if_tsoffset 100 s.
const IDB_RAW_BIN20: [u8; 44] = [
    0x01, 0x00, 0x00, 0x00, // block type: interface description
    0x2c, 0x00, 0x00, 0x00, // block total length 44
    0x65, 0x00, // link type 101 (raw IP)
    0x00, 0x00, // reserved
    0x00, 0x00, 0x00, 0x00, // snaplen 0 (unlimited)
    0x09, 0x00, 0x01, 0x00, // option if_tsresol (9), length 1
    0x94, 0x00, 0x00, 0x00, // 0x80 | 20: 2^-20 s, padded
    0x0e, 0x00, 0x08, 0x00, // option if_tsoffset (14), length 8
    0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 100 seconds
    0x00, 0x00, 0x00, 0x00, // opt_endofopt
    0x2c, 0x00, 0x00, 0x00, // block total length 44
];

/// Interface 2 of the little-endian section: IEEE 802.11, which mamori does not decode.
const IDB_WIFI: [u8; 20] = [
    0x01, 0x00, 0x00, 0x00, // block type: interface description
    0x14, 0x00, 0x00, 0x00, // block total length 20
    0x69, 0x00, // link type 105 (IEEE 802.11)
    0x00, 0x00, // reserved
    0x00, 0x00, 0x04, 0x00, // snaplen 262144
    0x14, 0x00, 0x00, 0x00, // block total length 20 (no options)
];

/// Interface 0 of the big-endian section: Ethernet, default resolution (10^-6).
const IDB_ETH_BE: [u8; 20] = [
    0x00, 0x00, 0x00, 0x01, // block type: interface description
    0x00, 0x00, 0x00, 0x14, // block total length 20
    0x00, 0x01, // link type 1
    0x00, 0x00, // reserved
    0x00, 0x00, 0xff, 0xff, // snaplen 65535
    0x00, 0x00, 0x00, 0x14, // block total length 20
];

/// Name resolution block: one IPv4 record (10.0.0.1 = "plc"), then the end record.
const NRB: [u8; 32] = [
    0x04, 0x00, 0x00, 0x00, // block type: name resolution
    0x20, 0x00, 0x00, 0x00, // block total length 32
    0x01, 0x00, 0x08, 0x00, // record nrb_record_ipv4, length 8
    0x0a, 0x00, 0x00, 0x01, // 10.0.0.1
    b'p', b'l', b'c', 0x00, // "plc\0"
    0x00, 0x00, 0x00, 0x00, // nrb_record_end
    0x00, 0x00, 0x00, 0x00, // (no options)
    0x20, 0x00, 0x00, 0x00, // block total length 32
];

/// A block type nobody has defined: readers must skip it.
const UNKNOWN_BLOCK: [u8; 16] = [
    0x78, 0x56, 0x34, 0x12, // block type 0x12345678
    0x10, 0x00, 0x00, 0x00, // block total length 16
    0xde, 0xad, 0xbe, 0xef, // body
    0x10, 0x00, 0x00, 0x00, // block total length 16
];

fn u32_in(be: bool, v: u32) -> [u8; 4] {
    if be { v.to_be_bytes() } else { v.to_le_bytes() }
}

/// Enhanced packet block: interface, 64-bit timestamp in the interface's units, data.
fn epb(be: bool, iface: u32, units: u64, data: &[u8], orig_len: u32) -> Vec<u8> {
    let padded = data.len().div_ceil(4) * 4;
    let total = (32 + padded) as u32;
    cat(&[
        &u32_in(be, 6),                    // block type: enhanced packet
        &u32_in(be, total),                // block total length
        &u32_in(be, iface),                // interface id
        &u32_in(be, (units >> 32) as u32), // timestamp, upper 32 bits
        &u32_in(be, units as u32),         // timestamp, lower 32 bits
        &u32_in(be, data.len() as u32),    // captured length
        &u32_in(be, orig_len),             // original length
        data,
        &vec![0; padded - data.len()], // padding to 32 bits
        &u32_in(be, total),            // block total length
    ])
}

/// Simple packet block (interface 0, no timestamp), little-endian.
fn spb(data: &[u8]) -> Vec<u8> {
    let padded = data.len().div_ceil(4) * 4;
    let total = (16 + padded) as u32;
    cat(&[
        &3u32.to_le_bytes(),                // block type: simple packet
        &total.to_le_bytes(),               // block total length
        &(data.len() as u32).to_le_bytes(), // original length
        data,
        &vec![0; padded - data.len()],
        &total.to_le_bytes(),
    ])
}

/// A 20-byte IPv4 header, for the raw-IP interface.
const RAW_V4: [u8; 20] = [
    0x45, 0x00, 0x00, 0x14, // version 4, IHL 5, total length 20
    0x00, 0x01, 0x00, 0x00, // identification 1, no fragmentation
    0x40, 0x3b, 0x00, 0x00, // TTL 64, protocol 59 (no next header), checksum
    0x0a, 0x00, 0x00, 0x01, // source 10.0.0.1
    0x0a, 0x00, 0x00, 0x02, // destination 10.0.0.2
];

/// Two sections. The first (little-endian) describes an Ethernet interface in
/// nanoseconds, a raw-IP interface in 2^-20 s with a 100 s offset and an 802.11
/// interface; it holds packets on each, a simple packet block, a name resolution block
/// and an unknown block. The second (big-endian) starts over with one Ethernet interface.
fn pcapng_two_sections() -> Vec<u8> {
    let half_second = 1u64 << 19; // 0.5 s in 2^-20 units
    cat(&[
        &SHB_LE,
        &IDB_ETH_NSEC,
        &IDB_RAW_BIN20,
        &IDB_WIFI,
        &epb(false, 0, T0 as u64 * 1_000_000_000 + 42, &eth_frame(1), 17),
        &NRB,
        &epb(false, 1, ((T0 as u64) << 20) + half_second, &RAW_V4, 20),
        &epb(false, 2, 0, &[0x08, 0x02, 0x00, 0x00], 4), // 802.11: skipped
        &UNKNOWN_BLOCK,
        &spb(&eth_frame(2)),
        &SHB_BE,
        &IDB_ETH_BE,
        &epb(true, 0, (T0 as u64 + 10) * 1_000_000 + 7, &eth_frame(3), 17),
    ])
}

#[test]
fn pcapng_interfaces_resolutions_offsets_and_sections() {
    let file = open_bytes(&pcapng_two_sections()).unwrap();
    assert_eq!(file.format(), Format::PcapNg);
    let mut file = file;
    let mut recs = Vec::new();
    while let Some(p) = file.current() {
        recs.push(Rec {
            ts: p.ts,
            link: p.link,
            data: p.data.to_vec(),
            orig_len: p.orig_len,
        });
        file.advance().unwrap();
    }
    assert_eq!(file.unsupported_link_packets(), 1);
    assert_eq!(file.records(), 4);
    assert_eq!(file.position(), pcapng_two_sections().len() as u64);
    let expected = [
        // Interface 0, nanoseconds.
        (ts(T0, 42), LinkType::ETHERNET, eth_frame(1), 17),
        // Interface 1: T0 + 0.5 s in 2^-20 units, plus the 100 s offset.
        (
            ts(T0 + 100, 500_000_000),
            LinkType::RAW,
            RAW_V4.to_vec(),
            20,
        ),
        // Simple packet block: interface 0, the last timestamp seen.
        (
            ts(T0 + 100, 500_000_000),
            LinkType::ETHERNET,
            eth_frame(2),
            17,
        ),
        // Second section, big-endian, microseconds.
        (ts(T0 + 10, 7_000), LinkType::ETHERNET, eth_frame(3), 17),
    ];
    assert_eq!(recs.len(), expected.len());
    for (r, (t, link, data, orig)) in recs.iter().zip(expected) {
        assert_eq!((r.ts, r.link, &r.data, r.orig_len), (t, link, &data, orig));
        assert!(decode(r.link, &r.data).is_ok());
    }
}

#[test]
fn pcapng_second_section_forgets_the_first_sections_interfaces() {
    // Interface 1 exists in the first section only.
    let bytes = cat(&[
        &SHB_LE,
        &IDB_ETH_NSEC,
        &IDB_RAW_BIN20,
        &SHB_LE,
        &IDB_ETH_NSEC,
        &epb(false, 1, 0, &RAW_V4, 20),
    ]);
    let err = open_bytes(&bytes).unwrap_err();
    assert!(
        matches!(&err, FileError::Malformed { reason, .. } if reason.contains("interface 1")),
        "{err:?}"
    );
}

#[test]
fn pcapng_packet_on_an_undescribed_interface_is_malformed() {
    let first = epb(false, 0, 1, &eth_frame(1), 17);
    let bytes = cat(&[
        &SHB_LE,
        &IDB_ETH_NSEC,
        &first,
        &epb(false, 3, 2, &eth_frame(2), 17),
    ]);
    let (recs, err) = read_bytes(&bytes);
    assert_eq!(recs.len(), 1);
    let Some(FileError::Malformed { offset, reason, .. }) = err else {
        panic!("{err:?}");
    };
    let second = 28 + 32 + first.len(); // after SHB, IDB and the first packet
    assert_eq!(offset, second as u64 + 8); // the interface id field
    assert!(reason.contains("interface 3"), "{reason}");
}

#[test]
fn pcapng_unsupported_interface_packets_are_skipped_and_counted() {
    let bytes = cat(&[
        &SHB_LE,
        &IDB_WIFI,
        &IDB_ETH_NSEC,
        &epb(false, 0, 0, &[0; 24], 24),
        &epb(false, 0, 0, &[0; 24], 24),
        &epb(false, 1, 5, &eth_frame(1), 17),
        &epb(false, 0, 0, &[0; 24], 24),
    ]);
    let mut file = open_bytes(&bytes).unwrap();
    assert_eq!(file.current().unwrap().ts, Timestamp(5));
    assert_eq!(file.unsupported_link_packets(), 2);
    file.advance().unwrap();
    assert!(file.current().is_none());
    assert_eq!(file.unsupported_link_packets(), 3);
}

#[test]
fn pcapng_block_trailer_mismatch_is_malformed() {
    let mut block = epb(false, 0, 1, &eth_frame(2), 17);
    let n = block.len();
    block[n - 4] ^= 0x04; // trailing copy of the length now disagrees
    let first = epb(false, 0, 1, &eth_frame(1), 17);
    let bytes = cat(&[&SHB_LE, &IDB_ETH_NSEC, &first, &block]);
    let (recs, err) = read_bytes(&bytes);
    assert_eq!(recs.len(), 1);
    let Some(FileError::Malformed { offset, reason, .. }) = err else {
        panic!("{err:?}");
    };
    assert_eq!(offset, (28 + 32 + first.len() + n - 4) as u64);
    assert!(reason.contains("trailing copy"), "{reason}");
}

/// Regression: the section header block's trailing length was never checked, so a
/// damaged section header went unnoticed while every other block's was caught.
#[test]
fn pcapng_section_header_trailer_mismatch_is_malformed() {
    let mut second = SHB_BE;
    second[27] = 0x20; // trailing length 32, leading 28
    let first = epb(false, 0, 1, &eth_frame(1), 17);
    let bytes = cat(&[&SHB_LE, &IDB_ETH_NSEC, &first, &second, &IDB_ETH_BE]);
    let (recs, err) = read_bytes(&bytes);
    assert_eq!(recs.len(), 1);
    let Some(FileError::Malformed { offset, reason, .. }) = err else {
        panic!("{err:?}");
    };
    assert_eq!(offset, (28 + 32 + first.len() + 24) as u64);
    assert!(reason.contains("trailing copy"), "{reason}");
}

#[test]
fn pcapng_bad_block_lengths_are_malformed() {
    for lie in [8u32, 13, MAX_RECORD_LEN as u32 + 4] {
        let mut block = epb(false, 0, 1, &eth_frame(1), 17);
        block[4..8].copy_from_slice(&lie.to_le_bytes());
        let bytes = cat(&[&SHB_LE, &IDB_ETH_NSEC, &block]);
        let err = open_bytes(&bytes).unwrap_err();
        assert!(
            matches!(err, FileError::Malformed { offset: 64, .. }),
            "length {lie}: {err:?}"
        );
    }
}

#[test]
fn pcapng_captured_length_overrunning_its_block_is_malformed() {
    let mut block = epb(false, 0, 1, &eth_frame(1), 17);
    block[20..24].copy_from_slice(&100u32.to_le_bytes()); // captured length 100 > 20
    let err = open_bytes(&cat(&[&SHB_LE, &IDB_ETH_NSEC, &block])).unwrap_err();
    assert!(
        matches!(&err, FileError::Malformed { reason, .. } if reason.contains("overruns")),
        "{err:?}"
    );
}

#[test]
fn pcapng_bad_byte_order_magic_is_malformed() {
    let mut shb = SHB_LE;
    shb[8..12].copy_from_slice(&[1, 2, 3, 4]);
    let err = open_bytes(&cat(&[&shb, &IDB_ETH_NSEC])).unwrap_err();
    assert!(
        matches!(err, FileError::Malformed { offset: 8, .. }),
        "{err:?}"
    );
}

#[test]
fn pcapng_truncated_block_keeps_the_packets_before_it() {
    let whole = pcapng_two_sections();
    let last_epb = whole.len() - epb(true, 0, 0, &eth_frame(3), 17).len();
    let (recs, err) = read_bytes(&whole[..whole.len() - 2]);
    assert_eq!(recs.len(), 3);
    assert!(
        matches!(err, Some(FileError::Truncated { offset, what: "pcapng block", .. }) if offset == last_epb as u64),
        "{err:?}"
    );
    let (recs, err) = read_bytes(&whole[..last_epb + 5]);
    assert_eq!(recs.len(), 3);
    assert!(
        matches!(
            err,
            Some(FileError::Truncated {
                what: "pcapng block header",
                ..
            })
        ),
        "{err:?}"
    );
}

#[test]
fn pcapng_zero_length_packets() {
    let bytes = cat(&[&SHB_LE, &IDB_ETH_NSEC, &epb(false, 0, 9, &[], 0), &spb(&[])]);
    let (recs, err) = read_bytes(&bytes);
    assert!(err.is_none());
    assert_eq!(recs.len(), 2);
    assert!(
        recs.iter()
            .all(|r| r.data.is_empty() && r.ts == Timestamp(9))
    );
}

// ---------------------------------------------------------------------------
// Files on disk, gzip
// ---------------------------------------------------------------------------

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn gzip_compressed_files_read_like_plain_ones() {
    let dir = tempfile::tempdir().unwrap();
    for (name, plain) in [("a.pcap", pcap_le()), ("b.pcapng", pcapng_two_sections())] {
        let expected = read_bytes(&plain).0;
        let path = write_file(dir.path(), name, &plain);
        let file = CaptureFile::open(&path).unwrap();
        assert!(!file.is_compressed());
        assert_eq!(read_all(file).0, expected);

        let path = write_file(dir.path(), &format!("{name}.gz"), &gzip(&plain));
        let file = CaptureFile::open(&path).unwrap();
        assert!(file.is_compressed());
        assert_eq!(file.path(), path);
        let (recs, err) = read_all(file);
        assert!(err.is_none());
        assert_eq!(recs, expected);
    }
}

#[test]
fn gzip_with_several_members_reads_them_all() {
    // `cat a.gz b.gz > c.gz`: the second member continues the stream.
    let plain = pcap_le();
    let (head, tail) = plain.split_at(50);
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(
        dir.path(),
        "multi.pcap.gz",
        &cat(&[&gzip(head), &gzip(tail)]),
    );
    let (recs, err) = read_all(CaptureFile::open(path).unwrap());
    assert!(err.is_none());
    assert_eq!(recs, read_bytes(&plain).0);
}

/// Regression: a cut `.pcap.gz` (copied while still being written) was reported as an
/// I/O error ("unexpected end of file") instead of a truncated capture.
#[test]
fn truncated_gzip_keeps_the_records_before_the_damage() {
    let plain = pcap_le();
    let z = gzip(&plain);
    let dir = tempfile::tempdir().unwrap();
    let all = read_bytes(&plain).0;
    // Records end at 57, 90 and 123. Cutting the gzip trailer loses no record; cutting
    // into the deflate data loses the records whose bytes were not yet flushed.
    for cut in [1, 8, 9, 12, 20] {
        let path = write_file(dir.path(), "cut.pcap.gz", &z[..z.len() - cut]);
        let (recs, err) = read_all(CaptureFile::open(&path).unwrap());
        assert_eq!(recs, all[..recs.len()], "cut {cut}");
        let boundary = 24 + 33 * recs.len() as u64;
        assert!(
            matches!(
                &err,
                Some(FileError::Truncated { offset, what: "compressed stream", .. }) if *offset == boundary
            ),
            "cut {cut}: {err:?}"
        );
        assert!(
            err.unwrap()
                .to_string()
                .contains("cut.pcap.gz: truncated at byte")
        );
    }
}

#[test]
fn corrupt_gzip_is_reported() {
    let mut z = gzip(&pcap_le());
    z[12] ^= 0xff; // inside the deflate stream
    z[13] ^= 0xff;
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "bad.pcap.gz", &z);
    let err = match CaptureFile::open(&path) {
        Err(e) => e,
        Ok(file) => read_all(file).1.expect("damage reported"),
    };
    assert!(
        matches!(&err, FileError::Malformed { reason, .. } if reason.contains("compressed stream is corrupt")),
        "{err:?}"
    );
}

#[test]
fn missing_file_is_an_io_error_naming_the_path() {
    let err = CaptureFile::open("/nonexistent/mamori/test.pcap").unwrap_err();
    let FileError::Io { path, source } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(path, Path::new("/nonexistent/mamori/test.pcap"));
    assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
    assert!(
        err.to_string()
            .starts_with("/nonexistent/mamori/test.pcap: ")
    );
}

// ---------------------------------------------------------------------------
// Merge
// ---------------------------------------------------------------------------

/// A file from the writer whose packets are `eth_frame(tag)` at the given times.
fn written(format: WriteFormat, packets: &[(Timestamp, u8)]) -> Vec<u8> {
    let mut w = CaptureWriter::new(Vec::new(), format, LinkType::ETHERNET).unwrap();
    for &(t, tag) in packets {
        w.write_packet(t, &eth_frame(tag)).unwrap();
    }
    w.finish().unwrap()
}

fn merged_tags(merged: &mut MergedCapture) -> Vec<(Timestamp, u8)> {
    let mut out = Vec::new();
    while let Some(p) = merged.next_packet() {
        out.push((p.ts, p.data[11]));
    }
    out
}

#[test]
fn merge_interleaves_by_timestamp_and_ties_go_to_the_first_file() {
    let a = written(
        WriteFormat::Pcap,
        &[(ts(T0, 0), 1), (ts(T0, 2_000), 2), (ts(T0, 4_000), 3)],
    );
    let b = written(
        WriteFormat::PcapNg,
        &[
            (ts(T0, 1_000), 11),
            (ts(T0, 2_000), 12),
            (ts(T0, 9_000), 13),
        ],
    );
    let files = vec![open_bytes(&a).unwrap(), open_bytes(&b).unwrap()];
    let mut merged = MergedCapture::from_files(files);
    let order: Vec<u8> = merged_tags(&mut merged)
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    assert_eq!(order, [1, 11, 2, 12, 3, 13]);
    // The same files the other way round: now the tie goes to b.
    let files = vec![open_bytes(&b).unwrap(), open_bytes(&a).unwrap()];
    let mut merged = MergedCapture::from_files(files);
    let order: Vec<u8> = merged_tags(&mut merged)
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    assert_eq!(order, [1, 11, 12, 2, 3, 13]);
    let progress = merged.progress();
    assert!(
        progress
            .iter()
            .all(|p| p.finished && p.error.is_none() && p.packets == 3)
    );
    assert_eq!(merged.bytes_read(), (a.len() + b.len()) as u64);
}

#[test]
fn merge_goes_on_when_one_file_is_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let a = written(
        WriteFormat::PcapNanos,
        &[(ts(T0, 1), 1), (ts(T0, 3), 2), (ts(T0, 5), 3)],
    );
    let cut = &a[..a.len() - 5]; // the third record is cut short
    let b = written(
        WriteFormat::Pcap,
        &[(ts(T0, 0), 11), (ts(T1, 0), 12), (ts(T1 + 1, 0), 13)],
    );
    let paths = [
        write_file(dir.path(), "a.pcap", cut),
        write_file(dir.path(), "missing.pcap", b"not a capture at all"),
        write_file(dir.path(), "b.pcap", &b),
    ];
    let mut merged = MergedCapture::open(&paths).unwrap();
    let order: Vec<u8> = merged_tags(&mut merged)
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    assert_eq!(order, [11, 1, 2, 12, 13]);
    let progress = merged.progress();
    assert_eq!(progress.len(), 3);
    assert_eq!(progress[0].path, paths[0]);
    assert_eq!(progress[0].packets, 2);
    assert!(progress[0].error.as_deref().unwrap().contains("truncated"));
    assert_eq!(progress[1].path, paths[2]);
    assert_eq!(
        (progress[1].packets, progress[1].error.is_none()),
        (3, true)
    );
    assert_eq!(progress[2].path, paths[1]); // failed to open: listed last
    assert!(progress[2].error.as_deref().unwrap().contains("not a pcap"));
    assert!(progress.iter().all(|p| p.finished));
}

const T1: i64 = T0 + 60;

#[test]
fn merge_of_files_that_all_fail_is_the_first_error() {
    let dir = tempfile::tempdir().unwrap();
    let paths = [dir.path().join("none1.pcap"), dir.path().join("none2.pcap")];
    let err = MergedCapture::open(&paths).unwrap_err();
    assert!(matches!(err, FileError::Io { ref path, .. } if path == &paths[0]));
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

fn frames() -> impl Strategy<Value = Vec<(i64, Vec<u8>)>> {
    proptest::collection::vec(
        (
            0i64..4_000_000_000_000_000_000,
            proptest::collection::vec(any::<u8>(), 0..300),
        ),
        0..12,
    )
}

proptest! {
    #[test]
    fn written_files_read_back_the_same(packets in frames()) {
        for format in [WriteFormat::Pcap, WriteFormat::PcapNanos, WriteFormat::PcapNg] {
            let mut w = CaptureWriter::new(Vec::new(), format, LinkType::ETHERNET).unwrap();
            for (t, data) in &packets {
                w.write_packet(Timestamp(*t), data).unwrap();
            }
            let bytes = w.finish().unwrap();
            let (recs, err) = read_bytes(&bytes);
            prop_assert!(err.is_none());
            prop_assert_eq!(recs.len(), packets.len());
            for (r, (t, data)) in recs.iter().zip(&packets) {
                // pcap stores 32-bit seconds; microsecond files drop the nanoseconds.
                let secs = Timestamp(*t).secs() as u32;
                let nanos = Timestamp(*t).subsec_nanos();
                let expected = match format {
                    WriteFormat::Pcap => ts(i64::from(secs), nanos / 1000 * 1000),
                    WriteFormat::PcapNanos => ts(i64::from(secs), nanos),
                    WriteFormat::PcapNg => Timestamp(*t),
                };
                prop_assert_eq!(r.ts, expected);
                prop_assert_eq!(&r.data, data);
                prop_assert_eq!(r.orig_len as usize, data.len());
                prop_assert_eq!(r.link, LinkType::ETHERNET);
            }
        }
    }

    #[test]
    fn a_file_cut_anywhere_gives_its_whole_records_then_truncated(
        packets in frames(),
        ng in any::<bool>(),
        cut in any::<proptest::sample::Index>(),
    ) {
        let format = if ng { WriteFormat::PcapNg } else { WriteFormat::Pcap };
        let mut w = CaptureWriter::new(Vec::new(), format, LinkType::ETHERNET).unwrap();
        let mut ends = Vec::new(); // where each record ends
        for (t, data) in &packets {
            w.write_packet(Timestamp(*t), data).unwrap();
            ends.push(0);
        }
        let bytes = w.finish().unwrap();
        let header = if ng { 28 + 32 } else { 24 };
        let mut at = header;
        for (end, (_, data)) in ends.iter_mut().zip(&packets) {
            at += if ng { 32 + data.len().div_ceil(4) * 4 } else { 16 + data.len() };
            *end = at;
        }
        let cut = cut.index(bytes.len() + 1);
        let whole = ends.iter().filter(|&&e| e <= cut).count();
        // A pcapng file may also end cleanly after its section header block (28 bytes):
        // a section without interfaces is empty, not damaged.
        let at_boundary = cut == header || ends.contains(&cut) || (ng && cut == 28);
        match open_bytes(&bytes[..cut]) {
            Err(_) => prop_assert!(whole == 0 && !at_boundary),
            Ok(file) => {
                let (recs, err) = read_all(file);
                prop_assert_eq!(recs.len(), whole);
                match err {
                    None => prop_assert!(at_boundary),
                    Some(FileError::Truncated { offset, .. }) => {
                        prop_assert!(!at_boundary);
                        let start = if whole == 0 { header } else { ends[whole - 1] };
                        prop_assert_eq!(offset, start as u64);
                    }
                    Some(other) => prop_assert!(false, "unexpected {:?}", other),
                }
            }
        }
    }

    #[test]
    fn the_reader_never_panics_on_arbitrary_bytes(
        prefix in prop_oneof![
            Just(Vec::new()),
            Just(PCAP_LE_USEC.to_vec()),
            Just(PCAP_BE_NSEC_FCS.to_vec()),
            Just(PCAP_MODIFIED.to_vec()),
            Just(cat(&[&SHB_LE, &IDB_ETH_NSEC])),
            Just(SHB_BE.to_vec()),
        ],
        body in proptest::collection::vec(any::<u8>(), 0..400),
    ) {
        if let Ok(file) = open_bytes(&cat(&[&prefix, &body])) {
            for r in read_all(file).0 {
                let _ = decode(r.link, &r.data);
            }
        }
    }

    #[test]
    fn the_reader_never_panics_on_damaged_files(
        which in 0usize..3,
        flips in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let mut bytes = [pcap_le(), pcapng_two_sections(), written(WriteFormat::PcapNg, &[(ts(T0, 1), 1)])]
            [which].clone();
        for (at, x) in flips {
            let i = at.index(bytes.len());
            bytes[i] ^= x;
        }
        if let Ok(file) = open_bytes(&bytes) {
            let _ = read_all(file);
        }
    }
}

// ---------------------------------------------------------------------------
// Fuzz seeds
// ---------------------------------------------------------------------------

/// Writes the files above as seeds for `fuzz/fuzz_targets/capture_file.rs` (a mode
/// byte, then the file) and `fuzz/fuzz_targets/merge.rs` (a split byte, then two
/// files). Run with `cargo test -p mamori-wire --test capture_files write_fuzz_seeds -- --ignored`.
#[test]
#[ignore = "writes the fuzz seed corpus; run by name"]
fn write_fuzz_seeds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds");
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("pcap_le_usec", pcap_le()),
        (
            "pcap_be_usec",
            cat(&[&PCAP_BE_USEC, &pcap_record(true, 1, 2, &RAW_V4, 20)]),
        ),
        (
            "pcap_be_nsec",
            cat(&[
                &PCAP_BE_NSEC_FCS,
                &pcap_record(true, 1, 2, &eth_frame(1), 17),
            ]),
        ),
        (
            "pcap_modified",
            cat(&[&PCAP_MODIFIED, &modified_record(1, &eth_frame(1))]),
        ),
        ("pcapng_two_sections", pcapng_two_sections()),
        (
            "pcapng_writer",
            written(WriteFormat::PcapNg, &[(ts(T0, 1), 1), (ts(T0, 2), 2)]),
        ),
    ];
    let dir = root.join("capture_file");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in &files {
        std::fs::write(dir.join(name), cat(&[&[0], bytes])).unwrap();
    }
    // Through gzip (mode 1) and through gzip in small reads (mode 5).
    std::fs::write(dir.join("gzip_pcap_le_usec"), cat(&[&[1], &pcap_le()])).unwrap();
    std::fs::write(
        dir.join("gzip_trickle_pcapng"),
        cat(&[&[5], &pcapng_two_sections()]),
    )
    .unwrap();

    let dir = root.join("merge");
    std::fs::create_dir_all(&dir).unwrap();
    let a = written(WriteFormat::Pcap, &[(ts(T0, 0), 1), (ts(T0, 2_000), 2)]);
    let b = written(
        WriteFormat::PcapNanos,
        &[(ts(T0, 1_000), 11), (ts(T0, 2_000), 12)],
    );
    let c = cat(&[
        &SHB_LE,
        &IDB_ETH_NSEC,
        &epb(false, 0, T0 as u64 * 1_000_000_000, &eth_frame(3), 17),
    ]);
    for (name, a, b) in [("pcap_pcap", &a, &b), ("pcap_pcapng", &a, &c)] {
        let total = a.len() + b.len();
        let split = (0..=255u8)
            .find(|&s| total * usize::from(s) / 256 == a.len())
            .expect("a split byte that cuts between the files");
        std::fs::write(dir.join(name), cat(&[&[split], a, b])).unwrap();
    }
}
