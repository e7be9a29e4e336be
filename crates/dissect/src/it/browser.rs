//! CIFS browser announcements ([MS-BRWS]), over NetBIOS datagrams on UDP 138.
//!
//! Windows hosts (and Samba) announce themselves to their workgroup every few
//! minutes by a broadcast mailslot write: a NetBIOS datagram (RFC 1002 §4.4) carrying
//! an SMB `SMB_COM_TRANSACTION` to `\MAILSLOT\BROWSE` (or, from LAN Manager era
//! systems, `\MAILSLOT\LANMAN`), whose data is one browser message:
//!
//! ```text
//! NetBIOS datagram: type u8 (0x10-0x12) | flags u8 | id u16 | source IP [4] |
//!   source port u16 | length u16 | offset u16 | source name | destination name
//! SMB: FF 'S' 'M' 'B' | command 0x25 | ... (32 bytes) | word count | words
//!   (data count and data offset among them) | byte count | "\MAILSLOT\BROWSE\0" | data
//! Host (1) / local master (15) / domain (12) announcement, little-endian:
//!   opcode u8 | update count u8 | periodicity u32 ms | name [16] | OS major u8 |
//!   OS minor u8 | server type u32 | browser major u8 | browser minor u8 |
//!   signature u16 (0xAA55) | comment (NUL-terminated)
//! LANMAN host announcement: opcode u8 | update count u8 | server type u32 |
//!   OS major u8 | OS minor u8 | periodicity u16 s | name\0 | comment\0
//! ```
//!
//! Also decoded: announcement request (2: the name to answer to), election (8:
//! version, criteria, uptime, server name), backup list request and response (9, 10),
//! become backup (11: the browser to promote), master announcement (13), reset state
//! (14).
//!
//! **The OS version is the one the browser announces, not the Windows build.**
//! Windows announces its NT kernel version (5.1 XP, 5.2 Server 2003, 6.1 Windows 7
//! and Server 2008 R2, 10.0 Windows 10, 11 and Server 2016 or later), so `6.1` says
//! "Windows 7 family", not which edition or service pack. Samba announces a version
//! of its own choosing (long 4.9, a Windows-like number in newer releases), which says
//! nothing about the Unix underneath, and sets the `xenix_unix` server type bit. In a domain announcement the same two bytes are the
//! browser configuration version (3.10 typically) and mean nothing about an OS; its
//! name is the workgroup and its comment the master browser's name.
//!
//! [`Datagram::parse`] validates a UDP payload without allocating; [`BrowserRecord`]
//! is the owned row for logs; [`identity`] turns a message into facts about its
//! sender ([`Subject::Side`]): hostname, OS (`Windows 6.1`, or `Samba (announces
//! 4.9)`, formatted by [`os_value`]), device type (server type names) and domain.
//!
//! Violations: `bad_length` for a datagram or SMB length that disagrees with the bytes,
//! or a browser message cut short; `reserved_set` for an announcement whose
//! signature is not 0xAA55; `unknown_function` for an opcode [MS-BRWS] does not define.
//! Anything that is not a first (or only) NetBIOS datagram fragment carrying an SMB
//! transaction to one of the two browser mailslots is "not this protocol".

use std::net::Ipv4Addr;

use mamori_flow::Direction;

use super::lldp::{push_fact, text};
use super::nbns::NbName;
use crate::contract::{Flags, Parsed, PduParser};
use crate::record::{IdentityFact, IdentityKind, Subject};

#[cfg(test)]
mod tests;

/// Protocol name in logs and identity facts.
pub const PROTOCOL: &str = "browser";
/// NetBIOS datagram service port.
pub const PORT: u16 = 138;
/// SMB_COM_TRANSACTION.
const SMB_COM_TRANSACTION: u8 = 0x25;
/// The announcement signature.
pub const SIGNATURE: u16 = 0xaa55;
/// Backup server names read from a backup list response at most.
pub const MAX_BACKUP_NAMES: usize = 32;

