//! OPC UA binary over TCP (OPC 10000-6, UA TCP and UA Secure Conversation; port
//! 4840), all fields little-endian.
//!
//! ```text
//! chunk: message type [u8; 3] | chunk type u8 ('F' final, 'C' intermediate, 'A' abort)
//!   | message size u32 (whole chunk) | body
//! HEL: version, receive and send buffer sizes, max message size, max chunk count (u32 each), endpoint URL
//! ACK: the same five u32;  ERR: error StatusCode u32, reason;  RHE: server URI, endpoint URL
//! OPN: secure channel id u32 | security policy URI | sender certificate | receiver
//!      thumbprint | sequence number u32 | request id u32 | body
//! MSG, CLO: secure channel id u32 | token id u32 | sequence number u32 | request id u32 | body
//! body: type id (a NodeId, the service's binary encoding id) | request or response header | ...
//! ```
//!
//! Strings and byte strings are an i32 length (-1 = null) and bytes. [`Parser`] frames
//! chunks (content check: a known message type, a chunk type of F, C or A, a size of
//! at least 8 and at most [`MAX_CHUNK`]); [`Session::on_chunk`] does the rest.
//!
//! Records (`protocol` `opcua`, one per request, from the client, the flow's
//! originator):
//!
//! - **HEL** is logged as function `0x48454C` (the ASCII letters), `hello`, target
//!   the endpoint URL; ACK answers it `ok`, ERR `exception:<StatusCode>`.
//! - **OPN** is `open_secure_channel` (446), target the policy's short name and, when
//!   the body is readable, the request type and message security mode (`policy None
//!   issue mode none`). The reply OPN answers it with its ServiceResult. With a policy
//!   other than None the asymmetric body (sequence header included) is encrypted: the
//!   mode is not on the wire and the reply pairs with the oldest outstanding OPN.
//! - **CLO** is `close_secure_channel` (452), which has no reply: logged `ok` at once.
//! - **MSG**: the service request's type id (numeric, namespace 0, in any of the
//!   two-byte, four-byte or full numeric encodings) names the function, with the
//!   encoding id as `function` (`read` 631, `write` 673, `call` 712, ...; see
//!   [`describe`]). The response with the same request id (sequence header), or
//!   failing that the same request handle (request and response header), completes
//!   it: its ServiceResult, when its severity is Bad, is `exception:<StatusCode>`
//!   (a ServiceFault, 397, carries only that). Per-operation results inside the
//!   response are not read.
//! - **Encrypted MSG** (policy other than None, mode SignAndEncrypt) has no readable
//!   request id or type id: such chunks are counted in [`Session::encrypted_chunks`]
//!   and not logged. A chunk is read as plaintext when the channel's policy is None,
//!   or when its type id decodes to a known service (sign-only channels, and channels
//!   whose OPN was not seen); the chance that ciphertext does so is about 2^-26.
//! - A message of several chunks is one operation, at its first chunk; its other
//!   chunks are counted in [`Session::continuation_chunks`]. An abort chunk ('A')
//!   completes the operation with the abort's error code. An ERR ends the connection:
//!   every request outstanding gets its code.
//!
//! Categories: Read, HistoryRead, Browse, BrowseNext, TranslateBrowsePaths, Query,
//! RegisterNodes are `read`; Write and HistoryUpdate are `write`, and so are AddNodes,
//! DeleteNodes, AddReferences and DeleteReferences (they change the address space a
//! plant is operated through, not logic); Call is `control` (methods are how OPC UA
//! servers expose start, stop, reset and other commands); Publish and Republish are
//! `cyclic`; subscription and monitored-item management is `read`; GetEndpoints,
//! FindServers and RegisterServer are `identify`; secure channel and session services,
//! Cancel and Hello are `other`.
//!
//! Targets: `channel <id>` then, for Read, Write, Call, Browse, RegisterNodes and
//! TranslateBrowsePaths, the first node (`ns=1;s=the.answer`, `i=2253` for
//! namespace 0) and how many more (`(+3 more)`).
//!
//! Identity: GetEndpoints and CreateSession responses describe the server: its
//! ApplicationUri ([`IdentityKind::Description`]), ProductUri
//! ([`IdentityKind::Product`]) and application name ([`IdentityKind::Software`]),
//! from the first endpoint, about the responder.

