//! Acceptance: HTTP, TLS and SSDP fields equal tshark's, on a capture the test builds.
//!
//! The capture (written to the temporary directory) holds:
//! - HTTP on port 80: two pipelined requests in one segment (a GET and a POST with a
//!   body), answered by a response whose head spans two segments and a chunked one;
//!   on port 8080 a request spread over three segments and a 5000-byte response body
//!   in four segments, then a HEAD and its answer.
//! - HTTP on port 8081 with bytes lost in mid-body and in a response head
//!   (tshark does not dissect port 8081 as HTTP, and could not reassemble across the
//!   holes anyway): checked against what was sent.
//! - TLS on port 443: a TLS 1.2 connection whose ClientHello spans two records and
//!   three segments, and whose server flight (ServerHello, Certificate,
//!   ServerHelloDone) is one record; a TLS 1.3-style connection with several records
//!   in one segment.
//! - SSDP: an M-SEARCH, a NOTIFY and a search response.
//!
//! Rules. HTTP: per request (`http.request`) the TCP server port, `http.request.method`,
//! `http.host`, `http.request.uri` and `http.user_agent`; per response
//! (`http.response`) the port, `http.response.code`, `http.response.phrase` and
//! `http.server`; compared as sorted lists with mamori's `HttpRecord`s. TLS: per
//! ClientHello `tls.handshake.extensions_server_name`, `tls.handshake.ja3_full` and
//! `tls.handshake.ja3`; per ServerHello `tls.handshake.ja3s_full`, `tls.handshake.ja3s`
//! and `tls.handshake.ciphersuite`; per Certificate the `x509sat` strings (issuer's,
//! then subject's, in DER order) and `x509af.utcTime`. tshark 4.0 has no JA4: JA4 is
//! checked against FoxIO's published example in the unit tests. SSDP: per datagram
//! `http.request.method` or `http.response.code`, `http.server`, `http.user_agent`,
//! `http.location` and the `ST`/`NT`/`USN` lines of `http.unknown_header`.
//!
//! The shared captures hold no HTTP or TLS (tshark's `http || tls || ssdp` over all of
//! them, 2026-11); `emreekin_modbusAnalog.pcap` holds 12 SSDP M-SEARCH datagrams,
//! compared the same way.

mod common;

use std::fs::File;
use std::io::BufWriter;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use mamori_dissect::contract::{Flags, Parsed, PduParser};
use mamori_dissect::it::{http, ssdp, tls};
use mamori_flow::Direction;
use mamori_flow::reassembly::Chunk;
use mamori_wire::build::{self, EthernetSpec, L4};
use mamori_wire::capture::writer::{CaptureWriter, WriteFormat};
use mamori_wire::decode::{MacAddr, TcpFlags};
use mamori_wire::{LinkType, Timestamp};

// ---------------------------------------------------------------- capture building

struct Capture {
    frames: Vec<(Timestamp, Vec<u8>)>,
    t: i64,
}

impl Capture {
    fn frame(&mut self, src: IpAddr, dst: IpAddr, l4: &L4<'_>) {
        let eth = EthernetSpec {
            src: MacAddr([2, 0, 0, 0, 0, 1]),
            dst: MacAddr([2, 0, 0, 0, 0, 2]),
            vlan: None,
        };
        let mut out = Vec::new();
        build::ip_frame(&mut out, &eth, src, dst, 64, self.frames.len() as u16, l4);
        self.t += 1_000_000;
        self.frames
            .push((Timestamp(1_700_000_000_000_000_000 + self.t), out));
    }

    fn write(&self, path: &Path) {
        let mut w = CaptureWriter::new(
            BufWriter::new(File::create(path).expect("create capture")),
            WriteFormat::Pcap,
            LinkType::ETHERNET,
        )
        .expect("pcap header");
        for (ts, f) in &self.frames {
            w.write_packet(*ts, f).expect("write packet");
        }
        w.finish().expect("finish capture");
    }
}

/// One TCP connection: [client, server] addresses, ports and next sequence numbers.
struct Tcp {
    ip: [IpAddr; 2],
    port: [u16; 2],
    seq: [u32; 2],
}

