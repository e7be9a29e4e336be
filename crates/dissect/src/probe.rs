//! Content probes: which protocol a flow speaks, from its first payload alone.
//!
//! A flow on a port no protocol registers gets its dissector from what its first
//! payload looks like ([`tcp`], [`udp`]); a flow on a registered port whose first
//! payload fails that port's probe but passes another's is handed to the other (so a
//! web server on port 502 is logged as HTTP, not Modbus). Each probe checks the fixed
//! fields of its protocol's first client PDU (magic bytes, a length that fits, a known
//! function code), so random bytes and other protocols rarely pass; none allocates,
//! and each reads at most a few dozen bytes. The service names are those of
//! `conn.jsonl` (`mamori_flow::service::NAMES`).

use crate::ot::{dnp3, tables};

fn u16_be(b: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?]))
}

fn u16_le(b: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_le_bytes([*b.get(i)?, *b.get(i + 1)?]))
}

fn u32_be(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(i..i + 4)?.try_into().ok()?))
}

fn u32_le(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(i..i + 4)?.try_into().ok()?))
}

/// Modbus/TCP: an MBAP header (protocol id 0, length 2..=254) and a public function code.
pub fn modbus(p: &[u8]) -> bool {
    (|| {
        let proto = u16_be(p, 2)?;
        let len = u16_be(p, 4)?;
        let function = *p.get(7)?;
        Some(proto == 0 && (2..=254).contains(&len) && tables::modbus::function(function).is_some())
    })()
    .unwrap_or(false)
}

/// S7comm and S7comm-plus: TPKT version 3 and a COTP connection request carrying TSAP
/// parameters (0xC1/0xC2), or COTP data carrying an S7 (0x32) or S7-plus (0x72) PDU.
/// (RDP also starts with TPKT and a connection request, but without TSAPs.)
pub fn s7comm(p: &[u8]) -> bool {
    (|| {
        let tpkt_len = usize::from(u16_be(p, 2)?);
        let li = usize::from(*p.get(4)?);
        let pdu_type = *p.get(5)?;
        if p.get(..2) != Some(&[3, 0]) || tpkt_len < 7 || li + 5 > tpkt_len {
            return Some(false);
        }
        Some(match pdu_type {
            0xE0 => {
                // Parameters after the 7 fixed bytes of the CR header.
                let params = p.get(11..(5 + li).min(p.len()))?;
                let mut rest = params;
                let mut tsap = false;
                while let [code, len, tail @ ..] = rest {
                    tsap |= matches!(code, 0xC1 | 0xC2);
                    rest = tail.get(usize::from(*len)..).unwrap_or(&[]);
                }
                tsap
            }
            0xF0 => li == 2 && matches!(p.get(7), Some(0x32 | 0x72)),
            _ => false,
        })
    })()
    .unwrap_or(false)
}

/// EtherNet/IP: a 24-byte encapsulation header with a known command, status 0 and
/// options 0 (CIP Vol. 2 §2-3), its length within 65511.
pub fn enip(p: &[u8]) -> bool {
    (|| {
        let command = u16_le(p, 0)?;
        let status = u32_le(p, 8)?;
        let options = u32_le(p, 20)?;
        Some(tables::enip::command(command).is_some() && status == 0 && options == 0)
    })()
    .unwrap_or(false)
}

/// DNP3: the link header's start bytes 0x05 0x64, a length of at least 5 and a
/// correct header CRC.
pub fn dnp3(p: &[u8]) -> bool {
    match p.get(..10) {
        Some(h) => {
            h[0] == 0x05
                && h[1] == 0x64
                && h[2] >= 5
                && dnp3::link::crc(&h[..8]).to_le_bytes() == h[8..]
        }
        None => false,
    }
}

/// IEC 60870-5-104: an APCI (start 0x68, length 4..=253) with a well-formed control
/// field: a U frame with exactly one function bit, an S frame, or an I frame that
/// carries an ASDU header.
pub fn iec104(p: &[u8]) -> bool {
    let [0x68, len, c0, c1, c2, c3, ..] = *p else {
        return false;
    };
    match c0 & 3 {
        3 => {
            len == 4
                && matches!(c0, 0x07 | 0x0B | 0x13 | 0x23 | 0x43 | 0x83)
                && [c1, c2, c3] == [0; 3]
        }
        1 => len == 4 && c0 == 1 && c1 == 0 && c2 & 1 == 0,
        // An I frame: an ASDU header follows (type id, qualifier, cause of transmission).
        _ => match (p.get(6), p.get(8)) {
            (Some(&type_id), Some(&cot)) => {
                (10..=253).contains(&len)
                    && c2 & 1 == 0
                    && (1..=47).contains(&(cot & 0x3f))
                    && tables::iec104::type_id(type_id).is_some()
            }
            _ => false,
        },
    }
}

/// OPC UA binary: a HEL or OPN message, chunk type F, a plausible message size.
pub fn opcua(p: &[u8]) -> bool {
    let Some(size) = u32_le(p, 4) else {
        return false;
    };
    match p.get(..4) {
        Some(b"HELF") => (32..=0x0010_0000).contains(&size),
        Some(b"OPNF") => (24..=0x0100_0000).contains(&size),
        _ => false,
    }
}

