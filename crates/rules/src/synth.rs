//! Deterministic Emerging Threats–style rules and payloads, for tests and benchmarks.
//!
//! The real ET Open ruleset is not in the repository, so [`rules`] writes rules that
//! look like it: HTTP beacons with `depth`/`distance` chains and `nocase` user agents,
//! `pcre` on URIs, DNS queries with hex label lengths, binary C2 handshakes with
//! `dsize`, flowbits pairs, OT function codes, port lists and negations, and the kinds
//! of rules we skip (sticky buffers, `byte_test`, `tls.sni`, `itype`, `threshold`) in
//! roughly ET's proportions. The same `(count, seed)` always gives the same text.
//! [`payloads`] gives representative traffic (HTTP requests and responses, DNS, TLS,
//! Modbus, S7, binary) of which a few embed contents of the generated rules.

use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr};

use crate::engine::{PacketContext, Transport};

/// A small deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// One of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// `n` characters from `[a-z0-9]`.
    pub fn alnum(&mut self, n: usize) -> String {
        const A: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        (0..n).map(|_| *self.pick(A) as char).collect()
    }
}

const WORDS: &[&str] = &[
    "login", "admin", "update", "config", "panel", "gate", "check", "beacon", "upload", "report",
    "task", "cmd", "shell", "loader", "stage", "install", "bot", "client", "server", "data",
    "info", "status", "sync", "token", "session", "key", "invoice", "payload", "agent", "plugin",
    "module", "core",
];
const FAMILIES: &[&str] = &[
    "Zbot",
    "Emotet",
    "Qakbot",
    "AgentTesla",
    "Remcos",
    "NanoCore",
    "AsyncRAT",
    "Formbook",
    "Lokibot",
    "Ursnif",
    "IcedID",
    "Dridex",
    "TrickBot",
    "Smokeloader",
    "Amadey",
    "RedLine",
    "Vidar",
    "Raccoon",
];
const UAS: &[&str] = &[
    "Mozilla/4.0 (compatible|3b| MSIE 6.0)",
    "WinHTTP",
    "Python-urllib",
    "curl/",
    "Go-http-client",
    "Java/1.",
];
const TLDS: &[&str] = &["com", "net", "ru", "top", "xyz", "info", "biz", "cn"];

fn hex(bytes: &[u8]) -> String {
    let parts: Vec<String> = bytes.iter().map(|b| format!("{b:02X}")).collect();
    parts.join(" ")
}