impl Tcp {
    fn open(cap: &mut Capture, client: u8, cport: u16, server: u8, sport: u16) -> Tcp {
        let ip = |x| IpAddr::V4(Ipv4Addr::new(10, 0, 0, x));
        let mut t = Tcp {
            ip: [ip(client), ip(server)],
            port: [cport, sport],
            seq: [1000, 5000],
        };
        t.packet(cap, 0, TcpFlags::SYN, &[]);
        t.seq[0] += 1;
        t.packet(cap, 1, TcpFlags::SYN | TcpFlags::ACK, &[]);
        t.seq[1] += 1;
        t.packet(cap, 0, TcpFlags::ACK, &[]);
        t
    }

    fn packet(&mut self, cap: &mut Capture, from: usize, flags: u8, payload: &[u8]) {
        let to = 1 - from;
        let ack = if flags & TcpFlags::SYN != 0 && from == 0 {
            0
        } else {
            self.seq[to]
        };
        cap.frame(
            self.ip[from],
            self.ip[to],
            &L4::Tcp {
                src_port: self.port[from],
                dst_port: self.port[to],
                seq: self.seq[from],
                ack,
                flags,
                window: 65535,
                options: &[],
                payload,
            },
        );
    }

    /// Sends `payload` from the client (0) or server (1), then the peer's ACK.
    fn send(&mut self, cap: &mut Capture, from: usize, payload: &[u8]) {
        self.packet(cap, from, TcpFlags::PSH | TcpFlags::ACK, payload);
        self.seq[from] = self.seq[from].wrapping_add(payload.len() as u32);
        self.packet(cap, 1 - from, TcpFlags::ACK, &[]);
    }

    /// `n` bytes from `from` the capture never saw.
    fn lose(&mut self, from: usize, n: usize) {
        self.seq[from] = self.seq[from].wrapping_add(n as u32);
    }

    fn close(&mut self, cap: &mut Capture) {
        self.packet(cap, 0, TcpFlags::FIN | TcpFlags::ACK, &[]);
        self.seq[0] += 1;
        self.packet(cap, 1, TcpFlags::FIN | TcpFlags::ACK, &[]);
        self.seq[1] += 1;
        self.packet(cap, 0, TcpFlags::ACK, &[]);
    }
}

// ------------------------------------------------------------------ TLS building

fn vec8(b: &[u8]) -> Vec<u8> {
    [&[b.len() as u8][..], b].concat()
}
fn vec16(b: &[u8]) -> Vec<u8> {
    [&(b.len() as u16).to_be_bytes()[..], b].concat()
}
fn vec24(b: &[u8]) -> Vec<u8> {
    [&(b.len() as u32).to_be_bytes()[1..], b].concat()
}
fn u16s(vals: &[u16]) -> Vec<u8> {
    vals.iter().flat_map(|v| v.to_be_bytes()).collect()
}
fn ext(t: u16, data: &[u8]) -> Vec<u8> {
    [&t.to_be_bytes()[..], &vec16(data)].concat()
}
fn handshake(t: u8, body: &[u8]) -> Vec<u8> {
    [&[t][..], &vec24(body)].concat()
}
fn record(ct: u8, fragment: &[u8]) -> Vec<u8> {
    [&[ct, 3, 3][..], &vec16(fragment)].concat()
}

/// A ClientHello with GREASE values, SNI `sni`, ALPN, groups, point formats,
/// signature algorithms and supported_versions.
fn client_hello(sni: &str, legacy: u16, versions: &[u16]) -> Vec<u8> {
    let mut exts = ext(0x0a0a, &[]); // GREASE
    exts.extend(ext(
        0,
        &vec16(&[&[0u8][..], &vec16(sni.as_bytes())].concat()),
    )); // SNI
    exts.extend(ext(0x0017, &[])); // extended_master_secret
    exts.extend(ext(0x000a, &vec16(&u16s(&[0x4a4a, 0x001d, 0x0017])))); // groups
    exts.extend(ext(0x000b, &vec8(&[0, 1]))); // point formats
    exts.extend(ext(0x000d, &vec16(&u16s(&[0x0403, 0x0804, 0x0401])))); // sig algs
    exts.extend(ext(
        0x0010,
        &vec16(&[vec8(b"h2"), vec8(b"http/1.1")].concat()),
    )); // ALPN
    exts.extend(ext(0x002b, &vec8(&u16s(versions)))); // supported_versions
    let mut body = legacy.to_be_bytes().to_vec();
    body.extend([0x42; 32]); // random
    body.extend(vec8(&[0x17; 32])); // session id
    body.extend(vec16(&u16s(&[0x2a2a, 0x1301, 0xc02f, 0xc030, 0x009c])));
    body.extend(vec8(&[0])); // null compression
    body.extend(vec16(&exts));
    handshake(1, &body)
}

