//! Byte arrays are real PDUs from the shared captures (`tshark -x`), named in each
//! comment; patched bytes say so.

use proptest::prelude::*;

use super::*;
use crate::stream::{StreamBuffer, StreamState};

/// Concatenates annotated pieces.
fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// PLC stop job (`iti_step7_s300_stop.pcapng` frame 1).
const STOP_REQUEST: [u8; 33] = [
    0x03, 0x00, 0x00, 0x21, // TPKT: version 3, reserved, length 33
    0x02, 0xf0, 0x80, // COTP: length indicator 2, DT, EOT + TPDU number 0
    0x32, // S7comm protocol id
    0x01, // ROSCTR 1: job
    0x00, 0x00, // redundancy id
    0x00, 0x35, // PDU reference 0x35
    0x00, 0x10, // parameter length 16
    0x00, 0x00, // data length 0
    0x29, // function 0x29: PLC stop
    0x00, 0x00, 0x00, 0x00, 0x00, // unknown
    0x09, // service name length 9
    b'P', b'_', b'P', b'R', b'O', b'G', b'R', b'A', b'M', // service name
];

/// Its ack-data (`iti_step7_s300_stop.pcapng` frame 2).
const STOP_RESPONSE: [u8; 20] = [
    0x03, 0x00, 0x00, 0x14, // TPKT length 20
    0x02, 0xf0, 0x80, // COTP DT, EOT
    0x32, 0x03, // S7comm, ROSCTR 3: ack-data
    0x00, 0x00, // redundancy id
    0x00, 0x35, // PDU reference 0x35 (the job's)
    0x00, 0x01, // parameter length 1
    0x00, 0x00, // data length 0
    0x00, 0x00, // error class 0, error code 0
    0x29, // function 0x29
];

/// Read var job (`iti_s7comm_varservice_libnodavedemo.pcap` frame 13).
const READ_REQUEST: [u8; 31] = [
    0x03, 0x00, 0x00, 0x1f, // TPKT length 31
    0x02, 0xf0, 0x80, // COTP DT, EOT
    0x32, 0x01, 0x00, 0x00, // S7comm job, redundancy id
    0x00, 0x01, // PDU reference 1
    0x00, 0x0e, 0x00, 0x00, // parameter length 14, data length 0
    0x04, 0x01, // function 0x04 read var, 1 item
    0x12, 0x0a, 0x10, // item: variable specification, length 10, syntax S7ANY
    0x02, // transport size 2: byte
    0x00, 0x10, // count 16
    0x00, 0x00, // DB number 0
    0x83, // area 0x83: flags (M)
    0x00, 0x00, 0x00, // address: byte 0, bit 0
];

/// Its ack-data (`iti_s7comm_varservice_libnodavedemo.pcap` frame 14).
const READ_RESPONSE: [u8; 41] = [
    0x03, 0x00, 0x00, 0x29, // TPKT length 41
    0x02, 0xf0, 0x80, // COTP DT, EOT
    0x32, 0x03, 0x00, 0x00, // S7comm ack-data, redundancy id
    0x00, 0x01, // PDU reference 1
    0x00, 0x02, 0x00, 0x14, // parameter length 2, data length 20
    0x00, 0x00, // no error
    0x04, 0x01, // function read var, 1 item
    0xff, 0x04, 0x00, 0x80, // item: return code success, size in bits, 128 bits
    0xa9, 0x10, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, // 16 bytes of values
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
];

/// Write var job (`iti_s7comm_varservice_libnodavedemo.pcap` frame 15).
const WRITE_REQUEST: [u8; 39] = [
    0x03, 0x00, 0x00, 0x27, // TPKT length 39
    0x02, 0xf0, 0x80, // COTP DT, EOT
    0x32, 0x01, 0x00, 0x00, // S7comm job, redundancy id
    0x00, 0x02, // PDU reference 2
    0x00, 0x0e, 0x00, 0x08, // parameter length 14, data length 8
    0x05, 0x01, // function 0x05 write var, 1 item
    0x12, 0x0a, 0x10, 0x02, // variable specification, S7ANY, transport size byte
    0x00, 0x04, 0x00, 0x00, // count 4, DB 0
    0x83, 0x00, 0x00, 0x00, // area M, byte 0 bit 0
    0x00, 0x04, 0x00, 0x20, // data item: reserved, transport size byte, 32 bits
    0xa9, 0x10, 0x00, 0x01, // the values
];