/// Browser opcodes.
pub mod opcode {
    /// Host announcement.
    pub const HOST_ANNOUNCEMENT: u8 = 1;
    /// Announcement request.
    pub const ANNOUNCEMENT_REQUEST: u8 = 2;
    /// Request election.
    pub const ELECTION: u8 = 8;
    /// Get backup list request.
    pub const BACKUP_LIST_REQUEST: u8 = 9;
    /// Get backup list response.
    pub const BACKUP_LIST_RESPONSE: u8 = 10;
    /// Become backup.
    pub const BECOME_BACKUP: u8 = 11;
    /// Domain (workgroup) announcement.
    pub const DOMAIN_ANNOUNCEMENT: u8 = 12;
    /// Master announcement.
    pub const MASTER_ANNOUNCEMENT: u8 = 13;
    /// Reset state request.
    pub const RESET_STATE: u8 = 14;
    /// Local master announcement.
    pub const LOCAL_MASTER_ANNOUNCEMENT: u8 = 15;
}

/// The name of an opcode.
pub fn opcode_name(op: u8) -> &'static str {
    match op {
        opcode::HOST_ANNOUNCEMENT => "host_announcement",
        opcode::ANNOUNCEMENT_REQUEST => "announcement_request",
        opcode::ELECTION => "election",
        opcode::BACKUP_LIST_REQUEST => "backup_list_request",
        opcode::BACKUP_LIST_RESPONSE => "backup_list_response",
        opcode::BECOME_BACKUP => "become_backup",
        opcode::DOMAIN_ANNOUNCEMENT => "domain_announcement",
        opcode::MASTER_ANNOUNCEMENT => "master_announcement",
        opcode::RESET_STATE => "reset_state",
        opcode::LOCAL_MASTER_ANNOUNCEMENT => "local_master_announcement",
        _ => "unknown",
    }
}

/// Server type bit names, bit 0 first ([MS-RAP] SV_TYPE_*; bit 27 is unassigned).
const SERVER_TYPE_NAMES: [&str; 32] = [
    "workstation",
    "server",
    "sql_server",
    "domain_controller",
    "backup_controller",
    "time_source",
    "apple",
    "novell",
    "domain_member",
    "print_queue",
    "dialin",
    "xenix_unix",
    "nt_workstation",
    "wfw",
    "server_mfpn",
    "nt_server",
    "potential_browser",
    "backup_browser",
    "master_browser",
    "domain_master_browser",
    "osf",
    "vms",
    "windows",
    "dfs",
    "cluster_nt",
    "terminal_server",
    "cluster_vs_nt",
    "reserved_27",
    "dce",
    "alternate_xport",
    "local_list_only",
    "domain_enum",
];

/// Names of the set server type bits.
pub fn server_type_names(bits: u32) -> impl Iterator<Item = &'static str> {
    SERVER_TYPE_NAMES
        .into_iter()
        .enumerate()
        .filter(move |(i, _)| bits & (1 << i) != 0)
        .map(|(_, n)| n)
}

/// Bit of a Unix (Samba) server.
pub const SV_TYPE_SERVER_UNIX: u32 = 0x0800;

/// The Windows family an announced OS version stands for (a hint for people; the
/// ledger should key on [`os_value`]).
pub fn windows_family(major: u8, minor: u8) -> Option<&'static str> {
    Some(match (major, minor) {
        (4, 0) => "Windows NT 4.0 / 95",
        (4, 10) => "Windows 98",
        (4, 90) => "Windows ME",
        (5, 0) => "Windows 2000",
        (5, 1) => "Windows XP",
        (5, 2) => "Windows Server 2003 / XP x64",
        (6, 0) => "Windows Vista / Server 2008",
        (6, 1) => "Windows 7 / Server 2008 R2",
        (6, 2) => "Windows 8 / Server 2012",
        (6, 3) => "Windows 8.1 / Server 2012 R2",
        (10, 0) => "Windows 10 / 11 / Server 2016 or later",
        _ => return None,
    })
}

/// The `os` identity value for an announced version: `Windows <major>.<minor>`, or
/// `Samba (announces <major>.<minor>)` when the server type has the Unix bit.
pub fn os_value(major: u8, minor: u8, server_type: u32) -> String {
    if server_type & SV_TYPE_SERVER_UNIX != 0 {
        format!("Samba (announces {major}.{minor})")
    } else {
        format!("Windows {major}.{minor}")
    }
}

/// Which browser mailslot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mailslot {
    /// `\MAILSLOT\BROWSE`.
    Browse,
    /// `\MAILSLOT\LANMAN` (the older announcement layout).
    Lanman,
}

impl Mailslot {
    /// `browse` or `lanman`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mailslot::Browse => "browse",
            Mailslot::Lanman => "lanman",
        }
    }
}

