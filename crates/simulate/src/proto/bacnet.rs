//! BACnet/IP (ASHRAE 135 Annex J): BVLC + NPDU + APDU over UDP 47808.

use super::{patch_u16, put_u16};

/// Object types.
pub(crate) const OBJ_ANALOG_INPUT: u16 = 0;
pub(crate) const OBJ_DEVICE: u16 = 8;
/// Property identifier present-value.
pub(crate) const PROP_PRESENT_VALUE: u8 = 85;

fn bvlc_begin(out: &mut Vec<u8>, broadcast: bool) -> usize {
    let s = out.len();
    out.push(0x81);
    out.push(if broadcast { 0x0b } else { 0x0a });
    put_u16(out, 0);
    s
}

fn bvlc_end(out: &mut [u8], s: usize) {
    let n = (out.len() - s) as u16;
    patch_u16(out, s + 2, n);
}

fn object_id(kind: u16, instance: u32) -> [u8; 4] {
    ((u32::from(kind) << 22) | (instance & 0x3f_ffff)).to_be_bytes()
}

/// Global Who-Is (unconfirmed request 8), broadcast.
pub(crate) fn who_is(out: &mut Vec<u8>) {
    let s = bvlc_begin(out, true);
    // NPDU: version 1, control 0x20 (destination present), DNET 0xFFFF, DLEN 0, hop count.
    out.extend_from_slice(&[0x01, 0x20, 0xff, 0xff, 0x00, 0xff]);
    out.extend_from_slice(&[0x10, 0x08]);
    bvlc_end(out, s);
}

/// I-Am (unconfirmed request 0) from device `instance`, broadcast.
pub(crate) fn i_am(out: &mut Vec<u8>, instance: u32, vendor: u8) {
    let s = bvlc_begin(out, true);
    out.extend_from_slice(&[0x01, 0x00]);
    out.extend_from_slice(&[0x10, 0x00]);
    out.push(0xc4); // application tag 12 (object id), length 4
    out.extend_from_slice(&object_id(OBJ_DEVICE, instance));
    out.extend_from_slice(&[0x22, 0x05, 0xc4]); // max APDU 1476
    out.extend_from_slice(&[0x91, 0x03]); // segmentation: none
    out.extend_from_slice(&[0x21, vendor]); // vendor id
    bvlc_end(out, s);
}

/// ReadProperty confirmed request for present-value of an analog input.
pub(crate) fn read_property_req(out: &mut Vec<u8>, invoke: u8, instance: u32) {
    let s = bvlc_begin(out, false);
    out.extend_from_slice(&[0x01, 0x04]); // expecting reply
    out.extend_from_slice(&[0x00, 0x05, invoke, 0x0c]); // confirmed, max 1476, readProperty
    out.push(0x0c); // context tag 0, length 4
    out.extend_from_slice(&object_id(OBJ_ANALOG_INPUT, instance));
    out.extend_from_slice(&[0x19, PROP_PRESENT_VALUE]); // context tag 1, length 1
    bvlc_end(out, s);
}

/// ReadProperty complex ACK carrying a REAL.
pub(crate) fn read_property_ack(out: &mut Vec<u8>, invoke: u8, instance: u32, value: f32) {
    let s = bvlc_begin(out, false);
    out.extend_from_slice(&[0x01, 0x00]);
    out.extend_from_slice(&[0x30, invoke, 0x0c]);
    out.push(0x0c);
    out.extend_from_slice(&object_id(OBJ_ANALOG_INPUT, instance));
    out.extend_from_slice(&[0x19, PROP_PRESENT_VALUE]);
    out.push(0x3e); // opening tag 3
    out.push(0x44); // application tag 4 (REAL), length 4
    out.extend_from_slice(&value.to_be_bytes());
    out.push(0x3f); // closing tag 3
    bvlc_end(out, s);
}