/// Request download of OB1 (`iti_tia_s300_downloadOb1.pcapng` frame 57).
const DOWNLOAD_REQUEST: [u8; 49] = [
    0x03, 0x00, 0x00, 0x31, // TPKT length 49
    0x02, 0xf0, 0x80, // COTP DT, EOT
    0x32, 0x01, 0x00, 0x00, // S7comm job, redundancy id
    0xbd, 0x0a, // PDU reference 0xbd0a
    0x00, 0x20, 0x00, 0x00, // parameter length 32, data length 0
    0x1a, // function 0x1a: request download
    0x00, // function status
    0x01, 0x00, // unknown
    0x00, 0x00, 0x00, 0x00, // upload id
    0x09, // file name length 9
    b'_', b'0', b'8', b'0', b'0', b'0', b'0', b'1', b'P', // _ | 08 OB | 00001 | P
    0x0d, // length part: 13 characters
    b'1', b'0', b'0', b'0', b'3', b'3', b'2', b'0', b'0', b'0', b'2', b'1', b'2',
];

/// PI service `_INSE` (activate OB1) (`iti_tia_s300_downloadOb1.pcapng` frame 65).
const INSERT_REQUEST: [u8; 43] = [
    0x03, 0x00, 0x00, 0x2b, // TPKT length 43
    0x02, 0xf0, 0x80, // COTP DT, EOT
    0x32, 0x01, 0x00, 0x00, // S7comm job, redundancy id
    0xbe, 0x0a, // PDU reference 0xbe0a
    0x00, 0x1a, 0x00, 0x00, // parameter length 26, data length 0
    0x28, // function 0x28: PI service
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xfd, // unknown
    0x00, 0x0a, // parameter block length 10
    0x01, 0x00, // one block, reserved
    b'0', b'8', b'0', b'0', b'0', b'0', b'1', b'P', // 08 OB | 00001 | P
    0x05, // service name length 5
    b'_', b'I', b'N', b'S', b'E', // service name
];

/// Read SZL 0x0011 (module identification) (`iti_s7comm_reading_plc_status.pcap`
/// frame 58).
const SZL_REQUEST: [u8; 33] = [
    0x03, 0x00, 0x00, 0x21, // TPKT length 33
    0x02, 0xf0, 0x80, // COTP DT, EOT
    0x32, 0x07, 0x00, 0x00, // S7comm, ROSCTR 7: userdata, redundancy id
    0x11, 0x00, // PDU reference 0x1100
    0x00, 0x08, 0x00, 0x08, // parameter length 8, data length 8
    0x00, 0x01, 0x12, // parameter head
    0x04, // parameter length 4
    0x11, // method: request
    0x44, // type 4 (request), function group 4 (CPU functions)
    0x01, // subfunction 1: read SZL
    0x00, // sequence number
    0xff, 0x09, 0x00, 0x04, // data: return code, transport size octet string, length 4
    0x00, 0x11, // SZL id 0x0011
    0x00, 0x00, // index 0
];

/// Its response, four module identification records (`iti_s7comm_reading_plc_status.pcap`
/// frame 59).
fn szl_response() -> Vec<u8> {
    cat(&[
        &[0x03, 0x00, 0x00, 0x99],             // TPKT length 153
        &[0x02, 0xf0, 0x80],                   // COTP DT, EOT
        &[0x32, 0x07, 0x00, 0x00],             // S7comm userdata
        &[0x11, 0x00],                         // PDU reference 0x1100
        &[0x00, 0x0c, 0x00, 0x7c],             // parameter length 12, data length 124
        &[0x00, 0x01, 0x12, 0x08],             // parameter head, length 8
        &[0x12, 0x84, 0x01, 0x02], // method response, type 8 group 4, read SZL, sequence 2
        &[0x00, 0x00],             // data unit reference, last data unit
        &[0x00, 0x00],             // error code 0
        &[0xff, 0x09, 0x00, 0x78], // return code success, octet string, length 120
        &[0x00, 0x11, 0x00, 0x00], // SZL id 0x0011, index 0
        &[0x00, 0x1c, 0x00, 0x04], // record length 28, 4 records
        &[0x00, 0x01],             // record: index 1 (module)
        b"6ES7 151-8AB01-0AB0 ",   // order number (MLFB)
        &[0x00, 0xc0, 0x00, 0x03, 0x00, 0x01], // module type, versions
        &[0x00, 0x06],             // index 6 (basic hardware)
        b"6ES7 151-8AB01-0AB0 ",
        &[0x00, 0xc0, 0x00, 0x03, 0x00, 0x01],
        &[0x00, 0x07], // index 7 (basic firmware)
        b"                    ",
        &[0x00, 0xc0, b'V', 0x03, 0x02, 0x06], // module type, firmware V3.2.6
        &[0x00, 0x81],                         // index 0x81 (boot loader)
        b"Boot Loader         ",
        &[0x00, 0x00, 0x41, 0x20, 0x09, 0x09],
    ])
}