/// One browser message; which fields are set depends on the opcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Browse<'a> {
    /// Opcode.
    pub opcode: u8,
    /// Update count (announcements).
    pub update_count: Option<u8>,
    /// Announcement interval, milliseconds (LANMAN's seconds converted).
    pub periodicity_ms: Option<u32>,
    /// The name: the server (host and local master announcements, election), the
    /// workgroup (domain announcement), the name to answer to (announcement request),
    /// the browser to promote (become backup), the master (master announcement).
    pub name: Option<&'a [u8]>,
    /// Announced OS version (major, minor); in a domain announcement the browser
    /// configuration version.
    pub os_version: Option<(u8, u8)>,
    /// Server type bits ([`server_type_names`]).
    pub server_type: Option<u32>,
    /// Browser protocol version (host and local master announcements).
    pub browser_version: Option<(u8, u8)>,
    /// Signature (host and local master announcements: 0xAA55).
    pub signature: Option<u16>,
    /// Comment; in a domain announcement the master browser's name.
    pub comment: Option<&'a [u8]>,
    /// Election: version, criteria, uptime in milliseconds.
    pub election: Option<(u8, u32, u32)>,
    /// Backup list request and response: count, token.
    pub backup: Option<(u8, u32)>,
    /// Backup list response: the names (NUL-separated, as sent).
    pub backup_names: Option<&'a [u8]>,
    /// Reset state: the command bits.
    pub reset: Option<u8>,
}

impl Browse<'_> {
    /// Whether this announces a host (host or local master announcement).
    pub fn is_host_announcement(&self) -> bool {
        matches!(
            self.opcode,
            opcode::HOST_ANNOUNCEMENT | opcode::LOCAL_MASTER_ANNOUNCEMENT
        )
    }

    /// The backup server names of a backup list response.
    pub fn backup_servers(&self) -> impl Iterator<Item = &[u8]> {
        self.backup_names
            .unwrap_or_default()
            .split(|&b| b == 0)
            .filter(|n| !n.is_empty())
            .take(MAX_BACKUP_NAMES)
    }
}

/// A little cursor over a browser message: every read checked.
struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
    /// A string ran to the end without its NUL.
    unterminated: bool,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|s| s[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|s| u16::from_le_bytes([s[0], s[1]]))
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    /// A NUL-terminated string (without the NUL); a string running to the end
    /// without one is returned as is, and `None` only when nothing is left.
    fn stringz(&mut self) -> Option<&'a [u8]> {
        let rest = self.b.get(self.at..)?;
        if rest.is_empty() {
            return None;
        }
        match rest.iter().position(|&c| c == 0) {
            Some(n) => {
                self.at += n + 1;
                rest.get(..n)
            }
            None => {
                self.at = self.b.len();
                self.unterminated = true;
                Some(rest)
            }
        }
    }
}

/// A fixed 16-byte name, NUL padding dropped.
fn fixed_name(b: &[u8]) -> &[u8] {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    b.get(..end).unwrap_or_default()
}