use std::collections::VecDeque;
use std::fmt::Write as _;

use mamori_flow::Direction;

use crate::contract::{Flags, Parsed, PduParser};
use crate::ot::tables;
use crate::record::{Category, Function, IdentityFact, IdentityKind, OtOperation, Status, Subject};

/// `ot.jsonl`'s protocol name.
pub const PROTOCOL: &str = "opcua";
/// The registered port.
pub const PORT: u16 = 4840;
/// Requests remembered per flow while waiting for their responses.
pub const MAX_OUTSTANDING: usize = 64;
/// The largest chunk accepted (servers commonly allow 64 KiB; some far more).
pub const MAX_CHUNK: usize = 1 << 20;
/// `function` of a Hello: the letters `HEL` as a big-endian number.
pub const HELLO: u32 = 0x0048_454C;
/// Encoding id of a ServiceFault.
pub const SERVICE_FAULT: u32 = 397;

/// Longest string kept in a target or fact.
const MAX_TEXT: usize = 128;
/// Deepest nesting of DiagnosticInfo followed.
const MAX_DIAGNOSTIC_DEPTH: u8 = 4;

/// The kind of a chunk (its first three bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// `HEL`: the client opens the connection.
    Hello,
    /// `ACK`: the server accepts it.
    Acknowledge,
    /// `ERR`: the connection fails.
    Error,
    /// `RHE`: a server-initiated (reverse) connection.
    ReverseHello,
    /// `OPN`: OpenSecureChannel.
    Open,
    /// `CLO`: CloseSecureChannel.
    Close,
    /// `MSG`: a service request or response.
    Message,
}

impl MessageType {
    fn from_bytes(b: &[u8]) -> Option<Self> {
        Some(match b {
            b"HEL" => Self::Hello,
            b"ACK" => Self::Acknowledge,
            b"ERR" => Self::Error,
            b"RHE" => Self::ReverseHello,
            b"OPN" => Self::Open,
            b"CLO" => Self::Close,
            b"MSG" => Self::Message,
            _ => return None,
        })
    }
}

/// One UA TCP chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk<'a> {
    /// The message type.
    pub kind: MessageType,
    /// `F`, `C` or `A`.
    pub chunk_type: u8,
    /// The bytes after the 8-byte header.
    pub body: &'a [u8],
    /// Violations seen.
    pub flags: Flags,
}

/// Parses UA TCP chunks.
#[derive(Debug, Clone, Copy, Default)]
pub struct Parser;

impl PduParser for Parser {
    type Pdu<'a> = Chunk<'a>;
    const MAX_PDU: usize = MAX_CHUNK;

    fn parse<'a>(&self, _dir: Direction, input: &'a [u8]) -> Parsed<Chunk<'a>> {
        let head = &input[..input.len().min(3)];
        if ![&b"HEL"[..], b"ACK", b"ERR", b"RHE", b"OPN", b"CLO", b"MSG"]
            .iter()
            .any(|t| t.starts_with(head))
        {
            return Parsed::NotThisProtocol;
        }
        if input
            .get(3)
            .is_some_and(|c| !matches!(c, b'F' | b'C' | b'A'))
        {
            return Parsed::NotThisProtocol;
        }
        let [t0, t1, t2, chunk_type, s0, s1, s2, s3, ..] = *input else {
            return Parsed::Incomplete { needed: 8 };
        };
        let Some(kind) = MessageType::from_bytes(&[t0, t1, t2]) else {
            return Parsed::NotThisProtocol;
        };
        let size = u32::from_le_bytes([s0, s1, s2, s3]) as usize;
        if !(8..=MAX_CHUNK).contains(&size) {
            return Parsed::NotThisProtocol;
        }
        if input.len() < size {
            return Parsed::Incomplete { needed: size };
        }
        let mut flags = Flags::default();
        let connection_level = matches!(
            kind,
            MessageType::Hello
                | MessageType::Acknowledge
                | MessageType::Error
                | MessageType::ReverseHello
        );
        if connection_level && chunk_type != b'F' {
            flags.set(Flags::RESERVED_SET);
        }
        Parsed::Pdu {
            pdu: Chunk {
                kind,
                chunk_type,
                body: &input[8..size],
                flags,
            },
            consumed: size,
        }
    }
}

