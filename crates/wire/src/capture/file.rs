//! pcap and pcapng files, read through one reusable buffer.
//!
//! [`CaptureFile`] reads records one at a time and lends each out as a [`Packet`]
//! that borrows the file's buffer: no copy and no allocation per packet. Its
//! two-step interface ([`CaptureFile::current`] then [`CaptureFile::advance`]) lets
//! [`super::merge`] look at the next timestamp of every open file before choosing
//! which to take.
//!
//! Damage is reported, never hidden: a file that ends in the middle of a record, or
//! whose record lengths lie, yields every good record before the damage and then a
//! [`FileError`] that names the byte offset.
//!
//! Why our own reader rather than `pcap-parser`: we need the peek/advance shape for
//! merging, byte offsets in every error, a hard cap on what a lying length can make us
//! buffer, and per-interface `if_tsresol`/`if_tsoffset` applied in one place. Both
//! formats are small; the reader is fuzzed (`fuzz/fuzz_targets/capture_file.rs`).

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

use super::Packet;
use crate::{LinkType, Timestamp};

/// The largest record (pcap) or block (pcapng) accepted, in bytes. Real snapshot
/// lengths are at most 256 KiB; anything beyond this is a lying length.
pub const MAX_RECORD_LEN: usize = 16 * 1024 * 1024;

const INITIAL_BUFFER: usize = 1024 * 1024;
const MAX_INTERFACES: usize = 4096;

/// What went wrong with a capture file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The file does not start like a pcap or pcapng file.
    #[error("{path}: not a pcap or pcapng file (starts with {magic:02x?})")]
    NotACapture {
        /// The file.
        path: PathBuf,
        /// Its first bytes.
        magic: Vec<u8>,
    },
    /// The file ends inside a header or record.
    #[error(
        "{path}: truncated at byte {offset}: {what} needs {needed} bytes, only {available} left"
    )]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Byte offset (in the uncompressed stream) where the incomplete piece starts.
        offset: u64,
        /// What was being read.
        what: &'static str,
        /// Bytes that piece needs.
        needed: usize,
        /// Bytes that were left.
        available: usize,
    },
    /// A header or record is inconsistent (a lying length, a bad magic, ...).
    #[error("{path}: malformed at byte {offset}: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// Byte offset (in the uncompressed stream) of the bad piece.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// The capture's link type is one mamori does not decode.
    #[error("{path}: unsupported link type {link}")]
    UnsupportedLinkType {
        /// The file.
        path: PathBuf,
        /// The link type.
        link: LinkType,
    },
}

/// The on-disk format of a capture file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Legacy pcap.
    Pcap {
        /// Timestamps carry nanoseconds rather than microseconds.
        nanos: bool,
        /// The file is big-endian.
        big_endian: bool,
        /// Kuznetzov's modified pcap, with 8 extra bytes per record header.
        modified: bool,
    },
    /// pcapng.
    PcapNg,
}

#[derive(Debug, Clone, Copy)]
struct Interface {
    link: LinkType,
    snaplen: u32,
    /// Timestamp units per second are 10^exp (`decimal`) or 2^exp.
    tsresol_exp: u8,
    tsresol_decimal: bool,
    tsoffset_secs: i64,
}

impl Interface {
    fn new(link: LinkType, snaplen: u32) -> Self {
        Interface {
            link,
            snaplen,
            tsresol_exp: 6,
            tsresol_decimal: true,
            tsoffset_secs: 0,
        }
    }