/// Userdata request: unsubscribe cyclic data (`iti_wincc_s400_production.pcapng`).
const CYCLIC_UNSUBSCRIBE: [u8; 31] = [
    0x03, 0x00, 0x00, 0x1f, // TPKT length 31
    0x02, 0xf0, 0x80, // COTP DT, EOT
    0x32, 0x07, 0x00, 0x00, // S7comm userdata
    0x0e, 0x00, // PDU reference 0x0e00
    0x00, 0x08, 0x00, 0x06, // parameter length 8, data length 6
    0x00, 0x01, 0x12, 0x04, // parameter head, length 4
    0x11, 0x42, 0x04,
    0x00, // method request, type 4 group 2 (cyclic data), subfunction 4, sequence 0
    0xff, 0x09, 0x00, 0x02, // return code, octet string, length 2
    0x05, 0x01, // job id
];

/// An empty COTP data fragment (no EOT), which S7 stacks send before PDUs
/// (`iti_mb2.pcap` frame 1384 starts with one).
const EMPTY_DT: [u8; 7] = [
    0x03, 0x00, 0x00, 0x07, // TPKT length 7
    0x02, 0xf0, 0x00, // COTP DT, no EOT, no user data
];

/// Connection request from an HMI to an S7-1511 (`iti_S7-1511_db3_var1_HMI.pcap` frame 10).
fn s7plus_connect() -> Vec<u8> {
    cat(&[
        &[0x03, 0x00, 0x00, 0x32], // TPKT length 50
        &[0x2d, 0xe0],             // COTP length indicator 45, CR
        &[0x00, 0x00, 0x00, 0x87], // destination reference 0, source reference 0x87
        &[0x00],                   // class 0
        &[0xc1, 0x10],             // calling TSAP, 16 bytes
        b"SNOPCC0002000001",
        &[0xc2, 0x10], // called TSAP, 16 bytes
        b"SIMATIC-ROOT-OTH",
        &[0xc0, 0x01, 0x0a], // TPDU size 1024
    ])
}

/// S7comm-plus GetMultiVariables request (`iti_S7-1511_db3_var1_HMI.pcap` frame 45).
fn s7plus_get_request() -> Vec<u8> {
    cat(&[
        &[0x03, 0x00, 0x00, 0x6a], // TPKT length 106
        &[0x02, 0xf0, 0x80],       // COTP DT, EOT
        &[0x72],                   // S7comm-plus protocol id
        &[0x02],                   // version 2
        &[0x00, 0x5b],             // data length 91
        &[0x31],                   // opcode 0x31: request
        &[0x00, 0x00],             // reserved
        &[0x05, 0x4c],             // function 0x054C: GetMultiVariables
        &[0x00, 0x00],             // reserved
        &[0x00, 0x04],             // sequence number 4
        &[0x00, 0x00, 0x03, 0x88], // session id 0x388
        &[0x34],                   // transport flags
        // request body (item addresses, integrity id, digest), not decoded
        &[
            0x00, 0x00, 0x00, 0x00, 0x01, 0x05, 0x8a, 0xcd, 0xf1, 0xcd, 0x66, 0x88, 0xd0, 0xb8,
            0x80, 0x03, 0x02, 0x93, 0x76, 0x0a, 0x00, 0x00, 0x04, 0xe8, 0x89, 0x69, 0x00, 0x12,
            0x00, 0x00, 0x00, 0x00, 0x89, 0x6a, 0x00, 0x13, 0x00, 0x89, 0x6b, 0x00, 0x04, 0x00,
            0x00, 0x02, 0x20, 0x66, 0x97, 0xaa, 0x0a, 0x34, 0x0a, 0x36, 0xf4, 0x50, 0x54, 0x16,
            0x6e, 0x60, 0xdc, 0x82, 0xac, 0xca, 0x53, 0xd9, 0x51, 0x25, 0x5f, 0xc7, 0x9e, 0xa2,
            0xb6, 0xb6, 0x5e, 0x8d, 0xa5, 0xc6, 0xab,
        ],
        &[0x72, 0x02, 0x00, 0x00], // trailer: protocol id, version, length 0
    ])
}

