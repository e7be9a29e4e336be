//! TLS (RFC 5246, RFC 8446) and SSL 3.0 over TCP: the cleartext handshake, the client
//! fingerprints JA3 and JA4, the server's answer (JA3S) and its certificate.
//!
//! Wire format: records of `content type u8 | version u16 | length u16 | fragment`
//! (fragment at most 2^14 + 2048 bytes). Handshake messages (`type u8 | length u24 |
//! body`) ride in handshake records (type 22); one message may span several records,
//! and one record may hold several messages. After a side's ChangeCipherSpec (type 20)
//! everything it sends is encrypted; TLS 1.3 encrypts everything after ServerHello
//! and sends it as application data (type 23).
//!
//! - [`RecordParser`] is the [`PduParser`] for one record; the first record decides
//!   whether a stream is TLS (content type 20 to 24, version 3.x with x ≤ 4, a length
//!   within bounds), else `NotThisProtocol`. SSL 2.0-format hellos are not recognised.
//! - [`Session`] frames records itself, so that a record's fragment is never buffered:
//!   encrypted records are only counted and their bytes skipped, and a gap inside one is
//!   skipped too. Only cleartext handshake bytes are copied, into a per-direction buffer
//!   of at most [`MAX_HANDSHAKE`] bytes that reassembles messages across records. After
//!   any other gap a direction looks for the next plausible record header (bounded by
//!   [`crate::stream::MAX_RESYNC_BYTES`]) and stops parsing handshake messages.
//! - [`ClientHello`] gives the JA3 string and hash (Salesforce's definition: version,
//!   ciphers, extensions, groups, point formats, GREASE values left out) and JA4 (FoxIO's
//!   `JA4` for TLS clients, BSD-3 licensed, e.g. `t13d1516h2_8daaf6152771_e5627efa2ab1`);
//!   [`ServerHello`] gives JA3S. JA4S and the other JA4+ methods are under the FoxIO
//!   License and are not implemented.
//! - [`certificate`] reads the first certificate of the server's cleartext Certificate
//!   message (TLS ≤ 1.2; a client certificate is not read) with a minimal DER walker:
//!   subject and issuer (CN, O and the whole name) and the validity dates.
//! - One [`TlsRecord`] per connection (Zeek `ssl.log`'s fields) at
//!   [`Session::finish`]. Identity: the certificate's subject CN is a hostname of the
//!   server when it is a plain host name (not a wildcard); SNI names where the client
//!   goes, not who it is, so it is no fact.

use std::fmt::Write as _;

use mamori_flow::Direction;
use md5::{Digest as _, Md5};
use sha2::Sha256;

use crate::contract::{Flags, Parsed, PduParser};
use crate::record::{IdentityFact, IdentityKind, Subject};
use crate::stream::MAX_RESYNC_BYTES;

pub mod certificate;
#[cfg(test)]
mod tests;

/// `tls.jsonl`'s and the identity facts' protocol name.
pub const PROTOCOL: &str = "tls";
/// Ports where TLS is usual (a hint: the content decides): HTTPS, alternative HTTPS,
/// OPC UA over HTTPS, LDAPS, IMAPS, MQTT over TLS.
pub const PORTS: [u16; 6] = [443, 8443, 4843, 636, 993, 8883];
/// Largest record fragment (RFC 5246 §6.2.3: 2^14 + 2048 for ciphertext).
pub const MAX_FRAGMENT: usize = 16384 + 2048;
/// Cleartext handshake bytes buffered per direction, at most (a message spanning more
/// is given up on and flagged `BAD_LENGTH`).
pub const MAX_HANDSHAKE: usize = 64 * 1024;
/// ALPN values and supported versions kept per record, at most.
pub const MAX_LIST: usize = 16;

/// Record content types.
pub mod content_type {
    /// ChangeCipherSpec.
    pub const CHANGE_CIPHER_SPEC: u8 = 20;
    /// Alert.
    pub const ALERT: u8 = 21;
    /// Handshake.
    pub const HANDSHAKE: u8 = 22;
    /// Application data.
    pub const APPLICATION_DATA: u8 = 23;
    /// Heartbeat (RFC 6520).
    pub const HEARTBEAT: u8 = 24;
}

/// Handshake message types used here.
pub mod handshake_type {
    /// ClientHello.
    pub const CLIENT_HELLO: u8 = 1;
    /// ServerHello (also HelloRetryRequest in TLS 1.3).
    pub const SERVER_HELLO: u8 = 2;
    /// Certificate.
    pub const CERTIFICATE: u8 = 11;
}