/// `count` rules, sids from 2,800,000 upwards.
pub fn rules(count: usize, seed: u64) -> String {
    let mut r = Rng::new(seed);
    let mut out = String::with_capacity(count * 300);
    out.push_str("# Synthetic ET-style rules (mamori_rules::synth), deterministic.\n\n");
    for i in 0..count {
        let sid = 2_800_000 + i as u64;
        let rev = 1 + r.below(9);
        let fam = r.pick(FAMILIES);
        let n = 2 + r.below(6) as usize;
        let word = format!("{}{}", r.pick(WORDS), r.alnum(n));
        let meta = format!(
            "metadata:created_at 20{:02}_{:02}_{:02}, updated_at 2024_01_01;",
            10 + r.below(14),
            1 + r.below(12),
            1 + r.below(28)
        );
        let tail =
            |classtype: &str| format!("classtype:{classtype}; sid:{sid}; rev:{rev}; {meta})");
        let kind = r.below(100);
        let line = match kind {
            // HTTP request beacon, payload contents only.
            0..=21 => {
                let n = 3 + r.below(5) as usize;
                let path = format!("/{}/{}.php", r.pick(WORDS), r.alnum(n));
                let ua = r.pick(UAS);
                format!(
                    "alert tcp $HOME_NET any -> $EXTERNAL_NET $HTTP_PORTS (msg:\"ET MALWARE {fam} CnC Beacon {i}\"; flow:established,to_server; content:\"POST {path}\"; depth:{}; fast_pattern; content:\"{word}=\"; distance:0; content:\"User-Agent|3a 20|{ua}\"; nocase; {}",
                    path.len() + 5,
                    tail("trojan-activity")
                )
            }
            // HTTP with a pcre on the request line.
            22..=33 => {
                let dir = r.pick(WORDS);
                format!(
                    "alert tcp $HOME_NET any -> $EXTERNAL_NET $HTTP_PORTS (msg:\"ET MALWARE {fam} Checkin {i}\"; flow:to_server,established; content:\"GET /{dir}/\"; offset:0; depth:{}; content:\"?{word}=\"; distance:0; fast_pattern; pcre:\"/^GET \\/{dir}\\/[a-z0-9]{{{},{}}}\\.(php|asp|jsp)\\?{word}=[0-9a-f]+/i\"; content:\"Host|3a 20|\"; nocase; {}",
                    dir.len() + 6,
                    4 + r.below(4),
                    12 + r.below(8),
                    tail("trojan-activity")
                )
            }
            // Sticky buffers: skipped.
            34..=53 => {
                let kw = r.pick(&[
                    "http.uri",
                    "http.user_agent",
                    "http.host",
                    "http.header",
                    "http.request_body",
                    "file.data",
                ]);
                format!(
                    "alert http $HOME_NET any -> $EXTERNAL_NET any (msg:\"ET MALWARE {fam} Activity {i}\"; flow:established,to_server; {kw}; content:\"{word}\"; nocase; {}",
                    tail("trojan-activity")
                )
            }
            // Old-style HTTP modifiers: skipped.
            54..=58 => format!(
                "alert tcp $HOME_NET any -> $EXTERNAL_NET $HTTP_PORTS (msg:\"ET WEB_CLIENT {fam} {i}\"; flow:established,to_server; content:\"/{word}\"; http_uri; {}",
                tail("web-application-attack")
            ),
            // DNS query for a domain.
            59..=66 => {
                let n = 5 + r.below(10) as usize;
                let label = r.alnum(n);
                let tld = r.pick(TLDS);
                format!(
                    "alert udp $HOME_NET any -> any 53 (msg:\"ET DNS Query to {fam} Domain {label}.{tld}\"; content:\"|01 00 00 01 00 00 00 00 00 00|\"; depth:10; offset:2; content:\"|{:02X}|{label}|{:02X}|{tld}|00|\"; distance:0; nocase; {}",
                    label.len(),
                    tld.len(),
                    tail("domain-c2")
                )
            }
            // Binary C2 handshake.
            67..=74 => {
                let magic: Vec<u8> = (0..4).map(|_| r.below(256) as u8).collect();
                format!(
                    "alert tcp $EXTERNAL_NET any -> $HOME_NET any (msg:\"ET TROJAN {fam} Handshake {i}\"; flow:established,to_client; dsize:<{}; content:\"|{}|\"; depth:4; content:\"{word}\"; within:48; {}",
                    200 + r.below(800),
                    hex(&magic),
                    tail("command-and-control")
                )
            }
            // Flowbits pair (two rules share the index).
            75..=78 => {
                let bit = format!("ET.{fam}.{i}");
                if r.below(2) == 0 {
                    format!(
                        "alert tcp $HOME_NET any -> $EXTERNAL_NET any (msg:\"ET INFO {fam} Stage 1 {i}\"; flow:established,to_server; content:\"{word}\"; depth:32; flowbits:set,{bit}; flowbits:noalert; {}",
                        tail("bad-unknown")
                    )
                } else {
                    format!(
                        "alert tcp $EXTERNAL_NET any -> $HOME_NET any (msg:\"ET MALWARE {fam} Stage 2 {i}\"; flow:established,to_client; flowbits:isset,{bit}; content:\"MZ\"; depth:2; content:\"This program\"; distance:0; {}",
                        tail("trojan-activity")
                    )
                }
            }
            // byte_test / byte_jump: skipped.
            79..=84 => format!(
                "alert tcp any any -> $HOME_NET [139,445] (msg:\"ET EXPLOIT SMB {fam} {i}\"; flow:established,to_server; content:\"|FF|SMB\"; offset:4; depth:4; byte_test:2,>,{},0,relative,little; {}",
                256 + r.below(4096),
                tail("attempted-admin")
            ),
            // TLS SNI: skipped.
            85..=88 => format!(
                "alert tls $HOME_NET any -> $EXTERNAL_NET any (msg:\"ET MALWARE {fam} TLS SNI {i}\"; flow:established,to_server; tls.sni; content:\"{word}.{}\"; endswith; {}",
                r.pick(TLDS),
                tail("domain-c2")
            ),
            // ICMP type: skipped (itype unsupported).
            89..=90 => format!(
                "alert icmp $EXTERNAL_NET any -> $HOME_NET any (msg:\"ET SCAN ICMP {i}\"; itype:8; content:\"{word}\"; {}",
                tail("attempted-recon")
            ),
            // Port lists and negations.
            91..=95 => {
                let ports = r.pick(&[
                    "[1024:,!8080]",
                    "![80,443]",
                    "[21,23,2323]",
                    "$SHELLCODE_PORTS",
                    "[5000:5100]",
                ]);
                format!(
                    "alert tcp $EXTERNAL_NET any -> $HOME_NET {ports} (msg:\"ET ATTACK_RESPONSE {fam} {i}\"; flow:established; content:\"{word}\"; nocase; content:!\"{}\"; distance:0; within:64; {}",
                    r.alnum(6),
                    tail("successful-admin")
                )
            }
            // OT: Modbus function codes (one rule in two hundred).
            96 if i % 2 == 0 => format!(
                "alert tcp any any -> $HOME_NET 502 (msg:\"ET SCADA Modbus function {} {i}\"; flow:established,to_server; content:\"|00 00|\"; offset:2; depth:2; content:\"|{:02X} {:02X}|\"; offset:6; depth:2; {}",
                r.below(128),
                1 + r.below(247),
                r.below(128),
                tail("protocol-command-decode")
            ),
            // threshold: skipped.
            _ => format!(
                "alert tcp $HOME_NET any -> $EXTERNAL_NET 25 (msg:\"ET POLICY {fam} SMTP {i}\"; flow:established,to_server; content:\"{word}\"; threshold:type limit, track by_src, count 1, seconds 60; {}",
                tail("policy-violation")
            ),
        };
        out.push_str(&line);
        out.push('\n');
        if i % 97 == 0 {
            out.push_str("#alert tcp any any -> any any (msg:\"disabled\"; sid:1;)\n\n");
        }
    }
    out
}