/// Its response (`iti_S7-1511_db3_var1_HMI.pcap` frame 46).
fn s7plus_get_response() -> Vec<u8> {
    cat(&[
        &[0x03, 0x00, 0x00, 0x42], // TPKT length 66
        &[0x02, 0xf0, 0x80],       // COTP DT, EOT
        &[0x72, 0x02, 0x00, 0x33], // S7comm-plus, version 2, data length 51
        &[0x32],                   // opcode 0x32: response
        &[0x00, 0x00],             // reserved
        &[0x05, 0x4c],             // function GetMultiVariables
        &[0x00, 0x00],             // reserved
        &[0x00, 0x04],             // sequence number 4 (the request's)
        &[0x34],                   // transport flags
        // return value, values, integrity part: not decoded
        &[
            0x00, 0x01, 0x80, 0x0a, 0x02, 0x00, 0x00, 0x06, 0x20, 0x12, 0x3a, 0xfa, 0xe9, 0x15,
            0x61, 0xe6, 0x3a, 0xd0, 0xbf, 0x64, 0x12, 0xa4, 0x3d, 0x6d, 0x2b, 0xe6, 0x67, 0x91,
            0x3e, 0x3f, 0xa9, 0xd7, 0x9e, 0x53, 0xd3, 0xda, 0x43, 0x4d, 0x0a, 0xe6, 0x00,
        ],
        &[0x72, 0x02, 0x00, 0x00], // trailer
    ])
}

/// An MMS initiate request over COTP (`iti_mms-stopRequest.pcap` frame 8): ISO on
/// port 102, but not S7.
const MMS_DT: [u8; 47] = [
    0x03, 0x00, 0x00, 0x2f, // TPKT length 47
    0x02, 0xf0, 0x80, // COTP DT, EOT
    0xa8, 0x26, 0x80, 0x02, 0x00, 0x1f, 0x81, 0x01, 0x03, 0x82, 0x01, 0x03, 0x83, 0x02, 0x08, 0x08,
    0xa4, 0x16, 0x80, 0x01, 0x01, 0x81, 0x03, 0x05, 0xe8, 0x00, 0x82, 0x0c, 0x03, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // MMS initiate-request PDU
];

fn parse(bytes: &[u8]) -> Parsed<Tpdu<'_>> {
    Parser.parse(Direction::Orig, bytes)
}

/// The S7comm PDU in `bytes`.
fn s7(bytes: &[u8]) -> S7Pdu<'_> {
    match parse(bytes) {
        Parsed::Pdu {
            pdu:
                Tpdu {
                    kind:
                        TpduKind::Data {
                            message: Some(Message::S7(m)),
                            ..
                        },
                    ..
                },
            ..
        } => m,
        other => panic!("not S7comm: {other:?}"),
    }
}

type Run = (
    Vec<OtOperation>,
    Vec<IdentityFact>,
    [StreamState; 2],
    Session,
);

/// Feeds segments through stream buffers and a session.
fn run(segments: &[(Direction, &[u8])]) -> Run {
    let mut bufs = [StreamBuffer::new(), StreamBuffer::new()];
    let mut session = Session::default();
    let (mut ops, mut facts) = (Vec::new(), Vec::new());
    for (i, &(dir, bytes)) in segments.iter().enumerate() {
        bufs[dir.index()].feed(&Parser, dir, bytes, |t| {
            session.on_tpdu(dir, i as i64, &t, &mut ops, &mut facts)
        });
    }
    session.finish(&mut ops);
    (ops, facts, [bufs[0].state(), bufs[1].state()], session)
}

#[test]
fn the_arrays_are_the_captured_bytes() {
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    assert_eq!(
        hex(&szl_response()),
        "0300009902f080320700001100000c007c000112081284010200000000ff09007800110000001c0004000136455337203135312d38414230312d304142302000c000030001000636455337203135312d38414230312d304142302000c0000300010007202020202020202020202020202020202020202000c0560302060081426f6f74204c6f61646572202020202020202020000041200909"
    );
    assert_eq!(
        hex(&s7plus_get_response()),
        "0300004202f08072020033320000054c00000004340001800a0200000620123afae91561e63ad0bf6412a43d6d2be667913e3fa9d79e53d3da434d0ae60072020000"
    );
    assert_eq!(s7plus_get_request().len(), 0x6a);
    assert_eq!(s7plus_connect().len(), 0x32);
}

#[test]
fn job_header_fields_are_read() {
    let pdu = s7(&STOP_REQUEST);
    assert_eq!((pdu.rosctr, pdu.pdu_ref, pdu.error), (1, 0x35, None));
    assert_eq!(pdu.param.len(), 16);
    assert!(pdu.data.is_empty());
    let reply = s7(&STOP_RESPONSE);
    assert_eq!(
        (reply.rosctr, reply.pdu_ref, reply.error),
        (3, 0x35, Some((0, 0)))
    );
}

#[test]
fn plc_stop_is_control() {
    let (ops, _, states, _) = run(&[
        (Direction::Orig, &STOP_REQUEST),
        (Direction::Resp, &STOP_RESPONSE),
    ]);
    assert_eq!(ops.len(), 1);
    let op = &ops[0];
    assert_eq!(
        (op.protocol, op.pdu, op.function.code, op.function.name),
        (PROTOCOL, Some("job"), 0x29, "plc_stop")
    );
    assert_eq!(op.function.category, Category::Control);
    assert_eq!(op.target, "P_PROGRAM");
    assert_eq!(op.status, Status::Ok);
    assert_eq!(states, [StreamState::Recognised; 2]);
}