/// Extension types used here.
pub mod extension {
    /// server_name (SNI).
    pub const SERVER_NAME: u16 = 0;
    /// supported_groups (elliptic_curves).
    pub const SUPPORTED_GROUPS: u16 = 10;
    /// ec_point_formats.
    pub const EC_POINT_FORMATS: u16 = 11;
    /// signature_algorithms.
    pub const SIGNATURE_ALGORITHMS: u16 = 13;
    /// application_layer_protocol_negotiation.
    pub const ALPN: u16 = 16;
    /// supported_versions.
    pub const SUPPORTED_VERSIONS: u16 = 43;
}

/// TLS 1.3's HelloRetryRequest is a ServerHello with this random (RFC 8446 §4.1.3).
const HELLO_RETRY_RANDOM: [u8; 32] = [
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
];

/// Whether `v` is a GREASE value (RFC 8701: 0x0A0A, 0x1A1A, ..., 0xFAFA).
pub fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

/// Zeek's name of a protocol version (`TLSv12`), or `"unknown"`.
pub fn version_name(v: u16) -> &'static str {
    match v {
        0x0300 => "SSLv3",
        0x0301 => "TLSv10",
        0x0302 => "TLSv11",
        0x0303 => "TLSv12",
        0x0304 => "TLSv13",
        _ => "unknown",
    }
}

/// A record header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHeader {
    /// Content type.
    pub content_type: u8,
    /// Record-layer version.
    pub version: u16,
    /// Fragment length.
    pub length: u16,
}

impl RecordHeader {
    /// A plausible record header from 5 bytes, or `None`.
    pub fn parse(b: [u8; 5]) -> Option<RecordHeader> {
        let h = RecordHeader {
            content_type: b[0],
            version: u16::from_be_bytes([b[1], b[2]]),
            length: u16::from_be_bytes([b[3], b[4]]),
        };
        let ok = (20..=24).contains(&h.content_type)
            && b[1] == 3
            && b[2] <= 4
            && h.length > 0
            && usize::from(h.length) <= MAX_FRAGMENT;
        ok.then_some(h)
    }
}

/// One whole record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// Its header.
    pub header: RecordHeader,
    /// Its fragment.
    pub fragment: &'a [u8],
}

/// Parses one record from the front of a byte stream.
#[derive(Debug, Clone, Copy, Default)]
pub struct RecordParser;

impl PduParser for RecordParser {
    type Pdu<'a> = Record<'a>;
    const MAX_PDU: usize = 5 + MAX_FRAGMENT;

    fn parse<'a>(&self, _dir: Direction, input: &'a [u8]) -> Parsed<Record<'a>> {
        // Judge the bytes present before asking for more.
        let mut probe = [20, 3, 0, 0, 1];
        for (p, b) in probe.iter_mut().zip(input) {
            *p = *b;
        }
        let Some(header) = RecordHeader::parse(probe) else {
            return Parsed::NotThisProtocol;
        };
        if input.len() < 5 {
            return Parsed::Incomplete { needed: 5 };
        }
        let total = 5 + usize::from(header.length);
        match input.get(5..total) {
            Some(fragment) => Parsed::Pdu {
                pdu: Record { header, fragment },
                consumed: total,
            },
            None => Parsed::Incomplete { needed: total },
        }
    }
}

/// A cursor over wire bytes whose reads fail (return `None`) instead of panicking.
#[derive(Debug, Clone, Copy)]
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
    fn u24(&mut self) -> Option<usize> {
        self.take(3)
            .map(|b| usize::from(b[0]) << 16 | usize::from(b[1]) << 8 | usize::from(b[2]))
    }
    /// A vector with a `len_bytes`-byte length prefix (1, 2 or 3).
    fn vec(&mut self, len_bytes: u8) -> Option<&'a [u8]> {
        let n = match len_bytes {
            1 => usize::from(self.u8()?),
            2 => usize::from(self.u16()?),
            _ => self.u24()?,
        };
        self.take(n)
    }
}

/// The u16 values of a byte slice (a trailing odd byte is ignored).
fn u16s(b: &[u8]) -> impl Iterator<Item = u16> + '_ {
    b.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]]))
}