/// SLMP (MC protocol): a binary 3E (0x5000) or 4E (0x5400, then a serial and two zero
/// bytes) request subheader whose data length covers the timer and a known command.
pub fn slmp(p: &[u8]) -> bool {
    let base = match p.get(..2) {
        Some([0x50, 0x00]) => 2,
        Some([0x54, 0x00]) if p.get(4..6) == Some(&[0, 0]) => 6,
        _ => return false,
    };
    // network, station, module i/o (2), multidrop, data length (2), timer (2), command (2)
    let (Some(len), Some(command)) = (u16_le(p, base + 5), u16_le(p, base + 9)) else {
        return false;
    };
    len >= 6 && tables::slmp::command(command).is_some()
}

/// Omron FINS/TCP: the `FINS` magic, a length of at least 8 and a command 0..=3.
pub fn fins_tcp(p: &[u8]) -> bool {
    match (p.get(..4), u32_be(p, 4), u32_be(p, 8)) {
        (Some(b"FINS"), Some(len), Some(cmd)) => (8..=0x10000).contains(&len) && cmd <= 3,
        _ => false,
    }
}

/// HTTP: a request line, `METHOD SP target SP HTTP/1.x`, within the payload.
pub fn http(p: &[u8]) -> bool {
    const METHODS: [&[u8]; 9] = [
        b"GET ",
        b"POST ",
        b"HEAD ",
        b"PUT ",
        b"DELETE ",
        b"OPTIONS ",
        b"CONNECT ",
        b"TRACE ",
        b"PATCH ",
    ];
    if !METHODS.iter().any(|m| p.starts_with(m)) {
        return false;
    }
    let line = &p[..p.len().min(8192)];
    let end = line.iter().position(|&b| b == b'\n').unwrap_or(line.len());
    line[..end].windows(8).any(|w| w.starts_with(b" HTTP/1."))
}

/// TLS: a handshake record (type 22, version 3.x, length within 2^14 + 2048) opening
/// with a ClientHello whose client version is 3.x.
pub fn tls(p: &[u8]) -> bool {
    match *p {
        [22, 3, minor, l0, l1, 1, _, _, _, 3, ..] => {
            let len = u16::from_be_bytes([l0, l1]);
            minor <= 4 && (4..=16384 + 2048).contains(&len)
        }
        _ => false,
    }
}

/// BACnet/IP: a BVLC header (type 0x81, a defined function) whose length is the datagram's.
pub fn bacnet(p: &[u8]) -> bool {
    match (p.first(), p.get(1), u16_be(p, 2)) {
        (Some(0x81), Some(f), Some(len)) => *f <= 0x0C && usize::from(len) == p.len(),
        _ => false,
    }
}

/// EtherNet/IP over UDP: the encapsulation header, its length the rest of the datagram.
pub fn enip_udp(p: &[u8]) -> bool {
    enip(p) && u16_le(p, 2).is_some_and(|len| usize::from(len) + 24 == p.len())
}

/// SLMP over UDP: the TCP probe, with the data length ending the datagram.
pub fn slmp_udp(p: &[u8]) -> bool {
    let base = if p.starts_with(&[0x54, 0]) { 6 } else { 2 };
    slmp(p) && u16_le(p, base + 5).is_some_and(|len| base + 7 + usize::from(len) == p.len())
}

/// A protocol's probe: its `conn.jsonl` service name, the port it registers (a
/// dissector found by content is the one that port would get) and the check.
pub type Probe = (&'static str, u16, fn(&[u8]) -> bool);

/// The TCP protocols in probe order.
pub const TCP: [Probe; 10] = [
    ("modbus", crate::ot::modbus::PORT, modbus),
    ("s7comm", crate::ot::s7comm::PORT, s7comm),
    ("enip", crate::ot::enip::PORT, enip),
    ("dnp3", crate::ot::dnp3::PORT, dnp3),
    ("iec104", crate::ot::iec104::PORT, iec104),
    ("opcua", crate::ot::opcua::PORT, opcua),
    ("slmp", crate::ot::slmp::COMMON_PORTS[0], slmp),
    ("fins", crate::ot::fins::PORT, fins_tcp),
    ("http", crate::it::http::PORTS[0], http),
    ("ssl", crate::it::tls::PORTS[0], tls),
];

/// The UDP protocols in probe order.
pub const UDP: [Probe; 4] = [
    ("bacnet", crate::ot::bacnet::PORT, bacnet),
    ("dnp3", crate::ot::dnp3::PORT, dnp3),
    ("enip", crate::ot::enip::PORT, enip_udp),
    ("slmp", crate::ot::slmp::COMMON_PORTS[0], slmp_udp),
];

/// The probe a flow's first payload passes, if any (`tcp`: which list).
pub fn identify(tcp: bool, first_payload: &[u8]) -> Option<&'static Probe> {
    let list: &'static [Probe] = if tcp { &TCP } else { &UDP };
    list.iter().find(|(_, _, probe)| probe(first_payload))
}

/// The service whose probe a TCP flow's first payload passes, if any.
pub fn tcp(first_payload: &[u8]) -> Option<&'static str> {
    identify(true, first_payload).map(|p| p.0)
}

/// The service whose probe a UDP flow's first datagram passes, if any.
pub fn udp(first_payload: &[u8]) -> Option<&'static str> {
    identify(false, first_payload).map(|p| p.0)
}

/// Whether `first_payload` passes the probe of `service` (true for a service without
/// a probe: the port decides then).
pub fn matches(service: &str, tcp: bool, first_payload: &[u8]) -> bool {
    let list: &[Probe] = if tcp { &TCP } else { &UDP };
    list.iter()
        .find(|(name, _, _)| *name == service)
        .is_none_or(|(_, _, probe)| probe(first_payload))
}

#[cfg(test)]
mod tests;