/// One synthetic packet.
#[derive(Debug, Clone)]
pub struct Packet {
    /// Transport.
    pub proto: Transport,
    /// Sender.
    pub src: (IpAddr, u16),
    /// Receiver.
    pub dst: (IpAddr, u16),
    /// Client to server.
    pub to_server: bool,
    /// Payload.
    pub payload: Vec<u8>,
}

impl Packet {
    /// The packet as a scan context (established, not a stream chunk).
    pub fn context(&self) -> PacketContext<'_> {
        PacketContext {
            proto: self.proto,
            src: self.src,
            dst: self.dst,
            to_server: self.to_server,
            established: true,
            stream: false,
            payload: &self.payload,
        }
    }
}

fn ip(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

/// `count` representative packets: a mix of HTTP requests (some carrying contents of
/// the rules from [`rules`] with the same seed), HTTP responses with HTML, DNS
/// queries, TLS records, Modbus and S7 requests and opaque binary.
pub fn payloads(count: usize, seed: u64) -> Vec<Packet> {
    let mut r = Rng::new(seed ^ 0x5eed);
    let client = ip(192, 168, 10, 20);
    let server = ip(203, 0, 113, 7);
    let plc = ip(10, 0, 1, 10);
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let sport = 49152 + (i % 16000) as u16;
        let p = match i % 10 {
            0..=2 => {
                let word = format!("{}{}", r.pick(WORDS), r.alnum(3));
                let path = format!(
                    "/{}/{}.php?{word}={:x}",
                    r.pick(WORDS),
                    r.alnum(6),
                    r.next_u64()
                );
                let ua = r.pick(&[
                    "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
                    "WinHTTP",
                    "curl/8.1",
                ]);
                let payload = format!(
                    "GET {path} HTTP/1.1\r\nHost: {}.example.com\r\nUser-Agent: {ua}\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n\r\n",
                    r.alnum(8)
                );
                Packet {
                    proto: Transport::Tcp,
                    src: (client, sport),
                    dst: (server, 80),
                    to_server: true,
                    payload: payload.into_bytes(),
                }
            }
            3..=4 => {
                let mut body = String::from(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nServer: nginx\r\n\r\n<html><head><title>",
                );
                while body.len() < 1400 {
                    let _ = write!(body, "{} {} ", r.pick(WORDS), r.alnum(5));
                    if r.below(8) == 0 {
                        body.push_str("</p><p>");
                    }
                }
                body.truncate(1400);
                Packet {
                    proto: Transport::Tcp,
                    src: (server, 80),
                    dst: (client, sport),
                    to_server: false,
                    payload: body.into_bytes(),
                }
            }
            5 => {
                let mut q = vec![(i >> 8) as u8, i as u8, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
                let label = r.alnum(8);
                q.push(label.len() as u8);
                q.extend_from_slice(label.as_bytes());
                q.extend_from_slice(b"\x03com\x00\x00\x01\x00\x01");
                Packet {
                    proto: Transport::Udp,
                    src: (client, sport),
                    dst: (ip(192, 168, 10, 1), 53),
                    to_server: true,
                    payload: q,
                }
            }
            6 => {
                let mut t = vec![
                    0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
                ];
                t.extend((0..500).map(|_| r.below(256) as u8));
                Packet {
                    proto: Transport::Tcp,
                    src: (client, sport),
                    dst: (server, 443),
                    to_server: true,
                    payload: t,
                }
            }
            7 => {
                // MBAP: transaction, protocol 0, length 6, unit 1; read holding registers.
                let m = vec![
                    0x00, i as u8, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x0a,
                ];
                Packet {
                    proto: Transport::Tcp,
                    src: (ip(10, 0, 1, 5), sport),
                    dst: (plc, 502),
                    to_server: true,
                    payload: m,
                }
            }
            8 => {
                // TPKT + COTP DT + S7comm job read var.
                let s = vec![
                    0x03, 0x00, 0x00, 0x1f, 0x02, 0xf0, 0x80, 0x32, 0x01, 0x00, 0x00, 0x00, 0x01,
                    0x00, 0x0e, 0x00, 0x00, 0x04, 0x01, 0x12, 0x0a, 0x10, 0x02, 0x00, 0x01, 0x00,
                    0x01, 0x84, 0x00, 0x00, 0x00,
                ];
                Packet {
                    proto: Transport::Tcp,
                    src: (ip(10, 0, 1, 5), sport),
                    dst: (plc, 102),
                    to_server: true,
                    payload: s,
                }
            }
            _ => {
                let n = 64 + r.below(1400) as usize;
                let b: Vec<u8> = (0..n).map(|_| r.below(256) as u8).collect();
                Packet {
                    proto: Transport::Tcp,
                    src: (server, 8443),
                    dst: (client, sport),
                    to_server: false,
                    payload: b,
                }
            }
        };
        out.push(p);
    }
    out
}

/// Payloads that match the first `max` beacon rules of `rules_text` (from [`rules`]):
/// each rule's contents in order, joined by a short filler, sent from a `$HOME_NET`
/// client to an external web server.
pub fn attack_payloads(rules_text: &str, max: usize) -> Vec<Packet> {
    let mut out = Vec::new();
    for line in rules_text
        .lines()
        .filter(|l| l.contains("CnC Beacon"))
        .take(max)
    {
        let mut payload = Vec::new();
        let mut rest = line;
        while let Some(at) = rest.find("content:\"") {
            let value = &rest[at + 9..];
            let mut end = 0;
            let bytes = value.as_bytes();
            while end < bytes.len() && bytes[end] != b'"' {
                end += if bytes[end] == b'\\' { 2 } else { 1 };
            }
            let Some(inner) = value.get(..end) else { break };
            if let Ok(b) = crate::content::decode(inner) {
                payload.extend_from_slice(&b);
                payload.extend_from_slice(b" \r\n");
            }
            rest = value.get(end..).unwrap_or("");
        }
        out.push(Packet {
            proto: Transport::Tcp,
            src: (ip(192, 168, 10, 20), 50123),
            dst: (ip(203, 0, 113, 7), 80),
            to_server: true,
            payload,
        });
    }
    out
}