/// A NodeId as the binary encoding gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeId<'a> {
    /// Numeric identifier.
    Numeric {
        /// Namespace index.
        ns: u16,
        /// Identifier.
        id: u32,
    },
    /// String identifier.
    String {
        /// Namespace index.
        ns: u16,
        /// Identifier (UTF-8 bytes).
        id: &'a [u8],
    },
    /// GUID identifier (16 bytes).
    Guid {
        /// Namespace index.
        ns: u16,
        /// Identifier.
        id: &'a [u8],
    },
    /// Opaque (byte string) identifier.
    Opaque {
        /// Namespace index.
        ns: u16,
        /// Identifier.
        id: &'a [u8],
    },
}

impl NodeId<'_> {
    /// The numeric id in namespace 0, where it is one.
    pub fn ns0_numeric(&self) -> Option<u32> {
        match *self {
            NodeId::Numeric { ns: 0, id } => Some(id),
            _ => None,
        }
    }

    /// Appends the standard text form (`i=2253`, `ns=1;s=the.answer`) to `out`.
    fn write_to(&self, out: &mut String) {
        let ns = match *self {
            NodeId::Numeric { ns, .. }
            | NodeId::String { ns, .. }
            | NodeId::Guid { ns, .. }
            | NodeId::Opaque { ns, .. } => ns,
        };
        if ns != 0 {
            let _ = write!(out, "ns={ns};");
        }
        match *self {
            NodeId::Numeric { id, .. } => {
                let _ = write!(out, "i={id}");
            }
            NodeId::String { id, .. } => {
                out.push_str("s=");
                out.push_str(&text(id));
            }
            NodeId::Guid { id, .. } | NodeId::Opaque { id, .. } => {
                out.push_str(if matches!(self, NodeId::Guid { .. }) {
                    "g="
                } else {
                    "b="
                });
                for b in id.iter().take(32) {
                    let _ = write!(out, "{b:02x}");
                }
            }
        }
    }
}

/// Bounded, printable text from wire bytes.
fn text(b: &[u8]) -> String {
    let b = b.get(..MAX_TEXT).unwrap_or(b);
    String::from_utf8_lossy(b)
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// A reader over the binary encoding: every method checks its length and returns
/// `None` when the bytes run out.
#[derive(Debug, Clone, Copy)]
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }

    fn u16(&mut self) -> Option<u16> {
        let b = self.take(2)?;
        Some(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Option<u32> {
        let b = self.take(4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn i32(&mut self) -> Option<i32> {
        self.u32().map(|v| v as i32)
    }

    /// A String or ByteString: `Some(None)` when null (length -1 or any negative).
    fn bytes(&mut self) -> Option<Option<&'a [u8]>> {
        let len = self.i32()?;
        match usize::try_from(len) {
            Ok(n) => self.take(n).map(Some),
            Err(_) => Some(None),
        }
    }

    fn node_id(&mut self) -> Option<NodeId<'a>> {
        let mask = self.u8()?;
        self.node_id_body(mask & 0x3f)
    }

    fn node_id_body(&mut self, encoding: u8) -> Option<NodeId<'a>> {
        Some(match encoding {
            0 => NodeId::Numeric {
                ns: 0,
                id: u32::from(self.u8()?),
            },
            1 => NodeId::Numeric {
                ns: u16::from(self.u8()?),
                id: u32::from(self.u16()?),
            },
            2 => NodeId::Numeric {
                ns: self.u16()?,
                id: self.u32()?,
            },
            3 => NodeId::String {
                ns: self.u16()?,
                id: self.bytes()?.unwrap_or_default(),
            },
            4 => NodeId::Guid {
                ns: self.u16()?,
                id: self.take(16)?,
            },
            5 => NodeId::Opaque {
                ns: self.u16()?,
                id: self.bytes()?.unwrap_or_default(),
            },
            _ => return None,
        })
    }

    fn diagnostic_info(&mut self, depth: u8) -> Option<()> {
        let mask = self.u8()?;
        for bit in [0x01u8, 0x02, 0x04, 0x08] {
            if mask & bit != 0 {
                self.u32()?;
            }
        }
        if mask & 0x10 != 0 {
            self.bytes()?;
        }
        if mask & 0x20 != 0 {
            self.u32()?;
        }
        if mask & 0x40 != 0 {
            if depth >= MAX_DIAGNOSTIC_DEPTH {
                return None;
            }
            self.diagnostic_info(depth + 1)?;
        }
        Some(())
    }

    fn extension_object(&mut self) -> Option<()> {
        self.node_id()?;
        if self.u8()? & 0x03 != 0 {
            self.bytes()?;
        }
        Some(())
    }

    /// A LocalizedText's text.
    fn localized_text(&mut self) -> Option<Option<&'a [u8]>> {
        let mask = self.u8()?;
        if mask & 0x01 != 0 {
            self.bytes()?;
        }
        if mask & 0x02 != 0 {
            return self.bytes();
        }
        Some(None)
    }

    /// Skips an array of strings.
    fn string_array(&mut self) -> Option<()> {
        let n = self.i32()?;
        for _ in 0..n.max(0) {
            self.bytes()?;
        }
        Some(())
    }

    /// A RequestHeader; returns the request handle.
    fn request_header(&mut self) -> Option<u32> {
        self.node_id()?; // authentication token
        self.take(8)?; // timestamp
        let handle = self.u32()?;
        self.u32()?; // return diagnostics
        self.bytes()?; // audit entry id
        self.u32()?; // timeout hint
        self.extension_object()?;
        Some(handle)
    }

    /// The first fields of a ResponseHeader: request handle and ServiceResult.
    fn response_start(&mut self) -> Option<(u32, u32)> {
        self.take(8)?; // timestamp
        Some((self.u32()?, self.u32()?))
    }

    /// The rest of a ResponseHeader after [`Self::response_start`].
    fn response_rest(&mut self) -> Option<()> {
        self.diagnostic_info(0)?;
        self.string_array()?;
        self.extension_object()
    }
}