fn server_hello(cipher: u16, exts: &[u8]) -> Vec<u8> {
    let mut body = vec![3, 3];
    body.extend([0x24; 32]);
    body.extend(vec8(&[0x17; 32]));
    body.extend(cipher.to_be_bytes());
    body.push(0);
    body.extend(vec16(exts));
    handshake(2, &body)
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let len = content.len();
    let mut v = vec![tag];
    if len < 0x80 {
        v.push(len as u8);
    } else {
        v.extend([0x82, (len >> 8) as u8, len as u8]);
    }
    v.extend_from_slice(content);
    v
}

fn name(attrs: &[(u8, u8, &str)]) -> Vec<u8> {
    let rdns: Vec<u8> = attrs
        .iter()
        .flat_map(|(attr, tag, v)| {
            let atv = [tlv(0x06, &[0x55, 0x04, *attr]), tlv(*tag, v.as_bytes())].concat();
            tlv(0x31, &tlv(0x30, &atv))
        })
        .collect();
    tlv(0x30, &rdns)
}

/// A certificate for `cn` (unsigned: the signature bits are filler).
fn certificate(cn: &str) -> Vec<u8> {
    let alg = tlv(
        0x30,
        &tlv(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]),
    );
    let key_alg = [
        tlv(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]),
        tlv(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]),
    ]
    .concat();
    let spki = tlv(
        0x30,
        &[
            tlv(0x30, &key_alg),
            tlv(0x03, &[&[0u8, 4][..], &[7; 64]].concat()),
        ]
        .concat(),
    );
    let tbs = tlv(
        0x30,
        &[
            tlv(0xa0, &tlv(0x02, &[2])),
            tlv(0x02, &[0x0a, 0xbc]),
            alg.clone(),
            name(&[
                (6, 0x13, "JP"),
                (10, 0x13, "Plant CA"),
                (3, 0x13, "Plant Root CA"),
            ]),
            tlv(
                0x30,
                &[tlv(0x17, b"250401000000Z"), tlv(0x17, b"300331235959Z")].concat(),
            ),
            name(&[(6, 0x13, "JP"), (10, 0x0c, "Factory One"), (3, 0x0c, cn)]),
            spki,
        ]
        .concat(),
    );
    tlv(0x30, &[tbs, alg, tlv(0x03, &[0, 1, 2, 3, 4])].concat())
}

// --------------------------------------------------------------- the capture

const GET: &[u8] = b"GET /status.html HTTP/1.1\r\n\
    Host: plc-1.plant\r\n\
    User-Agent: curl/8.5.0\r\n\
    Accept: */*\r\n\
    \r\n";
const POST: &[u8] = b"POST /api/setpoint HTTP/1.1\r\n\
    Host: plc-1.plant\r\n\
    User-Agent: HMI-Panel/2.3\r\n\
    Content-Type: application/json\r\n\
    Content-Length: 13\r\n\
    \r\n\
    {\"value\": 42}";
const OK: &[u8] = b"HTTP/1.1 200 OK\r\n\
    Server: lighttpd/1.4.59\r\n\
    Content-Type: text/html\r\n\
    Content-Length: 12\r\n\
    \r\n\
    <html></html";
const CHUNKED: &[u8] = b"HTTP/1.1 403 Forbidden\r\n\
    Server: lighttpd/1.4.59\r\n\
    Transfer-Encoding: chunked\r\n\
    \r\n\
    5\r\n\
    nope.\r\n\
    3\r\n\
    !!!\r\n\
    0\r\n\
    \r\n";