impl<'a> Browse<'a> {
    /// Parses a browser message from a mailslot's data; flags what is cut short.
    /// `None` only for empty data.
    pub fn parse(mailslot: Mailslot, data: &'a [u8], flags: &mut Flags) -> Option<Browse<'a>> {
        let mut c = Cursor {
            b: data,
            at: 0,
            unterminated: false,
        };
        let op = c.u8()?;
        let mut m = Browse {
            opcode: op,
            ..Browse::default()
        };
        let complete = match (mailslot, op) {
            (
                Mailslot::Browse,
                opcode::HOST_ANNOUNCEMENT
                | opcode::DOMAIN_ANNOUNCEMENT
                | opcode::LOCAL_MASTER_ANNOUNCEMENT,
            ) => m.announcement(&mut c, flags),
            (
                Mailslot::Lanman,
                opcode::HOST_ANNOUNCEMENT
                | opcode::DOMAIN_ANNOUNCEMENT
                | opcode::LOCAL_MASTER_ANNOUNCEMENT,
            ) => m.lanman(&mut c),
            (_, opcode::ANNOUNCEMENT_REQUEST) => (|| {
                c.u8()?;
                m.name = Some(c.stringz()?);
                Some(())
            })(),
            (_, opcode::ELECTION) => (|| {
                let version = c.u8()?;
                let criteria = c.u32()?;
                let uptime = c.u32()?;
                m.election = Some((version, criteria, uptime));
                c.u32()?; // reserved
                m.name = Some(c.stringz()?);
                Some(())
            })(),
            (_, opcode::BACKUP_LIST_REQUEST | opcode::BACKUP_LIST_RESPONSE) => (|| {
                m.backup = Some((c.u8()?, c.u32()?));
                if op == opcode::BACKUP_LIST_RESPONSE {
                    m.backup_names = Some(data.get(c.at..).unwrap_or_default());
                }
                Some(())
            })(),
            (_, opcode::BECOME_BACKUP | opcode::MASTER_ANNOUNCEMENT) => c.stringz().map(|n| {
                m.name = Some(n);
            }),
            (_, opcode::RESET_STATE) => c.u8().map(|r| {
                m.reset = Some(r);
            }),
            _ => {
                flags.set(Flags::UNKNOWN_FUNCTION);
                Some(())
            }
        };
        if complete.is_none() || c.unterminated {
            flags.set(Flags::BAD_LENGTH);
        }
        Some(m)
    }

    fn announcement(&mut self, c: &mut Cursor<'a>, flags: &mut Flags) -> Option<()> {
        self.update_count = Some(c.u8()?);
        self.periodicity_ms = Some(c.u32()?);
        self.name = Some(fixed_name(c.take(16)?));
        self.os_version = Some((c.u8()?, c.u8()?));
        self.server_type = Some(c.u32()?);
        let (bmaj, bmin, sig) = (c.u8()?, c.u8()?, c.u16()?);
        // A domain announcement has an undocumented 4-byte value here instead.
        if self.opcode != opcode::DOMAIN_ANNOUNCEMENT {
            self.browser_version = Some((bmaj, bmin));
            self.signature = Some(sig);
            if sig != SIGNATURE {
                flags.set(Flags::RESERVED_SET);
            }
        }
        self.comment = Some(c.stringz()?);
        Some(())
    }

    fn lanman(&mut self, c: &mut Cursor<'a>) -> Option<()> {
        self.update_count = Some(c.u8()?);
        self.server_type = Some(c.u32()?);
        self.os_version = Some((c.u8()?, c.u8()?));
        self.periodicity_ms = Some(u32::from(c.u16()?) * 1000);
        self.name = Some(c.stringz()?);
        self.comment = Some(c.stringz()?);
        Some(())
    }
}

/// One NetBIOS datagram carrying a browser message, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Datagram<'a> {
    /// NetBIOS datagram type: 0x10 direct unique, 0x11 direct group, 0x12 broadcast.
    pub msg_type: u8,
    /// Datagram id.
    pub id: u16,
    /// Source IP as the datagram header says it.
    pub src_ip: Ipv4Addr,
    /// Source port as the header says it.
    pub src_port: u16,
    /// Source NetBIOS name (`HOST<00>`).
    pub source_name: NbName,
    /// Destination NetBIOS name (`WORKGROUP<1D>` for host announcements).
    pub dest_name: NbName,
    /// Which mailslot.
    pub mailslot: Mailslot,
    /// The browser message.
    pub browse: Browse<'a>,
    /// Violations.
    pub flags: Flags,
}

/// A NetBIOS name as RFC 1002 encodes it (length 0x20, 32 letters, scope labels, 0):
/// the name and where the next field starts.
fn nb_name(b: &[u8], at: usize) -> Option<(NbName, usize)> {
    if *b.get(at)? != 0x20 {
        return None;
    }
    let name = NbName::decode(b.get(at + 1..at + 33)?)?;
    // Scope labels up to the root (each at least 2 bytes: bounded by the datagram).
    let mut p = at + 33;
    loop {
        let len = usize::from(*b.get(p)?);
        if len == 0 {
            return Some((name, p + 1));
        }
        if len > 63 {
            return None;
        }
        p += 1 + len;
    }
}

