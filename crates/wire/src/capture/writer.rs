//! Writing capture files: legacy pcap and pcapng, for the simulator and for tests.

use std::io::{self, Write};

use crate::{LinkType, Timestamp};

/// Which file format to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteFormat {
    /// Legacy pcap, little-endian, microsecond timestamps.
    Pcap,
    /// Legacy pcap, little-endian, nanosecond timestamps.
    PcapNanos,
    /// pcapng with one interface and nanosecond resolution.
    PcapNg,
}

/// Writes packets to a pcap or pcapng stream.
#[derive(Debug)]
pub struct CaptureWriter<W: Write> {
    out: W,
    format: WriteFormat,
    snaplen: u32,
    packets: u64,
}

impl<W: Write> CaptureWriter<W> {
    /// Writes the file header (and for pcapng the section and interface blocks).
    pub fn new(mut out: W, format: WriteFormat, link: LinkType) -> io::Result<Self> {
        let snaplen = 262_144u32;
        match format {
            WriteFormat::Pcap | WriteFormat::PcapNanos => {
                let magic: u32 = if format == WriteFormat::Pcap {
                    0xa1b2_c3d4
                } else {
                    0xa1b2_3c4d
                };
                out.write_all(&magic.to_le_bytes())?;
                out.write_all(&2u16.to_le_bytes())?;
                out.write_all(&4u16.to_le_bytes())?;
                out.write_all(&0i32.to_le_bytes())?;
                out.write_all(&0u32.to_le_bytes())?;
                out.write_all(&snaplen.to_le_bytes())?;
                out.write_all(&u32::from(link.0).to_le_bytes())?;
            }
            WriteFormat::PcapNg => {
                // Section header block: no options.
                let mut shb = Vec::with_capacity(28);
                shb.extend_from_slice(&0x0a0d_0d0au32.to_le_bytes());
                shb.extend_from_slice(&28u32.to_le_bytes());
                shb.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
                shb.extend_from_slice(&1u16.to_le_bytes());
                shb.extend_from_slice(&0u16.to_le_bytes());
                shb.extend_from_slice(&(-1i64).to_le_bytes());
                shb.extend_from_slice(&28u32.to_le_bytes());
                out.write_all(&shb)?;
                // Interface description block with if_tsresol = 9 (nanoseconds).
                let mut idb = Vec::with_capacity(32);
                idb.extend_from_slice(&1u32.to_le_bytes());
                idb.extend_from_slice(&32u32.to_le_bytes());
                idb.extend_from_slice(&link.0.to_le_bytes());
                idb.extend_from_slice(&0u16.to_le_bytes());
                idb.extend_from_slice(&snaplen.to_le_bytes());
                idb.extend_from_slice(&9u16.to_le_bytes());
                idb.extend_from_slice(&1u16.to_le_bytes());
                idb.extend_from_slice(&[9, 0, 0, 0]);
                idb.extend_from_slice(&0u32.to_le_bytes()); // opt_endofopt
                idb.extend_from_slice(&32u32.to_le_bytes());
                out.write_all(&idb)?;
            }
        }
        Ok(CaptureWriter {
            out,
            format,
            snaplen,
            packets: 0,
        })
    }

    /// Appends one packet.
    pub fn write_packet(&mut self, ts: Timestamp, data: &[u8]) -> io::Result<()> {
        let cap = data.len().min(self.snaplen as usize);
        let data = &data[..cap];
        match self.format {
            WriteFormat::Pcap | WriteFormat::PcapNanos => {
                let frac = if self.format == WriteFormat::Pcap {
                    ts.subsec_nanos() / 1000
                } else {
                    ts.subsec_nanos()
                };
                let mut h = [0u8; 16];
                h[0..4].copy_from_slice(&(ts.secs() as u32).to_le_bytes());
                h[4..8].copy_from_slice(&frac.to_le_bytes());
                h[8..12].copy_from_slice(&(cap as u32).to_le_bytes());
                h[12..16].copy_from_slice(&(cap as u32).to_le_bytes());
                self.out.write_all(&h)?;
                self.out.write_all(data)?;
            }
            WriteFormat::PcapNg => {
                let padded = (cap + 3) & !3;
                let block_len = (32 + padded) as u32;
                let units = ts.0 as u64;
                let mut h = [0u8; 28];
                h[0..4].copy_from_slice(&6u32.to_le_bytes());
                h[4..8].copy_from_slice(&block_len.to_le_bytes());
                h[8..12].copy_from_slice(&0u32.to_le_bytes());
                h[12..16].copy_from_slice(&((units >> 32) as u32).to_le_bytes());
                h[16..20].copy_from_slice(&(units as u32).to_le_bytes());
                h[20..24].copy_from_slice(&(cap as u32).to_le_bytes());
                h[24..28].copy_from_slice(&(cap as u32).to_le_bytes());
                self.out.write_all(&h)?;
                self.out.write_all(data)?;
                self.out.write_all(&[0u8; 3][..padded - cap])?;
                self.out.write_all(&block_len.to_le_bytes())?;
            }
        }
        self.packets += 1;
        Ok(())
    }

    /// Packets written so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}