const SEARCH: &[u8] = b"M-SEARCH * HTTP/1.1\r\n\
    HOST: 239.255.255.250:1900\r\n\
    MAN: \"ssdp:discover\"\r\n\
    MX: 2\r\n\
    ST: ssdp:all\r\n\
    USER-AGENT: Windows/10.0 UPnP/2.0 Test/1\r\n\
    \r\n";
const NOTIFY: &[u8] = b"NOTIFY * HTTP/1.1\r\n\
    HOST: 239.255.255.250:1900\r\n\
    CACHE-CONTROL: max-age=1800\r\n\
    LOCATION: http://10.0.0.30:49152/desc.xml\r\n\
    NT: upnp:rootdevice\r\n\
    NTS: ssdp:alive\r\n\
    SERVER: Linux/4.19 UPnP/1.0 HMI/5.1\r\n\
    USN: uuid:hmi-30::upnp:rootdevice\r\n\
    \r\n";
const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\n\
    CACHE-CONTROL: max-age=120\r\n\
    EXT:\r\n\
    LOCATION: http://10.0.0.31:80/upnp.xml\r\n\
    SERVER: VxWorks/6.9 UPnP/1.0 PLC/3\r\n\
    ST: upnp:rootdevice\r\n\
    USN: uuid:plc-31::upnp:rootdevice\r\n\
    \r\n";

fn build_capture(path: &Path) {
    let mut cap = Capture {
        frames: Vec::new(),
        t: 0,
    };
    // HTTP, port 80: pipelined requests in one segment; a head across two segments.
    let mut c = Tcp::open(&mut cap, 10, 50001, 20, 80);
    c.send(&mut cap, 0, &[GET, POST].concat());
    c.send(&mut cap, 1, &OK[..30]);
    c.send(&mut cap, 1, &[&OK[30..], CHUNKED].concat());
    c.close(&mut cap);
    // HTTP, port 8080: a request over three segments, a body over four, then HEAD.
    let mut c = Tcp::open(&mut cap, 11, 50002, 21, 8080);
    for piece in GET.chunks(35) {
        c.send(&mut cap, 0, piece);
    }
    let big = [
        b"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 5000\r\n\r\n".as_slice(),
        &[b'x'; 5000],
    ]
    .concat();
    for piece in big.chunks(1400) {
        c.send(&mut cap, 1, piece);
    }
    c.send(
        &mut cap,
        0,
        b"HEAD /big HTTP/1.1\r\nHost: hist.plant\r\nUser-Agent: Python-urllib/3.11\r\n\r\n",
    );
    c.send(
        &mut cap,
        1,
        b"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 5000\r\n\r\n",
    );
    c.close(&mut cap);
    // HTTP, port 8081: a hole in a body, then a hole in a response head.
    let mut c = Tcp::open(&mut cap, 12, 50003, 22, 8081);
    c.send(&mut cap, 0, GET);
    c.send(&mut cap, 1, &big[..1000]);
    c.lose(1, 3000);
    c.send(&mut cap, 1, &big[4000..]);
    c.send(&mut cap, 0, &[POST, GET].concat());
    c.send(&mut cap, 1, &OK[..20]);
    c.lose(1, OK.len() - 20);
    c.send(&mut cap, 1, CHUNKED);
    c.send(&mut cap, 0, GET);
    c.send(&mut cap, 1, OK);
    c.close(&mut cap);
    // TLS 1.2: ClientHello over two records and three segments; one server record.
    let mut c = Tcp::open(&mut cap, 13, 50004, 23, 443);
    let ch = client_hello("historian.plant.example", 0x0303, &[0x1a1a, 0x0303]);
    let (a, b) = ch.split_at(60);
    let stream = [record(22, a), record(22, b)].concat();
    for piece in stream.chunks(90) {
        c.send(&mut cap, 0, piece);
    }
    let cert = certificate("historian.plant.example");
    let flight = [
        server_hello(0xc02f, &[ext(0xff01, &[0]), ext(0x0017, &[])].concat()),
        handshake(11, &vec24(&vec24(&cert))),
        handshake(14, &[]),
    ]
    .concat();
    c.send(&mut cap, 1, &record(22, &flight));
    c.send(
        &mut cap,
        0,
        &[
            record(22, &handshake(16, &vec8(&[9; 65]))),
            record(20, &[1]),
            record(22, &[0xe1; 40]),
        ]
        .concat(),
    );
    c.send(
        &mut cap,
        1,
        &[record(20, &[1]), record(22, &[0xe2; 40])].concat(),
    );
    c.send(&mut cap, 0, &record(23, &[0xe3; 200]));
    c.send(&mut cap, 1, &record(23, &[0xe4; 900]));
    c.close(&mut cap);
    // TLS 1.3 style: ServerHello, CCS and encrypted records in one segment.
    let mut c = Tcp::open(&mut cap, 14, 50005, 24, 443);
    c.send(
        &mut cap,
        0,
        &record(
            22,
            &client_hello("opc.plant.example", 0x0303, &[0x0304, 0x0303]),
        ),
    );
    let sh = server_hello(
        0x1301,
        &[
            ext(0x002b, &[3, 4]),
            ext(0x0033, &[&[0u8, 0x1d, 0, 32][..], &[5; 32]].concat()),
        ]
        .concat(),
    );
    c.send(
        &mut cap,
        1,
        &[
            record(22, &sh),
            record(20, &[1]),
            record(23, &[1; 500]),
            record(23, &[2; 300]),
        ]
        .concat(),
    );
    c.send(
        &mut cap,
        0,
        &[
            record(20, &[1]),
            record(23, &[3; 53]),
            record(23, &[4; 100]),
        ]
        .concat(),
    );
    c.close(&mut cap);
    // SSDP.
    let ip = |x| IpAddr::V4(Ipv4Addr::new(10, 0, 0, x));
    let mcast = IpAddr::V4(Ipv4Addr::new(239, 255, 255, 250));
    for (src, sport, dst, dport, payload) in [
        (ip(40), 50100, mcast, 1900, SEARCH),
        (ip(30), 1900, mcast, 1900, NOTIFY),
        (ip(31), 1900, ip(40), 50100, RESPONSE),
    ] {
        cap.frame(
            src,
            dst,
            &L4::Udp {
                src_port: sport,
                dst_port: dport,
                payload,
            },
        );
    }
    cap.write(path);
}