    fn timestamp(&self, units: u64) -> Timestamp {
        // The common resolutions (micro- and nanoseconds, no offset) in plain integers.
        if self.tsresol_decimal && self.tsresol_exp <= 9 && self.tsoffset_secs == 0 {
            let scale = 10u64.pow(9 - u32::from(self.tsresol_exp));
            if let Some(n) = units.checked_mul(scale)
                && n <= i64::MAX as u64
            {
                return Timestamp(n as i64);
            }
        }
        let nanos: i128 = if self.tsresol_decimal {
            let exp = u32::from(self.tsresol_exp);
            if exp <= 9 {
                i128::from(units) * 10i128.pow(9 - exp)
            } else {
                // 10^exp overflows i128 past exp 38; such resolutions are nonsense anyway.
                i128::from(units) / 10i128.checked_pow(exp - 9).unwrap_or(i128::MAX)
            }
        } else {
            let exp = u32::from(self.tsresol_exp).min(120);
            (i128::from(units) * 1_000_000_000) >> exp
        };
        let nanos = nanos + i128::from(self.tsoffset_secs) * 1_000_000_000;
        Timestamp(nanos.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
    }
}

/// Where the current record's bytes sit in the buffer.
#[derive(Debug, Clone, Copy)]
struct Current {
    ts: Timestamp,
    link: LinkType,
    data_start: usize,
    data_len: usize,
    orig_len: u32,
    /// Bytes of the whole record, consumed by [`CaptureFile::advance`].
    record_len: usize,
}

/// An open capture file, read record by record.
pub struct CaptureFile {
    path: PathBuf,
    reader: Box<dyn Read + Send>,
    buf: Vec<u8>,
    /// Unconsumed bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    /// Stream offset of `buf[start]`.
    offset: u64,
    eof: bool,
    format: Format,
    pcapng_big_endian: bool,
    interfaces: Vec<Interface>,
    /// Last timestamp seen, for pcapng simple packet blocks (which carry none).
    last_ts: Timestamp,
    current: Option<Current>,
    compressed: bool,
    records: u64,
    /// Packets skipped because their interface has a link type we don't decode.
    unsupported_link_packets: u64,
}

impl std::fmt::Debug for CaptureFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureFile")
            .field("path", &self.path)
            .field("format", &self.format)
            .finish()
    }
}