#[test]
fn an_error_class_is_the_status() {
    let mut reply = STOP_RESPONSE;
    reply[17] = 0x81; // patched: error class 0x81 (application relationship)
    reply[18] = 0x04; // patched: error code 4
    let (ops, _, _, _) = run(&[(Direction::Orig, &STOP_REQUEST), (Direction::Resp, &reply)]);
    assert_eq!(ops[0].status, Status::Exception(0x8104));
}

#[test]
fn read_and_write_var_name_their_items() {
    let (ops, _, _, _) = run(&[
        (Direction::Orig, &READ_REQUEST),
        (Direction::Resp, &READ_RESPONSE),
        (Direction::Orig, &WRITE_REQUEST),
    ]);
    assert_eq!(ops.len(), 2);
    assert_eq!(
        (
            ops[0].function.category,
            ops[0].target.as_str(),
            ops[0].status
        ),
        (Category::Read, "MB0 x16", Status::Ok)
    );
    assert_eq!(
        (
            ops[1].function.category,
            ops[1].target.as_str(),
            ops[1].status
        ),
        (Category::Write, "MB0 x4", Status::NoResponse)
    );
    assert!(ops[1].flags.has(Flags::NO_RESPONSE));
}

#[test]
fn var_items_in_s7_notation() {
    // 0x12 | len | S7ANY | size | count | DB | area | address (byte × 8 + bit)
    let item = |size: u8, db: u16, area: u8, byte: u32, bit: u32| {
        let a = (byte << 3 | bit).to_be_bytes();
        let [d0, d1] = db.to_be_bytes();
        var_item(&[0x12, 0x0a, 0x10, size, 0, 1, d0, d1, area, a[1], a[2], a[3]])
    };
    assert_eq!(item(1, 1, 0x84, 0, 0).as_deref(), Some("DB1.DBX0.0 x1"));
    assert_eq!(item(4, 10, 0x84, 4, 0).as_deref(), Some("DB10.DBW4 x1"));
    assert_eq!(item(1, 0, 0x81, 2, 3).as_deref(), Some("I2.3 x1"));
    assert_eq!(item(6, 0, 0x82, 8, 0).as_deref(), Some("QD8 x1"));
    assert_eq!(item(2, 0, 0x42, 0, 0).as_deref(), Some("area 0x42 0.0 x1"));
}