/// Builds the capture into a file of its own for `test` (tests run in parallel).
fn capture_path(test: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("mamori-{test}-{}.pcap", std::process::id()));
    build_capture(&path);
    path
}

// ---------------------------------------------------------------------- ours

#[derive(Default)]
struct Flow {
    http: http::Session,
    tls: tls::Session,
    port: u16,
    http_records: Vec<http::HttpRecord>,
    facts: Vec<mamori_dissect::record::IdentityFact>,
}

const HTTP_PORTS: [u16; 3] = [80, 8080, 8081];

/// Every HTTP record and TLS record of the capture, with the server port.
fn ours(
    path: &Path,
) -> (
    Vec<(u16, http::HttpRecord)>,
    Vec<tls::TlsRecord>,
    Vec<mamori_dissect::record::IdentityFact>,
) {
    let mut http_out = Vec::new();
    let mut tls_out = Vec::new();
    let mut facts = Vec::new();
    common::replay_tcp::<Flow>(
        path,
        |flow, ports, dir, ts, chunk| {
            if let Some(port) = HTTP_PORTS
                .iter()
                .copied()
                .find(|&p| common::towards_server(p, ports, dir).is_some())
            {
                let Some(dir) = common::towards_server(port, ports, dir) else {
                    return;
                };
                flow.port = port;
                match chunk {
                    Chunk::Data(b) => {
                        flow.http
                            .on_data(dir, ts, b, &mut flow.http_records, &mut flow.facts)
                    }
                    Chunk::Gap(n) => flow.http.on_gap(dir, n),
                }
            } else if let Some(dir) = common::towards_server(443, ports, dir) {
                flow.port = 443;
                match chunk {
                    Chunk::Data(b) => flow.tls.on_data(dir, ts, b, &mut flow.facts),
                    Chunk::Gap(n) => flow.tls.on_gap(dir, n),
                }
            }
        },
        |_, mut flow| {
            flow.http.finish(&mut flow.http_records);
            http_out.extend(flow.http_records.into_iter().map(|r| (flow.port, r)));
            flow.tls.finish(&mut tls_out);
            facts.extend(flow.facts);
        },
    );
    (http_out, tls_out, facts)
}