/// The name and category of a service, by the numeric id of its request's binary
/// encoding in namespace 0 (OPC 10000-4 services; ids from the NodeIds table, as
/// tshark 4.0 names them).
pub fn describe(id: u32) -> Function {
    use Category::*;
    let (name, category) = tables::opcua::service(id).unwrap_or(("unknown", Other));
    Function {
        code: id,
        name,
        category,
    }
}

/// Whether `id` is a service request's encoding id.
fn is_request(id: u32) -> bool {
    id != HELLO && describe(id).name != "unknown"
}

/// Whether `id` is a service response's encoding id (or a ServiceFault).
fn is_response(id: u32) -> bool {
    match id {
        SERVICE_FAULT => true,
        12209 => true,
        12212 => true,
        12208 | 12211 => false,
        _ => id.checked_sub(3).is_some_and(is_request),
    }
}

/// Whether a StatusCode's severity is Bad.
fn is_bad(code: u32) -> bool {
    code & 0x8000_0000 != 0
}

/// The sequence header and the rest of a symmetric (MSG, CLO) chunk body.
struct Symmetric<'a> {
    channel: u32,
    request_id: u32,
    payload: Cursor<'a>,
}

fn symmetric(body: &[u8]) -> Option<Symmetric<'_>> {
    let mut c = Cursor(body);
    let channel = c.u32()?;
    c.u32()?; // token id
    c.u32()?; // sequence number
    let request_id = c.u32()?;
    Some(Symmetric {
        channel,
        request_id,
        payload: c,
    })
}

/// A request waiting for its response.
#[derive(Debug)]
struct Pending {
    kind: MessageType,
    request_id: Option<u32>,
    handle: Option<u32>,
    op: OtOperation,
}

/// Per-connection OPC UA state: the channel's policy, requests waiting for responses
/// (bounded) and counters.
#[derive(Debug, Default)]
pub struct Session {
    outstanding: VecDeque<Pending>,
    /// Whether the last OPN named the None policy (`None` before any OPN).
    policy_none: Option<bool>,
    /// Request id of a message whose later chunks are still due, per direction.
    partial: [Option<u32>; 2],
    /// Responses that matched no request.
    pub unsolicited: u64,
    /// MSG chunks that could not be read (encrypted).
    pub encrypted_chunks: u64,
    /// Chunks after the first of a multi-chunk message.
    pub continuation_chunks: u64,
    /// Reverse Hellos seen.
    pub reverse_hellos: u64,
}