impl CaptureFile {
    /// Opens a capture file, detecting gzip compression and the format.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, FileError> {
        let path = path.as_ref().to_path_buf();
        let mut file = File::open(&path).map_err(|source| FileError::Io {
            path: path.clone(),
            source,
        })?;
        let mut magic = [0u8; 2];
        let n = read_fully(&mut file, &mut magic).map_err(|source| FileError::Io {
            path: path.clone(),
            source,
        })?;
        let compressed = n == 2 && magic == [0x1f, 0x8b];
        let head = std::io::Cursor::new(magic[..n].to_vec());
        let reader: Box<dyn Read + Send> = if compressed {
            Box::new(MultiGzDecoder::new(head.chain(file)))
        } else {
            Box::new(head.chain(file))
        };
        Self::from_reader(path, reader, compressed)
    }

    /// Reads a capture from any byte stream (already decompressed). `name` is used in errors.
    pub fn from_reader(
        name: PathBuf,
        reader: Box<dyn Read + Send>,
        compressed: bool,
    ) -> Result<Self, FileError> {
        let mut file = CaptureFile {
            path: name,
            reader,
            buf: vec![0; INITIAL_BUFFER],
            start: 0,
            end: 0,
            offset: 0,
            eof: false,
            format: Format::PcapNg,
            pcapng_big_endian: false,
            interfaces: Vec::new(),
            last_ts: Timestamp(0),
            current: None,
            compressed,
            records: 0,
            unsupported_link_packets: 0,
        };
        file.read_file_header()?;
        file.fill_next()?;
        Ok(file)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Whether the file was gzip-compressed.
    pub fn is_compressed(&self) -> bool {
        self.compressed
    }

    /// Bytes of the (uncompressed) stream consumed so far.
    pub fn position(&self) -> u64 {
        self.offset
    }

    /// Packet records read so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Packets skipped because their pcapng interface has an unsupported link type.
    pub fn unsupported_link_packets(&self) -> u64 {
        self.unsupported_link_packets
    }

    /// The packet at the head of the file, if any remain.
    pub fn current(&self) -> Option<Packet<'_>> {
        self.current.map(|c| Packet {
            ts: c.ts,
            link: c.link,
            data: &self.buf[c.data_start..c.data_start + c.data_len],
            orig_len: c.orig_len,
        })
    }

    /// The timestamp of the packet at the head of the file.
    pub fn current_ts(&self) -> Option<Timestamp> {
        self.current.map(|c| c.ts)
    }

    /// Drops the current packet and reads the next one. On error the file is finished:
    /// [`Self::current`] returns `None` afterwards.
    pub fn advance(&mut self) -> Result<(), FileError> {
        if let Some(c) = self.current.take() {
            self.consume(c.record_len);
        }
        let result = self.fill_next();
        if result.is_err() {
            self.current = None;
        }
        result
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        self.offset += n as u64;
    }

    /// Makes at least `n` unconsumed bytes available; returns how many are available,
    /// fewer than `n` only at the end of the stream.
    #[inline]
    fn ensure(&mut self, n: usize) -> Result<usize, FileError> {
        if self.end - self.start >= n {
            return Ok(n);
        }
        self.refill(n)
    }

    /// The slow path of [`Self::ensure`]: compact the buffer and read more.
    #[cold]
    fn refill(&mut self, n: usize) -> Result<usize, FileError> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() < n {
            self.buf
                .resize(n.next_power_of_two().min(MAX_RECORD_LEN + 64).max(n), 0);
        }
        while self.end < n && !self.eof {
            match self.reader.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(k) => self.end += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    // A cut gzip file: the compressed stream ends before its trailer.
                    // That is a truncated capture, not a failing disk.
                    self.eof = true;
                    let what = if self.compressed {
                        "compressed stream"
                    } else {
                        "stream"
                    };
                    return Err(self.truncated(what, n, self.end - self.start));
                }
                Err(source) => {
                    // A corrupt gzip stream surfaces here as InvalidInput/InvalidData.
                    if matches!(
                        source.kind(),
                        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData
                    ) {
                        return Err(
                            self.malformed(0, format!("compressed stream is corrupt: {source}"))
                        );
                    }
                    return Err(FileError::Io {
                        path: self.path.clone(),
                        source,
                    });
                }
            }
        }
        Ok((self.end - self.start).min(n))
    }

    fn bytes(&self, at: usize, len: usize) -> &[u8] {
        &self.buf[self.start + at..self.start + at + len]
    }

    fn truncated(&self, what: &'static str, needed: usize, available: usize) -> FileError {
        FileError::Truncated {
            path: self.path.clone(),
            offset: self.offset,
            what,
            needed,
            available,
        }
    }

    fn malformed(&self, at: usize, reason: String) -> FileError {
        FileError::Malformed {
            path: self.path.clone(),
            offset: self.offset + at as u64,
            reason,
        }
    }

    fn read_file_header(&mut self) -> Result<(), FileError> {
        let got = self.ensure(24)?;
        let magic: [u8; 4] = if got >= 4 {
            self.bytes(0, 4).try_into().unwrap_or([0; 4])
        } else {
            [0; 4]
        };
        let pcap = match magic {
            [0xd4, 0xc3, 0xb2, 0xa1] => Some((false, false, false)),
            [0xa1, 0xb2, 0xc3, 0xd4] => Some((false, true, false)),
            [0x4d, 0x3c, 0xb2, 0xa1] => Some((true, false, false)),
            [0xa1, 0xb2, 0x3c, 0x4d] => Some((true, true, false)),
            [0x34, 0xcd, 0xb2, 0xa1] => Some((false, false, true)),
            [0xa1, 0xb2, 0xcd, 0x34] => Some((false, true, true)),
            _ => None,
        };
        if let Some((nanos, big_endian, modified)) = pcap {
            if got < 24 {
                return Err(self.truncated("pcap file header", 24, got));
            }
            self.format = Format::Pcap {
                nanos,
                big_endian,
                modified,
            };
            let rd = Endian(big_endian);
            let snaplen = rd.u32(self.bytes(16, 4));
            // The upper bits of the link type field carry FCS information.
            let link = LinkType((rd.u32(self.bytes(20, 4)) & 0xffff) as u16);
            if !link.is_supported() {
                return Err(FileError::UnsupportedLinkType {
                    path: self.path.clone(),
                    link,
                });
            }
            let mut iface = Interface::new(link, snaplen);
            iface.tsresol_exp = if nanos { 9 } else { 6 };
            self.interfaces.push(iface);
            self.consume(24);
            return Ok(());
        }
        if magic == [0x0a, 0x0d, 0x0d, 0x0a] {
            self.format = Format::PcapNg;
            // The section header block is read by `fill_next` like any other block.
            return Ok(());
        }
        let shown = self.bytes(0, got.min(8)).to_vec();
        Err(FileError::NotACapture {
            path: self.path.clone(),
            magic: shown,
        })
    }

    /// Positions `current` on the next packet record, skipping non-packet blocks.
    #[inline]
    fn fill_next(&mut self) -> Result<(), FileError> {
        self.current = None;
        match self.format {
            Format::Pcap {
                big_endian,
                modified,
                ..
            } => self.fill_next_pcap(Endian(big_endian), modified),
            Format::PcapNg => self.fill_next_pcapng(),
        }
    }

    /// A pcap record: one check that its header is buffered, one that its data is.
    /// Timestamps are seconds and micro- or nanoseconds, both 32-bit, so
    /// `secs * 10^9 + frac * scale` always fits an `i64` and needs no overflow checks.
    #[inline]
    fn fill_next_pcap(&mut self, rd: Endian, modified: bool) -> Result<(), FileError> {
        let header_len = if modified { 24 } else { 16 };
        let got = self.ensure(header_len)?;
        if got < header_len {
            return self.pcap_end(header_len, got);
        }
        let h: [u8; 16] = *self.buf[self.start..]
            .first_chunk()
            .expect("the record header is buffered");
        let field = |i: usize| rd.u32(&h[i..i + 4]);
        let (secs, frac, orig) = (field(0), field(4), field(12));
        let incl = field(8) as usize;
        if incl > MAX_RECORD_LEN {
            return Err(self.malformed(
                8,
                format!("record length {incl} exceeds the {MAX_RECORD_LEN}-byte limit"),
            ));
        }
        let record_len = header_len + incl;
        let got = self.ensure(record_len)?;
        if got < record_len {
            return Err(self.truncated("pcap record", record_len, got));
        }
        let iface = &self.interfaces[0];
        let frac_scale = if iface.tsresol_exp == 9 { 1 } else { 1000 };
        let nanos = i64::from(secs) * 1_000_000_000 + i64::from(frac) * frac_scale;
        self.current = Some(Current {
            ts: Timestamp(nanos),
            link: iface.link,
            data_start: self.start + header_len,
            data_len: incl,
            orig_len: orig,
            record_len,
        });
        self.records += 1;
        Ok(())
    }

    /// Fewer than a record header's bytes are left: the clean end, or a cut record.
    #[cold]
    fn pcap_end(&self, header_len: usize, got: usize) -> Result<(), FileError> {
        if got == 0 {
            return Ok(());
        }
        Err(self.truncated("pcap record header", header_len, got))
    }

    fn fill_next_pcapng(&mut self) -> Result<(), FileError> {
        loop {
            let got = self.ensure(12)?;
            if got == 0 {
                return Ok(());
            }
            if got < 12 {
                return Err(self.truncated("pcapng block header", 12, got));
            }
            let block_type_raw: [u8; 4] = self.bytes(0, 4).try_into().unwrap_or([0; 4]);
            if block_type_raw == [0x0a, 0x0d, 0x0d, 0x0a] {
                self.read_section_header()?;
                continue;
            }
            if self.interfaces.is_empty() && self.offset == 0 {
                return Err(self.malformed(
                    0,
                    "pcapng file does not start with a section header block".into(),
                ));
            }
            let rd = Endian(self.pcapng_big_endian);
            let block_type = rd.u32(&block_type_raw);
            let block_len = rd.u32(self.bytes(4, 4)) as usize;
            if block_len < 12 || !block_len.is_multiple_of(4) || block_len > MAX_RECORD_LEN {
                return Err(self.malformed(4, format!("block length {block_len} is invalid")));
            }
            let got = self.ensure(block_len)?;
            if got < block_len {
                return Err(self.truncated("pcapng block", block_len, got));
            }
            self.check_trailer(block_len, rd)?;
            match block_type {
                1 => self.read_interface_description(block_len, rd)?,
                2 | 3 | 6 => {
                    if let Some(current) = self.read_packet_block(block_type, block_len, rd)? {
                        self.current = Some(current);
                        self.records += 1;
                        return Ok(());
                    }
                }
                _ => {}
            }
            self.consume(block_len);
        }
    }

    fn read_section_header(&mut self) -> Result<(), FileError> {
        let got = self.ensure(28)?;
        if got < 28 {
            return Err(self.truncated("pcapng section header", 28, got));
        }
        let bom: [u8; 4] = self.bytes(8, 4).try_into().unwrap_or([0; 4]);
        self.pcapng_big_endian = match bom {
            [0x1a, 0x2b, 0x3c, 0x4d] => true,
            [0x4d, 0x3c, 0x2b, 0x1a] => false,
            _ => return Err(self.malformed(8, format!("bad byte-order magic {bom:02x?}"))),
        };
        let rd = Endian(self.pcapng_big_endian);
        let block_len = rd.u32(self.bytes(4, 4)) as usize;
        if block_len < 28 || !block_len.is_multiple_of(4) || block_len > MAX_RECORD_LEN {
            return Err(self.malformed(4, format!("section header length {block_len} is invalid")));
        }
        let got = self.ensure(block_len)?;
        if got < block_len {
            return Err(self.truncated("pcapng section header", block_len, got));
        }
        self.check_trailer(block_len, rd)?;
        // A new section starts a new set of interfaces.
        self.interfaces.clear();
        self.consume(block_len);
        Ok(())
    }

    /// Checks that the block of `block_len` bytes at the head of the buffer (all of it
    /// available) ends with the same length.
    fn check_trailer(&self, block_len: usize, rd: Endian) -> Result<(), FileError> {
        let trailer = rd.u32(self.bytes(block_len - 4, 4)) as usize;
        if trailer != block_len {
            return Err(self.malformed(
                block_len - 4,
                format!("block length {block_len} does not match its trailing copy {trailer}"),
            ));
        }
        Ok(())
    }

    fn read_interface_description(
        &mut self,
        block_len: usize,
        rd: Endian,
    ) -> Result<(), FileError> {
        if block_len < 20 {
            return Err(self.malformed(
                0,
                format!("interface description block of {block_len} bytes"),
            ));
        }
        if self.interfaces.len() >= MAX_INTERFACES {
            return Err(self.malformed(0, format!("more than {MAX_INTERFACES} interfaces")));
        }
        let link = LinkType(rd.u16(self.bytes(8, 2)));
        let snaplen = rd.u32(self.bytes(12, 4));
        let mut iface = Interface::new(link, snaplen);
        let options = self.bytes(16, block_len - 20);
        for (code, value) in OptionIter::new(options, rd) {
            match (code, value.len()) {
                (9, 1..) => {
                    iface.tsresol_decimal = value[0] & 0x80 == 0;
                    iface.tsresol_exp = value[0] & 0x7f;
                }
                (14, 8..) => iface.tsoffset_secs = rd.u64(&value[..8]) as i64,
                _ => {}
            }
        }
        self.interfaces.push(iface);
        Ok(())
    }

    fn read_packet_block(
        &mut self,
        block_type: u32,
        block_len: usize,
        rd: Endian,
    ) -> Result<Option<Current>, FileError> {
        let body = self.bytes(8, block_len - 12);
        let (iface_id, ts_units, cap_len, orig_len, data_at) = match block_type {
            6 => {
                if body.len() < 20 {
                    return Err(self.malformed(0, "enhanced packet block too short".into()));
                }
                let ts = (u64::from(rd.u32(&body[4..8])) << 32) | u64::from(rd.u32(&body[8..12]));
                (
                    rd.u32(&body[0..4]) as usize,
                    Some(ts),
                    rd.u32(&body[12..16]) as usize,
                    rd.u32(&body[16..20]),
                    20,
                )
            }
            2 => {
                if body.len() < 20 {
                    return Err(self.malformed(0, "packet block too short".into()));
                }
                let ts = (u64::from(rd.u32(&body[4..8])) << 32) | u64::from(rd.u32(&body[8..12]));
                (
                    usize::from(rd.u16(&body[0..2])),
                    Some(ts),
                    rd.u32(&body[12..16]) as usize,
                    rd.u32(&body[16..20]),
                    20,
                )
            }
            _ => {
                // Simple packet block: original length only; the data fills the block.
                if body.len() < 4 {
                    return Err(self.malformed(0, "simple packet block too short".into()));
                }
                let orig = rd.u32(&body[0..4]);
                let snap = self.interfaces.first().map_or(u32::MAX, |i| {
                    if i.snaplen == 0 { u32::MAX } else { i.snaplen }
                });
                let cap = (orig.min(snap) as usize).min(body.len() - 4);
                (0, None, cap, orig, 4)
            }
        };
        if data_at + cap_len > body.len() {
            return Err(self.malformed(
                8 + data_at,
                format!("captured length {cap_len} overruns its {block_len}-byte block"),
            ));
        }
        let Some(iface) = self.interfaces.get(iface_id).copied() else {
            return Err(self.malformed(
                8,
                format!("packet refers to interface {iface_id}, which was never described"),
            ));
        };
        if !iface.link.is_supported() {
            self.unsupported_link_packets += 1;
            return Ok(None);
        }
        let ts = match ts_units {
            Some(units) => iface.timestamp(units),
            None => self.last_ts,
        };
        self.last_ts = ts;
        Ok(Some(Current {
            ts,
            link: iface.link,
            data_start: self.start + 8 + data_at,
            data_len: cap_len,
            orig_len,
            record_len: block_len,
        }))
    }
}

