//! Omron FINS over UDP 9600: 10-byte FINS header, 2-byte command code.

use super::put_u16;

/// Command codes.
pub(crate) const MEMORY_AREA_READ: u16 = 0x0101;
pub(crate) const MEMORY_AREA_WRITE: u16 = 0x0102;
pub(crate) const CONTROLLER_DATA_READ: u16 = 0x0501;
pub(crate) const CONTROLLER_STATUS_READ: u16 = 0x0601;

/// Memory area code of the DM area (word access).
const AREA_DM: u8 = 0x82;

/// FINS addressing of one exchange: node numbers are the last octets of the IPs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Nodes {
    pub(crate) client: u8,
    pub(crate) server: u8,
}

fn header(out: &mut Vec<u8>, response: bool, n: Nodes, sid: u8) {
    let (dst, src) = if response {
        (n.client, n.server)
    } else {
        (n.server, n.client)
    };
    // ICF (command, response required / response), RSV, GCT, DNA DA1 DA2, SNA SA1 SA2, SID.
    out.extend_from_slice(&[
        if response { 0xc0 } else { 0x80 },
        0x00,
        0x02,
        0x00,
        dst,
        0x00,
        0x00,
        src,
        0x00,
        sid,
    ]);
}

/// Memory area read of `count` DM words from `addr`.
pub(crate) fn read_req(out: &mut Vec<u8>, n: Nodes, sid: u8, addr: u16, count: u16) {
    header(out, false, n, sid);
    put_u16(out, MEMORY_AREA_READ);
    out.push(AREA_DM);
    put_u16(out, addr);
    out.push(0);
    put_u16(out, count);
}

/// Response with `words`.
pub(crate) fn read_resp(out: &mut Vec<u8>, n: Nodes, sid: u8, words: impl Iterator<Item = u16>) {
    header(out, true, n, sid);
    put_u16(out, MEMORY_AREA_READ);
    put_u16(out, 0x0000); // end code: normal completion
    for w in words {
        put_u16(out, w);
    }
}

/// Memory area write of `words` to DM `addr`.
pub(crate) fn write_req(out: &mut Vec<u8>, n: Nodes, sid: u8, addr: u16, words: &[u16]) {
    header(out, false, n, sid);
    put_u16(out, MEMORY_AREA_WRITE);
    out.push(AREA_DM);
    put_u16(out, addr);
    out.push(0);
    put_u16(out, words.len() as u16);
    for w in words {
        put_u16(out, *w);
    }
}

/// A response carrying only the end code (writes).
pub(crate) fn status_only_resp(out: &mut Vec<u8>, n: Nodes, sid: u8, command: u16) {
    header(out, true, n, sid);
    put_u16(out, command);
    put_u16(out, 0x0000);
}

/// Controller status read request.
pub(crate) fn status_req(out: &mut Vec<u8>, n: Nodes, sid: u8) {
    header(out, false, n, sid);
    put_u16(out, CONTROLLER_STATUS_READ);
}

/// Controller status read response: run mode, no errors.
pub(crate) fn status_resp(out: &mut Vec<u8>, n: Nodes, sid: u8) {
    header(out, true, n, sid);
    put_u16(out, CONTROLLER_STATUS_READ);
    put_u16(out, 0x0000);
    out.push(0x01); // status: run
    out.push(0x04); // mode: run
    put_u16(out, 0); // fatal error data
    put_u16(out, 0); // non-fatal error data
    put_u16(out, 0); // message yes/no
    put_u16(out, 0); // FAL/FALS number
    out.extend_from_slice(&[b' '; 16]); // error message
}

/// Controller data read request (model and version).
pub(crate) fn controller_data_req(out: &mut Vec<u8>, n: Nodes, sid: u8) {
    header(out, false, n, sid);
    put_u16(out, CONTROLLER_DATA_READ);
    out.push(0x00);
}

/// Controller data read response.
pub(crate) fn controller_data_resp(
    out: &mut Vec<u8>,
    n: Nodes,
    sid: u8,
    model: &str,
    version: &str,
) {
    header(out, true, n, sid);
    put_u16(out, CONTROLLER_DATA_READ);
    put_u16(out, 0x0000);
    let mut field = [b' '; 20];
    for (i, b) in model.bytes().take(20).enumerate() {
        field[i] = b;
    }
    out.extend_from_slice(&field);
    let mut field = [b' '; 20];
    for (i, b) in version.bytes().take(20).enumerate() {
        field[i] = b;
    }
    out.extend_from_slice(&field);
    out.extend_from_slice(&[0; 40]); // for system use
    // Area data: program area size, IOM size, DM words, timer/counter size,
    // expansion DM banks, steps/transitions, memory card kind and size.
    out.extend_from_slice(&[
        0x00, 0x3c, 0x17, 0x80, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ]);
}