#[test]
fn download_and_insert_are_program() {
    let (ops, _, _, _) = run(&[
        (Direction::Orig, &DOWNLOAD_REQUEST),
        (Direction::Orig, &INSERT_REQUEST),
    ]);
    let got: Vec<_> = ops
        .iter()
        .map(|o| {
            (
                o.function.code,
                o.function.name,
                o.function.category,
                o.target.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (0x1a, "request_download", Category::Program, "OB1"),
            (0x28, "insert_block", Category::Program, "_INSE OB1"),
        ]
    );
}

#[test]
fn pi_services_are_told_apart_by_name() {
    let with_name = |name: &[u8]| {
        // INSERT_REQUEST with another service name (patched), no parameter block.
        let mut p = vec![0x28, 0, 0, 0, 0, 0, 0, 0xfd, 0x00, 0x00, name.len() as u8];
        p.extend_from_slice(name);
        let pdu = S7Pdu {
            rosctr: JOB,
            pdu_ref: 1,
            error: None,
            param: &p,
            data: &[],
        };
        let f = classify_job(&pdu);
        (f.name, f.category)
    };
    assert_eq!(with_name(b"P_PROGRAM"), ("plc_start", Category::Control));
    assert_eq!(with_name(b"_DELE"), ("delete_block", Category::Program));
    assert_eq!(with_name(b"_GARB"), ("compress_memory", Category::Program));
    assert_eq!(with_name(b"_N_XYZ"), ("pi_service", Category::Control));
}

#[test]
fn an_szl_read_identifies_the_module() {
    let response = szl_response();
    let (ops, facts, _, _) = run(&[
        (Direction::Orig, &SZL_REQUEST),
        (Direction::Resp, &response),
    ]);
    assert_eq!(ops.len(), 1);
    let op = &ops[0];
    assert_eq!(
        (
            op.pdu,
            op.function.code,
            op.function.name,
            op.function.category
        ),
        (Some("userdata"), 0x401, "read_szl", Category::Identify)
    );
    assert_eq!(op.target, "SZL 0x0011 index 0x0000");
    assert_eq!(op.status, Status::Ok);
    let found: Vec<(Option<Direction>, IdentityKind, &str)> = facts
        .iter()
        .map(|f| (f.about.side(), f.kind, f.value.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (
                Some(Direction::Resp),
                IdentityKind::Model,
                "6ES7 151-8AB01-0AB0"
            ),
            (Some(Direction::Resp), IdentityKind::Firmware, "V3.2.6"),
        ]
    );
}

#[test]
fn a_cyclic_data_request_is_userdata_group_2() {
    let (ops, _, _, _) = run(&[(Direction::Orig, &CYCLIC_UNSUBSCRIBE)]);
    assert_eq!(
        (ops[0].pdu, ops[0].function.code, ops[0].function.name),
        (Some("userdata"), 0x204, "cyclic_data_unsubscribe")
    );
}

/// Userdata block functions (`iti_tia_s300_downloadOb1.pcapng` frames 9 and 19).
const BLOCK_INFO_REQUEST: [u8; 37] = [
    0x03, 0x00, 0x00, 0x25, // TPKT length 37
    0x02, 0xf0, 0x80, // COTP DT, EOT
    0x32, 0x07, 0x00, 0x00, // S7comm userdata
    0xea, 0x0a, // PDU reference 0xea0a
    0x00, 0x08, 0x00, 0x0c, // parameter length 8, data length 12
    0x00, 0x01, 0x12, 0x04, // parameter head, length 4
    0x11, 0x43, 0x03,
    0x00, // method request, type 4 group 3 (block functions), get block info, sequence 0
    0xff, 0x09, 0x00, 0x08, // return code, octet string, length 8
    b'0', b'8', b'0', b'0', b'0', b'0', b'1', b'A', // 08 OB | 00001 | A (file system)
];

const LIST_BLOCKS_OF_TYPE: [u8; 31] = [
    0x03, 0x00, 0x00, 0x1f, // TPKT length 31
    0x02, 0xf0, 0x80, // COTP DT, EOT
    0x32, 0x07, 0x00, 0x00, // S7comm userdata
    0x8f, 0x0a, // PDU reference 0x8f0a
    0x00, 0x08, 0x00, 0x06, // parameter length 8, data length 6
    0x00, 0x01, 0x12, 0x04, // parameter head, length 4
    0x11, 0x43, 0x02, 0x00, // method request, type 4 group 3, list blocks of type, sequence 0
    0xff, 0x09, 0x00, 0x02, // return code, octet string, length 2
    b'0', b'8', // block type 08: OB
];

#[test]
fn block_functions_name_the_block() {
    let (ops, _, _, session) = run(&[
        (Direction::Orig, &BLOCK_INFO_REQUEST),
        (Direction::Orig, &LIST_BLOCKS_OF_TYPE),
    ]);
    let got: Vec<_> = ops
        .iter()
        .map(|o| (o.function.code, o.function.name, o.target.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (0x303, "get_block_info", "OB1"),
            (0x302, "list_blocks_of_type", "OB")
        ]
    );
    assert_eq!((session.s7_pdus, session.plus_pdus), (2, 0));
}

/// Setup communication (`iti_s7comm_varservice_libnodavedemo.pcap` frame 9).
const SETUP_REQUEST: [u8; 25] = [
    0x03, 0x00, 0x00, 0x19, // TPKT length 25
    0x02, 0xf0, 0x80, // COTP DT, EOT
    0x32, 0x01, 0x00, 0x00, // S7comm job, redundancy id
    0xff, 0xff, // PDU reference 0xffff
    0x00, 0x08, 0x00, 0x00, // parameter length 8, data length 0
    0xf0, 0x00, // function 0xF0: setup communication, reserved
    0x00, 0x01, 0x00, 0x01, // max AmQ calling 1, called 1
    0x07, 0x80, // PDU length 1920
];

#[test]
fn setup_communication_shows_the_pdu_size() {
    let (ops, _, _, _) = run(&[(Direction::Orig, &SETUP_REQUEST)]);
    assert_eq!(
        (
            ops[0].function.name,
            ops[0].function.category,
            ops[0].target.as_str()
        ),
        ("setup_communication", Category::Other, "pdu_size 1920")
    );
}

#[test]
fn a_userdata_push_is_not_a_request() {
    let mut push = CYCLIC_UNSUBSCRIBE;
    push[22] = 0x02; // patched: type 0 (push), group 2
    let (ops, _, _, session) = run(&[(Direction::Resp, &push)]);
    assert!(ops.is_empty());
    assert_eq!(session.pushes, 1);
}

#[test]
fn s7comm_plus_is_recognised_with_opcode_and_function() {
    let connect = s7plus_connect();
    let (request, response) = (s7plus_get_request(), s7plus_get_response());
    let Parsed::Pdu { pdu, consumed } = parse(&request) else {
        panic!()
    };
    assert_eq!(consumed, request.len());
    let TpduKind::Data {
        message: Some(Message::Plus(plus)),
        ..
    } = pdu.kind
    else {
        panic!("{pdu:?}")
    };
    assert_eq!(
        plus,
        PlusPdu {
            version: 2,
            opcode: Some(0x31),
            function: 0x054c,
            sequence: 4
        }
    );
    assert_eq!(pdu.flags, Flags::default());
    let (ops, _, _, session) = run(&[
        (Direction::Orig, &connect),
        (Direction::Orig, &request),
        (Direction::Resp, &response),
    ]);
    assert_eq!(session.calling_tsap, b"SNOPCC0002000001");
    assert_eq!(session.called_tsap, b"SIMATIC-ROOT-OTH");
    assert_eq!(ops.len(), 1);
    let op = &ops[0];
    assert_eq!(
        (op.protocol, op.pdu, op.function.code, op.function.name),
        (PROTOCOL_PLUS, None, 0x054c, "get_multi_variables")
    );
    assert_eq!(
        (op.function.category, op.status),
        (Category::Read, Status::Ok)
    );
}

#[test]
fn s7comm_plus_version_3_skips_the_integrity_part() {
    let mut p = vec![0x72, 0x03, 0x00, 0x30, 0x20]; // id, version 3, length, digest length 32
    p.extend_from_slice(&[0xaa; 32]); // digest
    p.extend_from_slice(&[0x31, 0x00, 0x00, 0x04, 0xf2, 0x00, 0x00, 0x00, 0x09]); // request, SetVariable, sequence 9
    let mut flags = Flags::default();
    let plus = parse_plus(&p, &mut flags).expect("version 3");
    assert_eq!(
        (plus.opcode, plus.function, plus.sequence),
        (Some(0x31), 0x04f2, 9)
    );
    assert_eq!(describe_plus(plus.function).category, Category::Write);
    assert_eq!(flags, Flags::default());
}

#[test]
fn several_pdus_in_one_segment() {
    // An empty fragment then a job in one segment, as iti_mb2.pcap has them, then a second job.
    let seg = cat(&[&EMPTY_DT, &READ_REQUEST, &WRITE_REQUEST]);
    let (ops, _, _, session) = run(&[(Direction::Orig, &seg)]);
    assert_eq!(ops.len(), 2);
    assert_eq!(session.fragments_dropped, 0);
    assert!(ops.iter().all(|o| o.status == Status::NoResponse));
}

#[test]
fn one_pdu_across_segments() {
    let response = szl_response();
    let (ops, facts, _, _) = run(&[
        (Direction::Orig, &SZL_REQUEST[..2]),
        (Direction::Orig, &SZL_REQUEST[2..20]),
        (Direction::Orig, &SZL_REQUEST[20..]),
        (Direction::Resp, &response[..5]),
        (Direction::Resp, &response[5..100]),
        (Direction::Resp, &response[100..]),
    ]);
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].status, Status::Ok);
    assert_eq!(facts.len(), 2);
}

