//! CC-Link IE Field Network Basic cyclic frames (CLPA BAP-C2010ENG-001): an SLMP-style
//! header with command 0x0E70, the master's request to UDP 61450 and each slave's
//! response to the master's UDP 61451. Fields are little-endian except the subheader.

use std::net::Ipv4Addr;

use super::{put_u16le, put_u32le};

/// Port slaves listen on.
pub(crate) const SLAVE_PORT: u16 = 61450;
/// Port the master listens on.
pub(crate) const MASTER_PORT: u16 = 61451;

fn ip_le(ip: Ipv4Addr) -> u32 {
    u32::from(ip)
}

/// The master's cyclic request to the one-station group `slave` (RWw and RY data).
pub(crate) fn request(
    out: &mut Vec<u8>,
    master: Ipv4Addr,
    slave: Ipv4Addr,
    seq: u16,
    clock_ms: u64,
    rww: &[u8; 64],
    ry: &[u8; 8],
) {
    let start = out.len();
    out.extend_from_slice(&[0x50, 0x00, 0x00, 0xff, 0xff, 0x03, 0x00]);
    let dl_at = out.len();
    put_u16le(out, 0); // dl, patched
    put_u16le(out, 0x0000); // reserved (monitoring timer)
    put_u16le(out, 0x0e70); // command: cyclic data
    put_u16le(out, 0x0000); // subcommand
    // Cyclic header: protocol version 1, reserved, cyclic info offset 36, reserved.
    put_u16le(out, 1);
    put_u16le(out, 0);
    put_u16le(out, 36);
    out.extend_from_slice(&[0; 14]);
    // Master station notification: running, reserved, clock (ms since epoch).
    put_u16le(out, 1);
    put_u16le(out, 0);
    out.extend_from_slice(&clock_ms.to_le_bytes());
    // Cyclic data header.
    put_u32le(out, ip_le(master));
    out.push(1); // group
    out.push(0);
    put_u16le(out, seq);
    put_u16le(out, 500); // timeout ms
    put_u16le(out, 3); // parallel-off timeout count
    put_u16le(out, 1); // parameter number
    put_u16le(out, 1); // occupied stations
    put_u16le(out, 0x0001); // cyclic transmission state: station 1 on
    put_u16le(out, 0);
    put_u32le(out, ip_le(slave)); // slave id
    out.extend_from_slice(rww);
    out.extend_from_slice(ry);
    let dl = (out.len() - start - 9) as u16;
    out[dl_at..dl_at + 2].copy_from_slice(&dl.to_le_bytes());
}

/// A slave's cyclic response (RWr and RX data).
pub(crate) fn response(out: &mut Vec<u8>, slave: Ipv4Addr, seq: u16, rwr: &[u8; 64], rx: &[u8; 8]) {
    let start = out.len();
    out.extend_from_slice(&[0xd0, 0x00, 0x00, 0xff, 0xff, 0x03, 0x00]);
    let dl_at = out.len();
    put_u16le(out, 0);
    put_u16le(out, 0x0000); // end code
    // Cyclic header: protocol version, end code, offset 40, reserved.
    put_u16le(out, 1);
    put_u16le(out, 0);
    put_u16le(out, 40);
    out.extend_from_slice(&[0; 14]);
    // Slave station notification: vendor code, model code, version, unit info...
    put_u16le(out, 0x0001);
    put_u16le(out, 0);
    put_u32le(out, 0x0000_4e31);
    put_u16le(out, 0x0001);
    put_u16le(out, 0);
    put_u16le(out, 0x0001); // running
    put_u16le(out, 0);
    put_u32le(out, 0);
    // Response data header.
    put_u32le(out, ip_le(slave));
    out.push(1);
    out.push(0);
    put_u16le(out, seq);
    out.extend_from_slice(rwr);
    out.extend_from_slice(rx);
    let dl = (out.len() - start - 9) as u16;
    out[dl_at..dl_at + 2].copy_from_slice(&dl.to_le_bytes());
}