/// Reads until `buf` is full or the stream ends; returns the bytes read.
fn read_fully(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Reads integers in a file's byte order. Callers pass slices of the right length.
#[derive(Debug, Clone, Copy)]
struct Endian(bool);

impl Endian {
    fn u16(self, b: &[u8]) -> u16 {
        let a = [b[0], b[1]];
        if self.0 {
            u16::from_be_bytes(a)
        } else {
            u16::from_le_bytes(a)
        }
    }
    fn u32(self, b: &[u8]) -> u32 {
        let a = [b[0], b[1], b[2], b[3]];
        if self.0 {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        }
    }
    fn u64(self, b: &[u8]) -> u64 {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[..8]);
        if self.0 {
            u64::from_be_bytes(a)
        } else {
            u64::from_le_bytes(a)
        }
    }
}

/// Walks pcapng options (code, length, value padded to 4) until `opt_endofopt` or the end.
struct OptionIter<'a> {
    rest: &'a [u8],
    rd: Endian,
}

impl<'a> OptionIter<'a> {
    fn new(rest: &'a [u8], rd: Endian) -> Self {
        OptionIter { rest, rd }
    }
}

impl<'a> Iterator for OptionIter<'a> {
    type Item = (u16, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.len() < 4 {
            return None;
        }
        let code = self.rd.u16(&self.rest[0..2]);
        let len = usize::from(self.rd.u16(&self.rest[2..4]));
        if code == 0 {
            return None;
        }
        let padded = (len + 3) & !3;
        if 4 + padded > self.rest.len() && 4 + len > self.rest.len() {
            return None;
        }
        let value = &self.rest[4..4 + len];
        self.rest = self.rest.get(4 + padded..).unwrap_or(&[]);
        Some((code, value))
    }
}