impl Session {
    /// Takes one chunk travelling in `dir` at `ts` (nanoseconds); `Direction::Orig`
    /// is the client.
    pub fn on_chunk(
        &mut self,
        dir: Direction,
        ts: i64,
        chunk: &Chunk<'_>,
        ops: &mut Vec<OtOperation>,
        facts: &mut Vec<IdentityFact>,
    ) {
        let mut c = Cursor(chunk.body);
        match chunk.kind {
            MessageType::Hello => {
                let url = c.take(20).and_then(|_| c.bytes()).flatten();
                let target = url.map(text).unwrap_or_default();
                self.request(
                    ops,
                    None,
                    None,
                    HELLO,
                    MessageType::Hello,
                    target,
                    chunk.flags,
                    ts,
                );
            }
            MessageType::Acknowledge => {
                self.complete(
                    ops,
                    |p| p.kind == MessageType::Hello,
                    Status::Ok,
                    chunk.flags,
                );
            }
            MessageType::Error => {
                let code = c.u32().unwrap_or(0);
                let flags = chunk.flags;
                // The connection ends: every request outstanding fails with the code.
                if self.outstanding.is_empty() {
                    self.unsolicited += 1;
                }
                for mut p in self.outstanding.drain(..) {
                    p.op.status = Status::Exception(code);
                    p.op.flags.0 |= flags.0;
                    ops.push(p.op);
                }
            }
            MessageType::ReverseHello => self.reverse_hellos += 1,
            MessageType::Open => self.on_open(dir, ts, chunk, ops),
            MessageType::Close => {
                let channel = symmetric(chunk.body).map_or(0, |s| s.channel);
                ops.push(OtOperation {
                    protocol: PROTOCOL,
                    pdu: None,
                    function: describe(452),
                    target: format!("channel {channel}"),
                    status: Status::Ok,
                    flags: chunk.flags,
                    ts,
                });
            }
            MessageType::Message => self.on_message(dir, ts, chunk, ops, facts),
        }
    }

    fn on_open(&mut self, dir: Direction, ts: i64, chunk: &Chunk<'_>, ops: &mut Vec<OtOperation>) {
        let mut c = Cursor(chunk.body);
        let channel = c.u32();
        let policy = c.bytes().flatten();
        let Some(channel) = channel else {
            let mut flags = chunk.flags;
            flags.set(Flags::BAD_LENGTH);
            if dir == Direction::Orig {
                self.request(
                    ops,
                    None,
                    None,
                    446,
                    MessageType::Open,
                    String::new(),
                    flags,
                    ts,
                );
            }
            return;
        };
        let none = policy.is_some_and(|p| p.ends_with(b"#None"));
        if policy.is_some() {
            self.policy_none = Some(none);
        }
        let _ = c.bytes(); // sender certificate
        let _ = c.bytes(); // receiver certificate thumbprint
        // The sequence header and body are readable only under the None policy.
        let plain = if none {
            let request_id = c.u32().and_then(|_| c.u32());
            let type_id = c.node_id().and_then(|n| n.ns0_numeric());
            request_id.zip(type_id)
        } else {
            None
        };
        let short = policy
            .map(|p| text(p.rsplit(|&b| b == b'#').next().unwrap_or(p)))
            .unwrap_or_else(|| "?".into());
        let is_reply = match plain {
            Some((_, 449)) => true,
            Some((_, 446)) => false,
            _ => dir == Direction::Resp,
        };
        if !is_reply {
            let mut target = format!("channel {channel} policy {short}");
            if let Some((_, 446)) = plain {
                let handle = c.request_header();
                // client protocol version, request type, security mode
                let fields = handle.and(c.u32()).and(c.u32()).zip(c.u32());
                if let Some((kind, mode)) = fields {
                    let kind = if kind == 0 { "issue" } else { "renew" };
                    let mode = match mode {
                        1 => "none",
                        2 => "sign",
                        3 => "sign_and_encrypt",
                        _ => "invalid",
                    };
                    let _ = write!(target, " {kind} mode {mode}");
                }
            }
            let request_id = plain.map(|(r, _)| r);
            self.request(
                ops,
                request_id,
                None,
                446,
                MessageType::Open,
                target,
                chunk.flags,
                ts,
            );
            return;
        }
        let status = match plain {
            Some(_) => match c.response_start() {
                Some((_, result)) if is_bad(result) => Status::Exception(result),
                _ => Status::Ok,
            },
            None => Status::Ok,
        };
        let request_id = plain.map(|(r, _)| r);
        self.complete(
            ops,
            |p| p.kind == MessageType::Open && (request_id.is_none() || p.request_id == request_id),
            status,
            chunk.flags,
        );
    }