impl<'a> Datagram<'a> {
    /// Parses a UDP payload (port 138). `None` unless it is the first fragment of a
    /// datagram (type 0x10..=0x12) whose user data is an SMB transaction to
    /// `\MAILSLOT\BROWSE` or `\MAILSLOT\LANMAN` with some data.
    pub fn parse(b: &'a [u8]) -> Option<Datagram<'a>> {
        let h = b.get(..14)?;
        let msg_type = h[0];
        if !(0x10..=0x12).contains(&msg_type) {
            return None;
        }
        let nb_flags = h[1];
        let offset = u16::from_be_bytes([h[12], h[13]]);
        // First fragment: F bit set and offset 0 (an unfragmented datagram is both).
        if nb_flags & 0x02 == 0 || offset != 0 {
            return None;
        }
        let mut flags = Flags::default();
        let dgm_len = usize::from(u16::from_be_bytes([h[10], h[11]]));
        if dgm_len != b.len() - 14 {
            flags.set(Flags::BAD_LENGTH);
        }
        let (source_name, at) = nb_name(b, 14)?;
        let (dest_name, at) = nb_name(b, at)?;
        let smb = b.get(at..)?;
        let (mailslot, data) = mailslot_data(smb, &mut flags)?;
        let browse = Browse::parse(mailslot, data, &mut flags)?;
        Some(Datagram {
            msg_type,
            id: u16::from_be_bytes([h[2], h[3]]),
            src_ip: Ipv4Addr::new(h[4], h[5], h[6], h[7]),
            src_port: u16::from_be_bytes([h[8], h[9]]),
            source_name,
            dest_name,
            mailslot,
            browse,
            flags,
        })
    }
}

/// The mailslot and the transaction's data, from an SMB message.
fn mailslot_data<'a>(smb: &'a [u8], flags: &mut Flags) -> Option<(Mailslot, &'a [u8])> {
    let h = smb.get(..33)?;
    if h.get(..4)? != b"\xffSMB" || h[4] != SMB_COM_TRANSACTION {
        return None;
    }
    let wc = usize::from(h[32]);
    if wc < 14 {
        return None;
    }
    let words = smb.get(33..33 + 2 * wc)?;
    let w = |i: usize| u16::from_le_bytes([words[2 * i], words[2 * i + 1]]);
    let (total_data, data_count, data_offset) = (w(1), usize::from(w(11)), usize::from(w(12)));
    let bc_at = 33 + 2 * wc;
    let bc = usize::from(u16::from_le_bytes(
        smb.get(bc_at..bc_at + 2)?.try_into().ok()?,
    ));
    let bytes = smb.get(bc_at + 2..)?;
    if bc > bytes.len() {
        flags.set(Flags::BAD_LENGTH);
    }
    let name_end = bytes.iter().position(|&c| c == 0)?;
    let name = bytes.get(..name_end)?;
    let mailslot = if name.eq_ignore_ascii_case(b"\\MAILSLOT\\BROWSE") {
        Mailslot::Browse
    } else if name.eq_ignore_ascii_case(b"\\MAILSLOT\\LANMAN") {
        Mailslot::Lanman
    } else {
        return None;
    };
    if usize::from(total_data) != data_count {
        flags.set(Flags::BAD_LENGTH);
    }
    let data = match smb.get(data_offset..data_offset.saturating_add(data_count)) {
        Some(d) => d,
        None => {
            flags.set(Flags::BAD_LENGTH);
            smb.get(data_offset..)?
        }
    };
    (!data.is_empty()).then_some((mailslot, data))
}

/// One browser message per UDP datagram.
#[derive(Debug, Clone, Copy, Default)]
pub struct Parser;

impl PduParser for Parser {
    type Pdu<'a> = Datagram<'a>;
    const MAX_PDU: usize = 65535;

    fn parse<'a>(&self, _dir: Direction, input: &'a [u8]) -> Parsed<Datagram<'a>> {
        match Datagram::parse(input) {
            Some(pdu) => Parsed::Pdu {
                pdu,
                consumed: input.len(),
            },
            None => Parsed::NotThisProtocol,
        }
    }
}

/// One browser message as a row for logs (owned; names as lossy UTF-8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserRecord {
    /// Nanoseconds since the epoch.
    pub ts: i64,
    /// The direction the datagram travelled in.
    pub dir: Direction,
    /// Source IP the NetBIOS header names.
    pub src_ip: Ipv4Addr,
    /// Source NetBIOS name, `HOST<00>`.
    pub source_name: String,
    /// Destination NetBIOS name, `WORKGROUP<1d>`.
    pub dest_name: String,
    /// `browse` or `lanman`.
    pub mailslot: &'static str,
    /// Opcode.
    pub opcode: u8,
    /// Its name.
    pub opcode_name: &'static str,
    /// [`Browse::name`].
    pub name: Option<String>,
    /// Announced OS version (host and local master announcements only).
    pub os_version: Option<(u8, u8)>,
    /// [`os_value`] of it.
    pub os: Option<String>,
    /// [`windows_family`] of it (not for Samba).
    pub os_family: Option<&'static str>,
    /// Server type bits.
    pub server_type: Option<u32>,
    /// Their names.
    pub server_type_names: Vec<&'static str>,
    /// Comment; the master browser in a domain announcement.
    pub comment: Option<String>,
    /// The workgroup: a domain announcement's name, or the destination name of a
    /// host announcement or election (`WORKGROUP<1d>`/`<1e>`).
    pub workgroup: Option<String>,
    /// Violations.
    pub flags: Flags,
}