/// Walks an extension block: (type, data) until it ends or is malformed.
fn extensions(block: &[u8]) -> impl Iterator<Item = (u16, &[u8])> + '_ {
    let mut c = Cursor(block);
    std::iter::from_fn(move || {
        let t = c.u16()?;
        let data = c.vec(2)?;
        Some((t, data))
    })
}

/// Whether an extension block is well formed (every length fits exactly).
fn extensions_ok(block: &[u8]) -> bool {
    let mut c = Cursor(block);
    while !c.0.is_empty() {
        if c.u16().and_then(|_| c.vec(2)).is_none() {
            return false;
        }
    }
    true
}

/// A ClientHello, borrowing its message body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientHello<'a> {
    /// `legacy_version` (client_version).
    pub version: u16,
    /// Session id.
    pub session_id: &'a [u8],
    /// Cipher suites, raw (pairs of bytes).
    pub cipher_bytes: &'a [u8],
    /// Extensions, raw.
    pub extension_bytes: &'a [u8],
    /// `BAD_LENGTH` when a vector or the extension block is malformed (what parsed is
    /// kept).
    pub flags: Flags,
}

impl<'a> ClientHello<'a> {
    /// Parses a ClientHello message body.
    pub fn parse(body: &'a [u8]) -> Option<ClientHello<'a>> {
        let mut c = Cursor(body);
        let version = c.u16()?;
        c.take(32)?; // random
        let session_id = c.vec(1)?;
        let cipher_bytes = c.vec(2)?;
        c.vec(1)?; // compression methods
        let mut flags = Flags::default();
        if cipher_bytes.len() % 2 != 0 || session_id.len() > 32 {
            flags.set(Flags::BAD_LENGTH);
        }
        let extension_bytes = if c.0.is_empty() {
            &[][..]
        } else {
            match c.vec(2) {
                Some(e) => e,
                None => {
                    flags.set(Flags::BAD_LENGTH);
                    &[][..]
                }
            }
        };
        if !extensions_ok(extension_bytes) {
            flags.set(Flags::BAD_LENGTH);
        }
        Some(ClientHello {
            version,
            session_id,
            cipher_bytes,
            extension_bytes,
            flags,
        })
    }

    /// Cipher suites in order (GREASE included).
    pub fn ciphers(&self) -> impl Iterator<Item = u16> + 'a {
        u16s(self.cipher_bytes)
    }

    /// Extensions as (type, data), in order.
    pub fn extensions(&self) -> impl Iterator<Item = (u16, &'a [u8])> + 'a {
        extensions(self.extension_bytes)
    }

    fn extension(&self, t: u16) -> Option<&'a [u8]> {
        self.extensions().find(|(x, _)| *x == t).map(|(_, d)| d)
    }