    fn on_message(
        &mut self,
        dir: Direction,
        ts: i64,
        chunk: &Chunk<'_>,
        ops: &mut Vec<OtOperation>,
        facts: &mut Vec<IdentityFact>,
    ) {
        let Some(Symmetric {
            channel,
            request_id,
            mut payload,
        }) = symmetric(chunk.body)
        else {
            self.encrypted_chunks += 1;
            return;
        };
        let readable = |id: u32| is_request(id) || is_response(id);
        let first = payload.node_id().and_then(|n| n.ns0_numeric());
        let service = match (self.policy_none, first) {
            (Some(true), Some(id)) => Some(id),
            (_, Some(id)) if readable(id) => Some(id),
            _ => None,
        };
        let side = dir.index();
        // A later chunk of a message already started (its body has no type id).
        if self.partial[side] == Some(request_id) && service.is_none_or(|id| !readable(id)) {
            self.continuation_chunks += 1;
            if chunk.chunk_type != b'C' {
                self.partial[side] = None;
            }
            if chunk.chunk_type == b'A' {
                self.abort(ops, request_id, payload_error(chunk.body), chunk.flags);
            }
            return;
        }
        let Some(service) = service else {
            if self.policy_none == Some(true) {
                // Plaintext channel but no type id: a malformed chunk.
                let mut flags = chunk.flags;
                flags.set(Flags::BAD_LENGTH);
                if dir == Direction::Orig {
                    self.request(
                        ops,
                        Some(request_id),
                        None,
                        0,
                        MessageType::Message,
                        format!("channel {channel}"),
                        flags,
                        ts,
                    );
                }
            } else {
                self.encrypted_chunks += 1;
            }
            return;
        };
        self.partial[side] = (chunk.chunk_type == b'C').then_some(request_id);
        let request = if is_request(service) {
            true
        } else if is_response(service) {
            false
        } else {
            dir == Direction::Orig
        };
        if request {
            let mut flags = chunk.flags;
            if describe(service).name == "unknown" {
                flags.set(Flags::UNKNOWN_FUNCTION);
            }
            let handle = payload.request_header();
            let mut target = format!("channel {channel}");
            if handle.is_some() {
                first_node(service, payload, &mut target);
            }
            self.request(
                ops,
                Some(request_id),
                handle,
                service,
                MessageType::Message,
                target,
                flags,
                ts,
            );
            if chunk.chunk_type == b'A' {
                self.abort(ops, request_id, 0, Flags::default());
            }
            return;
        }
        if chunk.chunk_type == b'A' {
            self.abort(ops, request_id, payload_error(chunk.body), chunk.flags);
            return;
        }
        let start = payload.response_start();
        let status = match start {
            Some((_, result)) if is_bad(result) => Status::Exception(result),
            _ => Status::Ok,
        };
        let handle = start.map(|(h, _)| h);
        let by_id = self
            .outstanding
            .iter()
            .position(|p| p.kind == MessageType::Message && p.request_id == Some(request_id));
        let i = by_id.or_else(|| {
            self.outstanding.iter().position(|p| {
                p.kind == MessageType::Message && handle.is_some() && p.handle == handle
            })
        });
        let Some(done) = i.and_then(|i| self.outstanding.remove(i)) else {
            self.unsolicited += 1;
            return;
        };
        let mut op = done.op;
        op.status = status;
        op.flags.0 |= chunk.flags.0;
        if status == Status::Ok && matches!(service, 431 | 464) && payload.response_rest().is_some()
        {
            server_identity(dir, service, payload, facts);
        }
        ops.push(op);
    }