fn ours_ssdp(path: &Path) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    common::replay_udp(path, |(_, sport), (_, dport), _, payload| {
        if sport != ssdp::PORT && dport != ssdp::PORT {
            return;
        }
        if let Parsed::Pdu { pdu: m, .. } = ssdp::Parser.parse(Direction::Orig, payload) {
            let s = |v: Option<&[u8]>| String::from_utf8_lossy(v.unwrap_or_default()).into_owned();
            let kind = match m.kind {
                ssdp::Kind::Search => "M-SEARCH".to_string(),
                ssdp::Kind::Notify => "NOTIFY".to_string(),
                ssdp::Kind::Other(x) => String::from_utf8_lossy(x).into_owned(),
                ssdp::Kind::Response(c) => c.to_string(),
            };
            let mut unknown = Vec::new();
            for (label, v) in [("ST", m.st), ("NT", m.nt), ("USN", m.usn)] {
                if let Some(v) = v {
                    unknown.push(format!("{label}: {}", String::from_utf8_lossy(v)));
                }
            }
            unknown.sort();
            out.push(vec![
                kind,
                s(m.server),
                s(m.user_agent),
                s(m.location),
                unknown.join("|"),
            ]);
        }
    });
    out.sort();
    out
}

// -------------------------------------------------------------------- theirs

fn first(v: &[String]) -> String {
    v.first().cloned().unwrap_or_default()
}

fn theirs_ssdp(path: &Path) -> Vec<Vec<String>> {
    // tshark 4.0 files SSDP's own headers under `http.unknown_header` in a NOTIFY but
    // under `http.request.line` / `http.response.line` in M-SEARCH and responses.
    let fields = [
        "http.request.method",
        "http.response.code",
        "http.server",
        "http.user_agent",
        "http.location",
        "http.unknown_header",
        "http.request.line",
        "http.response.line",
    ];
    let mut out: Vec<Vec<String>> = common::tshark_fields(path, "ssdp", &fields)
        .into_iter()
        .map(|f| {
            let kind = if f[0].is_empty() {
                first(&f[1])
            } else {
                first(&f[0])
            };
            // Header lines arrive as `Name: value\r\n`; keep ST, NT and USN.
            let mut lines: Vec<String> = f[5..8]
                .iter()
                .flatten()
                .map(|h| h.trim_end_matches("\\r\\n").to_string())
                .filter(|h| {
                    let u = h.to_ascii_uppercase();
                    ["ST:", "NT:", "USN:"].iter().any(|p| u.starts_with(p))
                })
                .collect();
            lines.sort();
            lines.dedup();
            vec![
                kind,
                first(&f[2]),
                first(&f[3]),
                first(&f[4]),
                lines.join("|"),
            ]
        })
        .collect();
    out.sort();
    out
}

/// One row per PDU: tshark aggregates the fields of several PDUs in one frame, so
/// the `n`-th PDU takes each field's `n`-th value (the first field has one per PDU).
fn per_pdu(frames: Vec<Vec<Vec<String>>>) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for f in frames {
        for i in 0..f.get(1).map_or(0, Vec::len) {
            rows.push(
                f.iter()
                    .enumerate()
                    .map(|(k, v)| {
                        let at = if k == 0 { 0 } else { i };
                        v.get(at).cloned().unwrap_or_default()
                    })
                    .collect(),
            );
        }
    }
    rows
}

// --------------------------------------------------------------------- tests