    /// The first host name of the server_name extension.
    pub fn server_name(&self) -> Option<&'a [u8]> {
        let mut c = Cursor(self.extension(extension::SERVER_NAME)?);
        let mut list = Cursor(c.vec(2)?);
        while !list.0.is_empty() {
            let kind = list.u8()?;
            let name = list.vec(2)?;
            if kind == 0 {
                return Some(name);
            }
        }
        None
    }

    /// ALPN protocol names offered, in order.
    pub fn alpn(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let list = self
            .extension(extension::ALPN)
            .and_then(|d| Cursor(d).vec(2))
            .unwrap_or_default();
        let mut c = Cursor(list);
        std::iter::from_fn(move || c.vec(1))
    }

    /// Versions of the supported_versions extension, in order (GREASE included).
    pub fn supported_versions(&self) -> impl Iterator<Item = u16> + 'a {
        u16s(
            self.extension(extension::SUPPORTED_VERSIONS)
                .and_then(|d| Cursor(d).vec(1))
                .unwrap_or_default(),
        )
    }

    /// Supported groups (elliptic curves), in order (GREASE included).
    pub fn groups(&self) -> impl Iterator<Item = u16> + 'a {
        u16s(
            self.extension(extension::SUPPORTED_GROUPS)
                .and_then(|d| Cursor(d).vec(2))
                .unwrap_or_default(),
        )
    }

    /// EC point formats, in order.
    pub fn point_formats(&self) -> impl Iterator<Item = u8> + 'a {
        self.extension(extension::EC_POINT_FORMATS)
            .and_then(|d| Cursor(d).vec(1))
            .unwrap_or_default()
            .iter()
            .copied()
    }

    /// Signature algorithms, in order (GREASE included).
    pub fn signature_algorithms(&self) -> impl Iterator<Item = u16> + 'a {
        u16s(
            self.extension(extension::SIGNATURE_ALGORITHMS)
                .and_then(|d| Cursor(d).vec(2))
                .unwrap_or_default(),
        )
    }

    /// The JA3 string: `version,ciphers,extensions,groups,point formats`, each list
    /// decimal and `-`-separated, GREASE values left out.
    pub fn ja3_string(&self) -> String {
        let mut s = String::with_capacity(256);
        let _ = write!(s, "{},", self.version);
        join_dec(&mut s, self.ciphers().filter(|v| !is_grease(*v)));
        s.push(',');
        join_dec(
            &mut s,
            self.extensions().map(|(t, _)| t).filter(|v| !is_grease(*v)),
        );
        s.push(',');
        join_dec(&mut s, self.groups().filter(|v| !is_grease(*v)));
        s.push(',');
        join_dec(&mut s, self.point_formats());
        s
    }

    /// The JA4 fingerprint (`t13d1516h2_8daaf6152771_e5627efa2ab1`) for TLS over TCP.
    pub fn ja4(&self) -> String {
        let version = self
            .supported_versions()
            .filter(|v| !is_grease(*v))
            .max()
            .unwrap_or(self.version);
        let version = match version {
            0x0304 => "13",
            0x0303 => "12",
            0x0302 => "11",
            0x0301 => "10",
            0x0300 => "s3",
            0x0002 => "s2",
            0xfeff => "d1",
            0xfefd => "d2",
            0xfefc => "d3",
            _ => "00",
        };
        let sni = if self.extension(extension::SERVER_NAME).is_some() {
            'd'
        } else {
            'i'
        };
        let mut ciphers: Vec<u16> = self.ciphers().filter(|v| !is_grease(*v)).collect();
        let mut exts: Vec<u16> = self
            .extensions()
            .map(|(t, _)| t)
            .filter(|v| !is_grease(*v))
            .collect();
        let alpn = match self.alpn().next() {
            Some([]) | None => "00".to_string(),
            Some(first) => {
                let (a, z) = (first[0], first[first.len() - 1]);
                if a.is_ascii_alphanumeric() && z.is_ascii_alphanumeric() {
                    format!("{}{}", a as char, z as char)
                } else {
                    let hex = |b: u8| b"0123456789abcdef"[usize::from(b & 0xf)] as char;
                    format!("{}{}", hex(a >> 4), hex(z))
                }
            }
        };
        let mut out = format!(
            "t{version}{sni}{:02}{:02}{alpn}_",
            ciphers.len().min(99),
            exts.len().min(99)
        );
        ciphers.sort_unstable();
        let mut text = String::with_capacity(ciphers.len() * 5);
        join_hex(&mut text, ciphers.iter().copied());
        push_sha256_12(&mut out, &text, ciphers.is_empty());
        out.push('_');
        exts.retain(|&t| t != extension::SERVER_NAME && t != extension::ALPN);
        exts.sort_unstable();
        let empty = exts.is_empty();
        text.clear();
        join_hex(&mut text, exts.into_iter());
        let mut sigs = self
            .signature_algorithms()
            .filter(|v| !is_grease(*v))
            .peekable();
        if sigs.peek().is_some() {
            text.push('_');
            join_hex(&mut text, sigs);
        }
        push_sha256_12(&mut out, &text, empty);
        out
    }
}

fn join_dec<T: std::fmt::Display>(s: &mut String, it: impl Iterator<Item = T>) {
    for (i, v) in it.enumerate() {
        if i > 0 {
            s.push('-');
        }
        let _ = write!(s, "{v}");
    }
}

fn join_hex(s: &mut String, it: impl Iterator<Item = u16>) {
    for (i, v) in it.enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "{v:04x}");
    }
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
}

/// The first 12 hex digits of SHA-256 of `text`, or twelve zeros when `empty`.
fn push_sha256_12(out: &mut String, text: &str, empty: bool) {
    if empty {
        out.push_str("000000000000");
    } else {
        let digest = Sha256::digest(text.as_bytes());
        push_hex(out, digest.get(..6).unwrap_or_default());
    }
}

/// The MD5 of a JA3 or JA3S string, in lower-case hex.
pub fn ja3_hash(ja3_string: &str) -> String {
    let mut out = String::with_capacity(32);
    push_hex(&mut out, &Md5::digest(ja3_string.as_bytes()));
    out
}