#[test]
fn a_gap_mid_stream_resynchronises_on_the_next_pdu() {
    let mut buf = StreamBuffer::new();
    let mut seen = Vec::new();
    let mut on = |t: Tpdu<'_>| {
        if let TpduKind::Data {
            message: Some(Message::S7(m)),
            ..
        } = t.kind
        {
            seen.push(m.pdu_ref)
        }
    };
    buf.feed(&Parser, Direction::Orig, &READ_REQUEST, &mut on);
    buf.feed(&Parser, Direction::Orig, &STOP_REQUEST[..12], &mut on);
    buf.gap(100);
    assert_eq!(buf.state(), StreamState::Resyncing);
    // The tail of a lost PDU, then a whole one.
    let next = cat(&[&STOP_REQUEST[25..], &WRITE_REQUEST]);
    buf.feed(&Parser, Direction::Orig, &next, &mut on);
    assert_eq!(seen, [1, 2]);
    assert_eq!(buf.state(), StreamState::Recognised);
    assert!(buf.stats().skipped >= 8);
}

#[test]
fn mms_on_port_102_is_not_s7() {
    assert_eq!(parse(&MMS_DT), Parsed::NotThisProtocol);
    let (ops, _, states, _) = run(&[(Direction::Orig, &MMS_DT)]);
    assert!(ops.is_empty());
    assert_eq!(states[0], StreamState::NotThisProtocol);
}

#[test]
fn http_on_port_102_is_not_s7() {
    let (ops, _, states, _) = run(&[(Direction::Orig, b"GET / HTTP/1.1\r\nHost: plc\r\n\r\n")]);
    assert!(ops.is_empty());
    assert_eq!(states[0], StreamState::NotThisProtocol);
}