#[test]
fn http_fields_equal_tsharks() {
    if !common::have_tshark("http_fields_equal_tsharks") {
        return;
    }
    let path = capture_path("http");
    let (records, _, facts) = ours(&path);
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut our_req: Vec<Vec<String>> = records
        .iter()
        .filter(|(p, r)| *p != 8081 && r.method.is_some())
        .map(|(p, r)| {
            vec![
                p.to_string(),
                opt(&r.method),
                opt(&r.host),
                opt(&r.uri),
                opt(&r.user_agent),
            ]
        })
        .collect();
    let mut our_resp: Vec<Vec<String>> = records
        .iter()
        .filter(|(p, r)| *p != 8081 && r.status_code.is_some())
        .map(|(p, r)| {
            let code = r.status_code.map(|c| c.to_string()).unwrap_or_default();
            vec![p.to_string(), code, opt(&r.status_msg), opt(&r.server)]
        })
        .collect();
    let req_fields = [
        "tcp.dstport",
        "http.request.method",
        "http.host",
        "http.request.uri",
        "http.user_agent",
    ];
    let mut their_req: Vec<Vec<String>> = per_pdu(common::tshark_fields(
        &path,
        "http.request && tcp.port != 8081",
        &req_fields,
    ));
    let resp_fields = [
        "tcp.srcport",
        "http.response.code",
        "http.response.phrase",
        "http.server",
    ];
    let mut their_resp: Vec<Vec<String>> = per_pdu(common::tshark_fields(
        &path,
        "http.response && tcp.port != 8081",
        &resp_fields,
    ));
    for v in [&mut our_req, &mut our_resp, &mut their_req, &mut their_resp] {
        v.sort();
    }
    eprintln!(
        "HTTP requests: mamori {} tshark {}; responses: mamori {} tshark {}",
        our_req.len(),
        their_req.len(),
        our_resp.len(),
        their_resp.len()
    );
    assert_eq!(our_req, their_req);
    assert_eq!(our_resp, their_resp);
    assert_eq!(our_req.len(), 4);

    // Body lengths tshark does not log as fields: what was sent.
    let lens: Vec<_> = records
        .iter()
        .filter(|(p, _)| *p != 8081)
        .map(|(p, r)| {
            (
                *p,
                r.method.clone().unwrap_or_default(),
                r.request_body_len,
                r.response_body_len,
            )
        })
        .collect();
    assert!(lens.contains(&(80, "POST".into(), 13, 8)), "{lens:?}");
    assert!(lens.contains(&(80, "GET".into(), 0, 12)), "{lens:?}");
    assert!(lens.contains(&(8080, "GET".into(), 0, 5000)), "{lens:?}");
    assert!(lens.contains(&(8080, "HEAD".into(), 0, 0)), "{lens:?}");

    // Port 8081: the hole in the body is skipped; the hole in the POST's response head
    // loses that response (flagged), and the next exchanges are found again.
    let gap: Vec<_> = records
        .iter()
        .filter(|(p, _)| *p == 8081)
        .map(|(_, r)| {
            (
                r.method.clone().unwrap_or_default(),
                r.status_code,
                r.response_body_len,
                r.flags.0,
            )
        })
        .collect();
    eprintln!("port 8081: {gap:?}");
    let lost = Flags::NO_RESPONSE | Flags::RESYNC;
    assert_eq!(
        gap,
        [
            ("GET".into(), Some(200), 5000, 0),
            ("POST".into(), None, 0, lost),
            ("GET".into(), Some(403), 8, 0),
            ("GET".into(), Some(200), 12, 0),
        ]
    );
    let user_agents = facts
        .iter()
        .filter(|f| {
            f.protocol == "http" && f.kind == mamori_dissect::record::IdentityKind::UserAgent
        })
        .count();
    assert_eq!(user_agents, 8);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn tls_fields_equal_tsharks() {
    if !common::have_tshark("tls_fields_equal_tsharks") {
        return;
    }
    let path = capture_path("tls");
    let (_, records, facts) = ours(&path);
    assert_eq!(records.len(), 2);
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut our_ch: Vec<Vec<String>> = records
        .iter()
        .map(|r| vec![opt(&r.server_name), opt(&r.ja3_string), opt(&r.ja3)])
        .collect();
    let mut our_sh: Vec<Vec<String>> = records
        .iter()
        .map(|r| {
            vec![
                opt(&r.ja3s_string),
                opt(&r.ja3s),
                r.cipher.map(|c| format!("0x{c:04x}")).unwrap_or_default(),
            ]
        })
        .collect();
    let ch_fields = [
        "tls.handshake.extensions_server_name",
        "tls.handshake.ja3_full",
        "tls.handshake.ja3",
    ];
    let mut their_ch: Vec<Vec<String>> =
        common::tshark_fields(&path, "tls.handshake.type == 1", &ch_fields)
            .iter()
            .map(|f| f.iter().map(|v| v.join(",")).collect())
            .collect();
    let sh_fields = [
        "tls.handshake.ja3s_full",
        "tls.handshake.ja3s",
        "tls.handshake.ciphersuite",
    ];
    let mut their_sh: Vec<Vec<String>> =
        common::tshark_fields(&path, "tls.handshake.type == 2", &sh_fields)
            .iter()
            .map(|f| f.iter().map(|v| v.join(",")).collect())
            .collect();
    for v in [&mut our_ch, &mut our_sh, &mut their_ch, &mut their_sh] {
        v.sort();
    }
    eprintln!("ClientHellos: mamori {our_ch:?}\n tshark {their_ch:?}");
    assert_eq!(our_ch, their_ch);
    assert_eq!(our_sh, their_sh);

    // The certificate: tshark's x509sat strings (issuer, then subject, DER order) and times.
    let cert = common::tshark_fields(
        &path,
        "tls.handshake.type == 11",
        &[
            "x509sat.printableString",
            "x509sat.uTF8String",
            "x509sat.CountryName",
            "x509af.utcTime",
        ],
    );
    assert_eq!(cert.len(), 1);
    let r = records
        .iter()
        .find(|r| r.subject.is_some())
        .expect("a record with a certificate");
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    // Issuer O and CN are PrintableStrings, subject O and CN UTF8Strings.
    assert_eq!(cert[0][0], [o(&r.issuer_o), o(&r.issuer_cn)]);
    assert_eq!(cert[0][1], [o(&r.subject_o), o(&r.subject_cn)]);
    assert_eq!(cert[0][2], ["JP", "JP"]);
    assert_eq!(
        r.issuer.as_deref(),
        Some("CN=Plant Root CA,O=Plant CA,C=JP")
    );
    assert_eq!(
        r.subject.as_deref(),
        Some("CN=historian.plant.example,O=Factory One,C=JP")
    );
    eprintln!(
        "utcTime: tshark {:?}, mamori {:?} {:?}",
        cert[0][3], r.not_valid_before, r.not_valid_after
    );
    assert_eq!(
        cert[0][3],
        ["2025-04-01 00:00:00 (UTC)", "2030-03-31 23:59:59 (UTC)"]
    );
    assert_eq!(r.not_valid_before, Some(1_743_465_600));
    assert_eq!(r.not_valid_after, Some(1_901_231_999));
    assert!(r.established);
    let tls13 = records
        .iter()
        .find(|r| r.version == Some(0x0304))
        .expect("a TLS 1.3 record");
    assert!(tls13.established);
    assert_eq!(
        tls13
            .records
            .iter()
            .map(|c| c.application_data)
            .sum::<u64>(),
        4
    );
    let hostnames: Vec<_> = facts
        .iter()
        .filter(|f| f.protocol == "tls")
        .map(|f| f.value.as_str())
        .collect();
    assert_eq!(hostnames, ["historian.plant.example"]);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn ssdp_fields_equal_tsharks() {
    if !common::have_tshark("ssdp_fields_equal_tsharks") {
        return;
    }
    let path = capture_path("ssdp");
    let (o, t) = (ours_ssdp(&path), theirs_ssdp(&path));
    eprintln!("SSDP built: mamori {o:?}\n tshark {t:?}");
    assert_eq!(o.len(), 3);
    assert_eq!(o, t);
    let _ = std::fs::remove_file(&path);
    if let Some(dir) = common::shared_pcaps("ssdp_fields_equal_tsharks") {
        let path = dir.join("emreekin_modbusAnalog.pcap");
        let (o, t) = (ours_ssdp(&path), theirs_ssdp(&path));
        eprintln!(
            "SSDP in {}: mamori {} tshark {}",
            path.display(),
            o.len(),
            t.len()
        );
        assert_eq!(o, t);
    }
}