/// A ServerHello (or HelloRetryRequest), borrowing its message body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerHello<'a> {
    /// `legacy_version` (server_version).
    pub version: u16,
    /// Whether this is TLS 1.3's HelloRetryRequest.
    pub hello_retry: bool,
    /// Session id.
    pub session_id: &'a [u8],
    /// The chosen cipher suite.
    pub cipher: u16,
    /// Extensions, raw.
    pub extension_bytes: &'a [u8],
    /// `BAD_LENGTH` when the extension block is malformed.
    pub flags: Flags,
}

impl<'a> ServerHello<'a> {
    /// Parses a ServerHello message body.
    pub fn parse(body: &'a [u8]) -> Option<ServerHello<'a>> {
        let mut c = Cursor(body);
        let version = c.u16()?;
        let random = c.take(32)?;
        let session_id = c.vec(1)?;
        let cipher = c.u16()?;
        c.u8()?; // compression method
        let mut flags = Flags::default();
        let extension_bytes = if c.0.is_empty() {
            &[][..]
        } else {
            c.vec(2).unwrap_or_else(|| {
                flags.set(Flags::BAD_LENGTH);
                &[][..]
            })
        };
        if !extensions_ok(extension_bytes) {
            flags.set(Flags::BAD_LENGTH);
        }
        Some(ServerHello {
            version,
            hello_retry: random == HELLO_RETRY_RANDOM,
            session_id,
            cipher,
            extension_bytes,
            flags,
        })
    }

    /// Extensions as (type, data), in order.
    pub fn extensions(&self) -> impl Iterator<Item = (u16, &'a [u8])> + 'a {
        extensions(self.extension_bytes)
    }

    /// The negotiated version: supported_versions when present (TLS 1.3), else
    /// `legacy_version`.
    pub fn selected_version(&self) -> u16 {
        self.extensions()
            .find(|(t, _)| *t == extension::SUPPORTED_VERSIONS)
            .and_then(|(_, d)| Cursor(d).u16())
            .unwrap_or(self.version)
    }

    /// The ALPN protocol the server chose.
    pub fn alpn(&self) -> Option<&'a [u8]> {
        let d = self
            .extensions()
            .find(|(t, _)| *t == extension::ALPN)
            .map(|(_, d)| d)?;
        Cursor(Cursor(d).vec(2)?).vec(1)
    }

    /// The JA3S string: `version,cipher,extensions` (decimal, `-`-separated).
    pub fn ja3s_string(&self) -> String {
        let mut s = format!("{},{},", self.version, self.cipher);
        join_dec(&mut s, self.extensions().map(|(t, _)| t));
        s
    }
}

/// Record counts of one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RecordCounts {
    /// Handshake records (cleartext or not).
    pub handshake: u64,
    /// ChangeCipherSpec records.
    pub change_cipher_spec: u64,
    /// Alert records.
    pub alert: u64,
    /// Application data records.
    pub application_data: u64,
    /// Heartbeat records.
    pub heartbeat: u64,
    /// Application data bytes (fragment lengths, gaps included).
    pub application_bytes: u64,
}

/// One TLS connection: a row of `tls.jsonl` with Zeek `ssl.log`'s fields.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsRecord {
    /// Nanoseconds since the epoch of the ClientHello (or first record).
    pub ts: i64,
    /// The direction the ClientHello travelled.
    pub client_dir: Option<Direction>,
    /// The negotiated version (the server's choice).
    pub version: Option<u16>,
    /// The ClientHello's `legacy_version`.
    pub client_version: Option<u16>,
    /// The client's supported_versions (GREASE left out; at most [`MAX_LIST`]).
    pub client_versions: Vec<u16>,
    /// The chosen cipher suite.
    pub cipher: Option<u16>,
    /// SNI.
    pub server_name: Option<String>,
    /// ALPN values offered (at most [`MAX_LIST`]).
    pub alpn: Vec<String>,
    /// The ALPN value chosen.
    pub next_protocol: Option<String>,
    /// JA3 hash (MD5 of [`TlsRecord::ja3_string`]).
    pub ja3: Option<String>,
    /// JA3 string.
    pub ja3_string: Option<String>,
    /// JA4.
    pub ja4: Option<String>,
    /// JA3S hash.
    pub ja3s: Option<String>,
    /// JA3S string.
    pub ja3s_string: Option<String>,
    /// The first certificate's subject, RFC 4514 order (`CN=host,O=Org,C=JP`).
    pub subject: Option<String>,
    /// Its issuer.
    pub issuer: Option<String>,
    /// Subject common name.
    pub subject_cn: Option<String>,
    /// Subject organisation.
    pub subject_o: Option<String>,
    /// Issuer common name.
    pub issuer_cn: Option<String>,
    /// Issuer organisation.
    pub issuer_o: Option<String>,
    /// Validity start, seconds since the epoch.
    pub not_valid_before: Option<i64>,
    /// Validity end, seconds since the epoch.
    pub not_valid_after: Option<i64>,
    /// The server resumed the client's session (TLS ≤ 1.2: it echoed a session id).
    pub resumed: bool,
    /// The server sent a HelloRetryRequest.
    pub hello_retry: bool,
    /// The handshake completed (≤ 1.2: ChangeCipherSpec both ways; 1.3: encrypted
    /// records both ways after ServerHello).
    pub established: bool,
    /// The last cleartext alert as (level, description).
    pub last_alert: Option<(u8, u8)>,
    /// Records seen, indexed by [`Direction::index`].
    pub records: [RecordCounts; 2],
    /// Violations: `BAD_LENGTH` (malformed hello or message), `RESYNC` (a gap or a bad
    /// record header lost the framing).
    pub flags: Flags,
}