#[test]
fn a_lying_length_is_flagged() {
    let mut job = READ_REQUEST;
    job[16] = 0x05; // patched: data length 5, but no data follows
    let pdu = match parse(&job) {
        Parsed::Pdu { pdu, .. } => pdu,
        other => panic!("{other:?}"),
    };
    assert!(pdu.flags.has(Flags::BAD_LENGTH));
}

#[test]
fn outstanding_requests_are_bounded() {
    let mut session = Session::default();
    let (mut ops, mut facts) = (Vec::new(), Vec::new());
    for r in 0..(MAX_OUTSTANDING as u16 + 6) {
        let mut job = READ_REQUEST;
        job[11..13].copy_from_slice(&r.to_be_bytes()); // patched PDU reference
        let Parsed::Pdu { pdu, .. } = parse(&job) else {
            panic!()
        };
        session.on_tpdu(Direction::Orig, 0, &pdu, &mut ops, &mut facts);
    }
    assert_eq!(ops.len(), 6);
    assert!(ops.iter().all(|o| o.flags.has(Flags::TOO_MANY_OUTSTANDING)));
}

#[test]
fn a_response_without_request_is_counted() {
    let (ops, _, _, session) = run(&[(Direction::Resp, &STOP_RESPONSE)]);
    assert!(ops.is_empty());
    assert_eq!(session.unsolicited, 1);
}

proptest! {
    /// The parser keeps the contract on any bytes.
    #[test]
    fn parser_keeps_the_contract(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        check_contract(&bytes)?;
    }

    /// ... and on bytes that look like TPKT + COTP DT + S7, to reach the deeper layers.
    #[test]
    fn parser_keeps_the_contract_past_the_headers(
        proto in prop_oneof![Just(0x32u8), Just(0x72), any::<u8>()],
        cotp in prop_oneof![Just(0xf0u8), Just(0xe0), Just(0xd0), any::<u8>()],
        li in 0u8..12,
        body in proptest::collection::vec(any::<u8>(), 0..120),
        slack in 0usize..4,
    ) {
        let mut bytes = vec![0x03, 0x00, 0, 0, li, cotp, 0x80, proto];
        bytes.extend_from_slice(&body);
        let len = (bytes.len() + slack) as u16;
        bytes[2..4].copy_from_slice(&len.to_be_bytes());
        check_contract(&bytes)?;
        let mut session = Session::default();
        if let Parsed::Pdu { pdu, .. } = parse(&bytes) {
            let (mut ops, mut facts) = (Vec::new(), Vec::new());
            session.on_tpdu(Direction::Orig, 0, &pdu, &mut ops, &mut facts);
            session.on_tpdu(Direction::Resp, 0, &pdu, &mut ops, &mut facts);
        }
    }

    /// Any split of a valid stream into segments gives the same PDUs.
    #[test]
    fn any_segmentation_gives_the_same_pdus(cuts in proptest::collection::vec(1usize..40, 1..10)) {
        let stream = cat(&[&EMPTY_DT, &READ_REQUEST, &EMPTY_DT, &WRITE_REQUEST, &STOP_REQUEST]);
        let mut buf = StreamBuffer::new();
        let mut seen = Vec::new();
        let mut at = 0;
        for c in cuts.iter().cycle() {
            if at >= stream.len() { break; }
            let end = (at + c).min(stream.len());
            buf.feed(&Parser, Direction::Orig, &stream[at..end], |t| {
                if let TpduKind::Data { message: Some(Message::S7(m)), .. } = t.kind {
                    seen.push(m.pdu_ref);
                }
            });
            at = end;
        }
        prop_assert_eq!(seen, vec![1, 2, 0x35]);
    }
}

fn check_contract(bytes: &[u8]) -> Result<(), TestCaseError> {
    match parse(bytes) {
        Parsed::Pdu { consumed, .. } => prop_assert!(consumed >= 1 && consumed <= bytes.len()),
        Parsed::Incomplete { needed } => {
            prop_assert!(needed > bytes.len() && needed <= MAX_TPKT)
        }
        Parsed::NotThisProtocol => {}
    }
    Ok(())
}

#[test]
fn a_protocol_id_alone_does_not_make_s7() {
    let mut job = READ_REQUEST;
    job[8] = 0x09; // patched: ROSCTR 9, which S7comm does not define
    assert_eq!(parse(&job), Parsed::NotThisProtocol);
    let mut plus = s7plus_get_response();
    plus[8] = 0x42; // patched: S7comm-plus version 0x42
    assert_eq!(parse(&plus), Parsed::NotThisProtocol);
}