/// The announced OS of a message, when it is a host or local master announcement
/// with a non-zero major version.
fn announced_os(m: &Browse<'_>) -> Option<(u8, u8)> {
    m.os_version
        .filter(|&(major, _)| m.is_host_announcement() && major != 0)
}

/// The workgroup a message names.
fn workgroup(d: &Datagram<'_>) -> Option<String> {
    let m = &d.browse;
    if m.opcode == opcode::DOMAIN_ANNOUNCEMENT {
        return m.name.map(text).filter(|s| !s.is_empty());
    }
    let to_group = matches!(d.dest_name.suffix(), 0x1d | 0x1e);
    (to_group && (m.is_host_announcement() || m.opcode == opcode::ELECTION))
        .then(|| d.dest_name.text().map(str::to_string))
        .flatten()
}

impl BrowserRecord {
    /// The record of a datagram travelling in `dir` at `ts`.
    pub fn new(ts: i64, dir: Direction, d: &Datagram<'_>) -> BrowserRecord {
        let m = &d.browse;
        let os = announced_os(m);
        let st = m.server_type.unwrap_or(0);
        BrowserRecord {
            ts,
            dir,
            src_ip: d.src_ip,
            source_name: d.source_name.to_string(),
            dest_name: d.dest_name.to_string(),
            mailslot: d.mailslot.as_str(),
            opcode: m.opcode,
            opcode_name: opcode_name(m.opcode),
            name: m.name.map(text),
            os_version: os,
            os: os.map(|(a, b)| os_value(a, b, st)),
            os_family: os
                .filter(|_| st & SV_TYPE_SERVER_UNIX == 0)
                .and_then(|(a, b)| windows_family(a, b)),
            server_type: m.server_type,
            server_type_names: server_type_names(st).collect(),
            comment: m.comment.map(text),
            workgroup: workgroup(d),
            flags: d.flags,
        }
    }
}

/// What a message travelling in `dir` says about its sender (`Subject::Side(dir)`):
///
/// - host and local master announcements: `hostname` (the server name), `os`
///   ([`os_value`], when the major version is not 0), `device_type` (the server type
///   names joined by commas, `workstation,server,nt_workstation,...`) and `domain`
///   (the destination group name, `WORKGROUP<1d>` → `WORKGROUP`);
/// - domain announcements: `domain` (the workgroup) and `hostname` (the master
///   browser named in the comment: the sender);
/// - elections: `hostname` (the server name) and `domain` (the destination group).
///
/// Announcement requests, become backup and master announcements name other hosts
/// and give no fact.
pub fn identity(dir: Direction, d: &Datagram<'_>, facts: &mut Vec<IdentityFact>) {
    let start = facts.len();
    let about = Subject::Side(dir);
    let mut add = |kind, value: String| push_fact(facts, start, about, kind, value, PROTOCOL);
    let m = &d.browse;
    if m.is_host_announcement() {
        if let Some(n) = m.name {
            add(IdentityKind::Hostname, text(n));
        }
        let st = m.server_type.unwrap_or(0);
        if let Some((a, b)) = announced_os(m) {
            add(IdentityKind::Os, os_value(a, b, st));
        }
        add(
            IdentityKind::DeviceType,
            server_type_names(st).collect::<Vec<_>>().join(","),
        );
    } else if m.opcode == opcode::DOMAIN_ANNOUNCEMENT {
        if let Some(c) = m.comment {
            add(IdentityKind::Hostname, text(c));
        }
    } else if m.opcode == opcode::ELECTION
        && let Some(n) = m.name
    {
        add(IdentityKind::Hostname, text(n));
    }
    if let Some(w) = workgroup(d) {
        add(IdentityKind::Domain, w);
    }
}