#[derive(Debug, Default)]
struct Side {
    header: [u8; 5],
    header_len: usize,
    /// Fragment bytes of the current record still to come.
    body_left: usize,
    content_type: u8,
    /// Bytes of an alert fragment seen so far.
    alert: [u8; 2],
    alert_len: usize,
    handshake: Vec<u8>,
    /// Handshake parsing stopped (gap, resync, oversize).
    handshake_lost: bool,
    encrypted: bool,
    recognised: bool,
    resyncing: bool,
    resync_skipped: usize,
    dead: bool,
}

/// Per-connection TLS state.
#[derive(Debug, Default)]
pub struct Session {
    sides: [Side; 2],
    record: TlsRecord,
    started: bool,
    client_hello_seen: bool,
    certificate_seen: bool,
    client_session_id: Vec<u8>,
    not_tls: bool,
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl Session {
    /// A fresh session.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the connection was found not to be TLS: nothing more will be parsed.
    pub fn not_tls(&self) -> bool {
        self.not_tls
    }

    /// Whether at least one record was recognised.
    pub fn recognised(&self) -> bool {
        self.sides.iter().any(|s| s.recognised)
    }

    /// The record so far.
    pub fn record(&self) -> &TlsRecord {
        &self.record
    }

    /// Takes in-order bytes travelling in `dir` at `ts` (nanoseconds); the server's
    /// host name (from its certificate) goes to `facts`.
    pub fn on_data(
        &mut self,
        dir: Direction,
        ts: i64,
        bytes: &[u8],
        facts: &mut Vec<IdentityFact>,
    ) {
        let mut input = bytes;
        while !input.is_empty() && !self.not_tls {
            let side = &mut self.sides[dir.index()];
            if side.dead {
                return;
            }
            if side.body_left > 0 {
                let k = side.body_left.min(input.len());
                let (fragment, rest) = input.split_at(k);
                input = rest;
                side.body_left -= k;
                self.on_fragment(dir, ts, fragment, facts);
                continue;
            }
            if side.resyncing {
                input = self.resync(dir, input);
                continue;
            }
            let need = 5 - side.header_len;
            let k = need.min(input.len());
            side.header[side.header_len..side.header_len + k].copy_from_slice(&input[..k]);
            side.header_len += k;
            input = &input[k..];
            if side.header_len < 5 {
                return;
            }
            side.header_len = 0;
            let bytes = side.header;
            match RecordHeader::parse(bytes) {
                Some(h) => self.on_header(dir, ts, h, facts),
                None => {
                    if !self.recognised() {
                        self.not_tls = true;
                        return;
                    }
                    self.record.flags.set(Flags::RESYNC);
                    let side = &mut self.sides[dir.index()];
                    side.resyncing = true;
                    side.resync_skipped = 0;
                    side.handshake_lost = true;
                    side.handshake.clear();
                }
            }
        }
    }

    /// Reassembly skipped `len` bytes in `dir`. Inside an encrypted record the gap is
    /// skipped like its bytes; anywhere else the direction resynchronises and stops
    /// parsing handshake messages.
    pub fn on_gap(&mut self, dir: Direction, len: u64) {
        if len == 0 || self.not_tls {
            return;
        }
        let side = &mut self.sides[dir.index()];
        if side.dead {
            return;
        }
        let inside = side.body_left as u64 >= len;
        if inside {
            // Fits in usize: at most body_left.
            side.body_left -= len as usize;
            if side.content_type != content_type::HANDSHAKE || side.encrypted {
                return;
            }
        } else {
            side.body_left = 0;
            side.header_len = 0;
            side.resyncing = true;
            side.resync_skipped = 0;
        }
        side.handshake_lost = true;
        side.handshake.clear();
        self.record.flags.set(Flags::RESYNC);
    }

    /// The connection ended: its record, if it was TLS.
    pub fn finish(&mut self, records: &mut Vec<TlsRecord>) {
        if !self.started {
            return;
        }
        self.started = false;
        let r = &mut self.record;
        if let Some(client) = r.client_dir {
            let (c, s) = (
                r.records[client.index()],
                r.records[client.reverse().index()],
            );
            r.established = if r.version == Some(0x0304) {
                c.application_data > 0 && s.application_data > 0
            } else {
                r.version.is_some() && c.change_cipher_spec > 0 && s.change_cipher_spec > 0
            };
        }
        records.push(std::mem::take(&mut self.record));
    }

    /// Skips to the next plausible record header; returns the rest of the input.
    fn resync<'a>(&mut self, dir: Direction, input: &'a [u8]) -> &'a [u8] {
        let side = &mut self.sides[dir.index()];
        let found = input.windows(5).position(|w| {
            RecordHeader::parse([w[0], w[1], w[2], w[3], w[4]])
                .is_some_and(|h| h.content_type != content_type::HEARTBEAT)
        });
        let skip = found.unwrap_or(input.len());
        side.resync_skipped = side.resync_skipped.saturating_add(skip);
        if found.is_some() {
            side.resyncing = false;
        } else if side.resync_skipped > MAX_RESYNC_BYTES {
            side.dead = true;
        }
        &input[skip..]
    }

    fn on_header(
        &mut self,
        dir: Direction,
        ts: i64,
        h: RecordHeader,
        _facts: &mut Vec<IdentityFact>,
    ) {
        if !self.started {
            self.started = true;
            self.record.ts = ts;
        }
        let counts = &mut self.record.records[dir.index()];
        let side = &mut self.sides[dir.index()];
        side.recognised = true;
        side.content_type = h.content_type;
        side.body_left = usize::from(h.length);
        side.alert_len = 0;
        match h.content_type {
            content_type::CHANGE_CIPHER_SPEC => {
                counts.change_cipher_spec += 1;
                side.encrypted = true;
                side.handshake.clear();
            }
            content_type::ALERT => counts.alert += 1,
            content_type::HANDSHAKE => counts.handshake += 1,
            content_type::APPLICATION_DATA => {
                counts.application_data += 1;
                counts.application_bytes += u64::from(h.length);
                // TLS 1.3 sends everything after ServerHello this way.
                side.encrypted = true;
            }
            _ => counts.heartbeat += 1,
        }
    }

    fn on_fragment(
        &mut self,
        dir: Direction,
        ts: i64,
        fragment: &[u8],
        facts: &mut Vec<IdentityFact>,
    ) {
        let side = &mut self.sides[dir.index()];
        match side.content_type {
            content_type::ALERT if !side.encrypted => {
                for &b in fragment {
                    if let Some(slot) = side.alert.get_mut(side.alert_len) {
                        *slot = b;
                        side.alert_len += 1;
                    }
                }
                if side.alert_len == 2 && side.body_left == 0 {
                    self.record.last_alert = Some((side.alert[0], side.alert[1]));
                }
            }
            content_type::HANDSHAKE if !side.encrypted && !side.handshake_lost => {
                if side.handshake.len() + fragment.len() > MAX_HANDSHAKE {
                    side.handshake_lost = true;
                    side.handshake = Vec::new();
                    self.record.flags.set(Flags::BAD_LENGTH);
                    return;
                }
                side.handshake.extend_from_slice(fragment);
                self.handshake_messages(dir, ts, facts);
            }
            _ => {}
        }
    }

    /// Takes every whole handshake message buffered in `dir`.
    fn handshake_messages(&mut self, dir: Direction, ts: i64, facts: &mut Vec<IdentityFact>) {
        let mut buf = std::mem::take(&mut self.sides[dir.index()].handshake);
        let mut at = 0;
        while let Some(&[t, a, b, c]) = buf.get(at..at + 4) {
            let len = usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c);
            if len + 4 > MAX_HANDSHAKE {
                let side = &mut self.sides[dir.index()];
                side.handshake_lost = true;
                self.record.flags.set(Flags::BAD_LENGTH);
                return;
            }
            let Some(body) = buf.get(at + 4..at + 4 + len) else {
                break;
            };
            self.on_message(dir, ts, t, body, facts);
            at += 4 + len;
        }
        buf.drain(..at);
        let side = &mut self.sides[dir.index()];
        if !side.encrypted && !side.handshake_lost {
            side.handshake = buf;
        }
    }

    fn on_message(
        &mut self,
        dir: Direction,
        ts: i64,
        t: u8,
        body: &[u8],
        facts: &mut Vec<IdentityFact>,
    ) {
        let r = &mut self.record;
        match t {
            handshake_type::CLIENT_HELLO if !self.client_hello_seen => {
                let Some(ch) = ClientHello::parse(body) else {
                    r.flags.set(Flags::BAD_LENGTH);
                    return;
                };
                self.client_hello_seen = true;
                self.client_session_id = ch.session_id.to_vec();
                r.ts = ts;
                r.client_dir = Some(dir);
                r.client_version = Some(ch.version);
                r.client_versions = ch
                    .supported_versions()
                    .filter(|v| !is_grease(*v))
                    .take(MAX_LIST)
                    .collect();
                r.server_name = ch.server_name().map(text);
                r.alpn = ch.alpn().take(MAX_LIST).map(text).collect();
                let ja3 = ch.ja3_string();
                r.ja3 = Some(ja3_hash(&ja3));
                r.ja3_string = Some(ja3);
                r.ja4 = Some(ch.ja4());
                r.flags.0 |= ch.flags.0;
            }
            handshake_type::SERVER_HELLO => {
                let Some(sh) = ServerHello::parse(body) else {
                    r.flags.set(Flags::BAD_LENGTH);
                    return;
                };
                let version = sh.selected_version();
                r.version = Some(version);
                r.cipher = Some(sh.cipher);
                r.next_protocol = sh.alpn().map(text);
                r.hello_retry |= sh.hello_retry;
                let ja3s = sh.ja3s_string();
                r.ja3s = Some(ja3_hash(&ja3s));
                r.ja3s_string = Some(ja3s);
                r.resumed = version < 0x0304
                    && !sh.session_id.is_empty()
                    && sh.session_id == self.client_session_id.as_slice();
                r.flags.0 |= sh.flags.0;
                if version >= 0x0304 && !sh.hello_retry {
                    // The rest of the server's flight is encrypted.
                    self.sides[dir.index()].encrypted = true;
                }
            }
            handshake_type::CERTIFICATE if !self.certificate_seen && r.client_dir != Some(dir) => {
                self.certificate_seen = true;
                let first = Cursor(body).vec(3).and_then(|list| Cursor(list).vec(3));
                let Some(cert) = first.and_then(certificate::Certificate::parse) else {
                    r.flags.set(Flags::BAD_LENGTH);
                    return;
                };
                r.resumed = false;
                r.subject = Some(cert.subject.to_string());
                r.issuer = Some(cert.issuer.to_string());
                r.subject_cn = cert.subject.get(certificate::attribute::COMMON_NAME);
                r.subject_o = cert.subject.get(certificate::attribute::ORGANIZATION);
                r.issuer_cn = cert.issuer.get(certificate::attribute::COMMON_NAME);
                r.issuer_o = cert.issuer.get(certificate::attribute::ORGANIZATION);
                r.not_valid_before = cert.not_before;
                r.not_valid_after = cert.not_after;
                if let Some(cn) = r.subject_cn.as_deref().filter(|cn| is_host_name(cn)) {
                    facts.push(IdentityFact {
                        about: Subject::Side(dir),
                        kind: IdentityKind::Hostname,
                        value: cn.to_string(),
                        protocol: PROTOCOL,
                    });
                }
            }
            _ => {}
        }
    }
}

/// Whether a certificate's CN is a plain host name: letters, digits, `-`, `_` and
/// dots, no wildcard, at most 253 characters.
pub fn is_host_name(cn: &str) -> bool {
    !cn.is_empty()
        && cn.len() <= 253
        && !cn.starts_with('.')
        && cn
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}
