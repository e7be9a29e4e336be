//! Payload builders, one module per protocol.
//!
//! Each module writes request and response PDUs into a caller's buffer with the
//! framing the specification (and Wireshark's dissector) expects. Connection-oriented
//! OT protocols also implement [`Dialect`]: a client's side of one TCP session that
//! the polling processes drive with abstract operations.

pub(crate) mod bacnet;
pub(crate) mod cclink;
pub(crate) mod dcp;
pub(crate) mod dhcp;
pub(crate) mod dnp3;
pub(crate) mod dns;
pub(crate) mod enip;
pub(crate) mod fins;
pub(crate) mod iec104;
pub(crate) mod lldp;
pub(crate) mod modbus;
pub(crate) mod nbns;
pub(crate) mod opcua;
pub(crate) mod s7;
pub(crate) mod slmp;
pub(crate) mod web;

use mamori_wire::Timestamp;

use crate::net::{Ctx, Tcp};
use crate::rng::Rng;

/// What a client asks of a server, in the function categories of DESIGN.md §3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// Cyclic or operator reads.
    Read,
    /// Setpoint / recipe writes.
    Write,
    /// Device identification.
    Identify,
    /// Diagnostics (status, SZL, ...).
    Diagnostic,
    /// Run/stop control (only attacks use it).
    Control,
    /// Program download (only attacks use it).
    Program,
}

/// A client's side of one TCP session of an OT protocol.
pub(crate) trait Dialect {
    /// The server's TCP port.
    fn port(&self) -> u16;

    /// What the client sends right after the handshake (COTP connect, session
    /// registration, ...). Returns the time the setup is done.
    fn setup(
        &mut self,
        _tcp: &mut Tcp,
        _cx: &mut Ctx<'_, '_>,
        t: Timestamp,
        _rng: &mut Rng,
    ) -> Timestamp {
        t
    }

    /// One request and its response. Returns the time the exchange is over.
    fn op(
        &mut self,
        op: Op,
        tcp: &mut Tcp,
        cx: &mut Ctx<'_, '_>,
        t: Timestamp,
        rng: &mut Rng,
    ) -> Timestamp;

    /// What the client sends before closing (session unregistration, ...).
    fn teardown(
        &mut self,
        _tcp: &mut Tcp,
        _cx: &mut Ctx<'_, '_>,
        t: Timestamp,
        _rng: &mut Rng,
    ) -> Timestamp {
        t
    }
}

/// Appends a big-endian u16.
pub(crate) fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// Appends a big-endian u32.
pub(crate) fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// Appends a little-endian u16.
pub(crate) fn put_u16le(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Appends a little-endian u32.
pub(crate) fn put_u32le(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Writes a big-endian u16 at `at`.
pub(crate) fn patch_u16(out: &mut [u8], at: usize, v: u16) {
    out[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

/// Writes a little-endian u16 at `at`.
pub(crate) fn patch_u16le(out: &mut [u8], at: usize, v: u16) {
    out[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

/// Writes a little-endian u32 at `at`.
pub(crate) fn patch_u32le(out: &mut [u8], at: usize, v: u32) {
    out[at..at + 4].copy_from_slice(&v.to_le_bytes());
}