    #[allow(clippy::too_many_arguments)]
    fn request(
        &mut self,
        ops: &mut Vec<OtOperation>,
        request_id: Option<u32>,
        handle: Option<u32>,
        service: u32,
        kind: MessageType,
        target: String,
        flags: Flags,
        ts: i64,
    ) {
        if self.outstanding.len() >= MAX_OUTSTANDING
            && let Some(old) = self.outstanding.pop_front()
        {
            ops.push(old.op.unanswered(Flags::TOO_MANY_OUTSTANDING));
        }
        self.outstanding.push_back(Pending {
            kind,
            request_id,
            handle,
            op: OtOperation {
                protocol: PROTOCOL,
                pdu: None,
                function: describe(service),
                target,
                status: Status::NoResponse,
                flags,
                ts,
            },
        });
    }

    /// Completes the oldest outstanding request `matches` accepts.
    fn complete(
        &mut self,
        ops: &mut Vec<OtOperation>,
        matches: impl Fn(&Pending) -> bool,
        status: Status,
        flags: Flags,
    ) {
        let Some(mut done) = self
            .outstanding
            .iter()
            .position(matches)
            .and_then(|i| self.outstanding.remove(i))
        else {
            self.unsolicited += 1;
            return;
        };
        done.op.status = status;
        done.op.flags.0 |= flags.0;
        ops.push(done.op);
    }

    fn abort(&mut self, ops: &mut Vec<OtOperation>, request_id: u32, code: u32, flags: Flags) {
        self.complete(
            ops,
            |p| p.kind == MessageType::Message && p.request_id == Some(request_id),
            Status::Exception(code),
            flags,
        );
    }

    /// The flow ended: requests still waiting are reported unanswered.
    pub fn finish(&mut self, ops: &mut Vec<OtOperation>) {
        ops.extend(
            self.outstanding
                .drain(..)
                .map(|p| p.op.unanswered(Flags::NO_RESPONSE)),
        );
    }
}

/// The error code of an abort chunk: after the sequence header, error u32 and reason.
fn payload_error(body: &[u8]) -> u32 {
    body.get(16..20)
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Appends the first node a request addresses, and how many more.
fn first_node(service: u32, mut c: Cursor<'_>, target: &mut String) {
    // Fields between the request header and the array of items whose first field is
    // the node id.
    let ok = match service {
        631 => c.take(12).is_some(), // max age f64, timestamps to return u32
        673 | 712 | 560 | 554 => true,
        527 => {
            // view: view id, timestamp, view version; then max references per node
            c.node_id().is_some() && c.take(12).is_some() && c.u32().is_some()
        }
        _ => false,
    };
    if !ok {
        return;
    }
    let Some(n) = c.i32() else { return };
    if n < 1 {
        return;
    }
    let Some(node) = c.node_id() else { return };
    target.push(' ');
    node.write_to(target);
    if service == 712
        && let Some(method) = c.node_id()
    {
        target.push_str(" method ");
        method.write_to(target);
    }
    if n > 1 {
        let _ = write!(target, " (+{} more)", n - 1);
    }
}

/// ApplicationUri, ProductUri and ApplicationName of the first endpoint of a
/// GetEndpoints (431) or CreateSession (464) response, after the response header.
fn server_identity(dir: Direction, service: u32, mut c: Cursor<'_>, facts: &mut Vec<IdentityFact>) {
    if service == 464 {
        // session id, authentication token, revised timeout, nonce, certificate
        let skipped = c
            .node_id()
            .and(c.node_id())
            .and(c.take(8))
            .and(c.bytes())
            .and(c.bytes());
        if skipped.is_none() {
            return;
        }
    }
    // Endpoint array count, then the endpoint URL and the server's description.
    if c.i32().is_none_or(|n| n < 1) || c.bytes().is_none() {
        return;
    }
    let (Some(app_uri), Some(product_uri), Some(name)) = (c.bytes(), c.bytes(), c.localized_text())
    else {
        return;
    };
    for (value, kind) in [
        (app_uri, IdentityKind::Description),
        (product_uri, IdentityKind::Product),
        (name, IdentityKind::Software),
    ] {
        let Some(value) = value.map(text).filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        facts.push(IdentityFact {
            about: Subject::Side(dir),
            kind,
            value,
            protocol: PROTOCOL,
        });
    }
}

#[cfg(test)]
mod tests;
