//! HTTP/1.1 and TLS 1.3 handshakes as a browser or an updater sends them.

use super::put_u16;
use crate::rng::Rng;

fn u24(out: &mut Vec<u8>, v: usize) {
    out.extend_from_slice(&(v as u32).to_be_bytes()[1..]);
}

/// Patches a big-endian u16 length at `at` to cover everything after it.
fn len16(out: &mut [u8], at: usize) {
    let n = (out.len() - at - 2) as u16;
    out[at..at + 2].copy_from_slice(&n.to_be_bytes());
}

fn ext(out: &mut Vec<u8>, kind: u16, body: impl FnOnce(&mut Vec<u8>)) {
    put_u16(out, kind);
    let at = out.len();
    put_u16(out, 0);
    body(out);
    len16(out, at);
}

/// A TLS 1.3 ClientHello record with SNI and ALPN.
pub(crate) fn client_hello(out: &mut Vec<u8>, sni: &str, rng: &mut Rng) {
    out.extend_from_slice(&[0x16, 0x03, 0x01]);
    let rec = out.len();
    put_u16(out, 0);
    out.push(0x01);
    let hs = out.len();
    u24(out, 0);
    out.extend_from_slice(&[0x03, 0x03]);
    let mut random = [0u8; 32];
    rng.fill(&mut random);
    out.extend_from_slice(&random);
    out.push(32);
    rng.fill(&mut random);
    out.extend_from_slice(&random);
    let suites: [u16; 8] = [
        0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9,
    ];
    put_u16(out, (suites.len() * 2) as u16);
    for s in suites {
        put_u16(out, s);
    }
    out.extend_from_slice(&[1, 0]); // null compression
    let exts = out.len();
    put_u16(out, 0);
    ext(out, 0x0000, |o| {
        put_u16(o, (sni.len() + 3) as u16);
        o.push(0);
        put_u16(o, sni.len() as u16);
        o.extend_from_slice(sni.as_bytes());
    });
    ext(out, 0x0017, |_| {}); // extended master secret
    ext(out, 0xff01, |o| o.push(0)); // renegotiation info
    ext(out, 0x000a, |o| {
        put_u16(o, 6);
        for g in [0x001d, 0x0017, 0x0018] {
            put_u16(o, g);
        }
    });
    ext(out, 0x000b, |o| o.extend_from_slice(&[1, 0]));
    ext(out, 0x0010, |o| {
        put_u16(o, 12);
        o.push(2);
        o.extend_from_slice(b"h2");
        o.push(8);
        o.extend_from_slice(b"http/1.1");
    });
    ext(out, 0x000d, |o| {
        let algs: [u16; 6] = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501];
        put_u16(o, (algs.len() * 2) as u16);
        for a in algs {
            put_u16(o, a);
        }
    });
    ext(out, 0x0033, |o| {
        put_u16(o, 36);
        put_u16(o, 0x001d);
        put_u16(o, 32);
        let mut key = [0u8; 32];
        rng.fill(&mut key);
        o.extend_from_slice(&key);
    });
    ext(out, 0x002d, |o| o.extend_from_slice(&[1, 1])); // psk modes
    ext(out, 0x002b, |o| {
        o.extend_from_slice(&[4, 0x03, 0x04, 0x03, 0x03])
    });
    len16(out, exts);
    let hs_len = out.len() - hs - 3;
    out[hs..hs + 3].copy_from_slice(&(hs_len as u32).to_be_bytes()[1..]);
    len16(out, rec);
}

/// ServerHello (TLS 1.3), ChangeCipherSpec and the encrypted rest of the server's
/// handshake as one application-data record of `encrypted` bytes.
pub(crate) fn server_flight(out: &mut Vec<u8>, rng: &mut Rng, encrypted: usize) {
    out.extend_from_slice(&[0x16, 0x03, 0x03]);
    let rec = out.len();
    put_u16(out, 0);
    out.push(0x02);
    let hs = out.len();
    u24(out, 0);
    out.extend_from_slice(&[0x03, 0x03]);
    let mut random = [0u8; 32];
    rng.fill(&mut random);
    out.extend_from_slice(&random);
    out.push(32);
    rng.fill(&mut random);
    out.extend_from_slice(&random);
    put_u16(out, 0x1301);
    out.push(0);
    let exts = out.len();
    put_u16(out, 0);
    ext(out, 0x002b, |o| put_u16(o, 0x0304));
    ext(out, 0x0033, |o| {
        put_u16(o, 0x001d);
        put_u16(o, 32);
        let mut key = [0u8; 32];
        rng.fill(&mut key);
        o.extend_from_slice(&key);
    });
    len16(out, exts);
    let hs_len = out.len() - hs - 3;
    out[hs..hs + 3].copy_from_slice(&(hs_len as u32).to_be_bytes()[1..]);
    len16(out, rec);
    out.extend_from_slice(&[0x14, 0x03, 0x03, 0x00, 0x01, 0x01]);
    app_data(out, rng, encrypted);
}

/// One TLS application-data record of `n` random bytes.
pub(crate) fn app_data(out: &mut Vec<u8>, rng: &mut Rng, n: usize) {
    out.extend_from_slice(&[0x17, 0x03, 0x03]);
    put_u16(out, n as u16);
    let at = out.len();
    out.resize(at + n, 0);
    rng.fill(&mut out[at..]);
}

/// The client's ChangeCipherSpec and encrypted Finished.
pub(crate) fn client_finish(out: &mut Vec<u8>, rng: &mut Rng) {
    out.extend_from_slice(&[0x14, 0x03, 0x03, 0x00, 0x01, 0x01]);
    app_data(out, rng, 53);
}

/// An HTTP GET.
pub(crate) fn http_get(out: &mut Vec<u8>, host: &str, path: &str, agent: &str) {
    out.extend_from_slice(b"GET ");
    out.extend_from_slice(path.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\nConnection: Close\r\nUser-Agent: ");
    out.extend_from_slice(agent.as_bytes());
    out.extend_from_slice(b"\r\nHost: ");
    out.extend_from_slice(host.as_bytes());
    out.extend_from_slice(b"\r\n\r\n");
}

/// An HTTP 200 response with a text body.
pub(crate) fn http_ok(out: &mut Vec<u8>, content_type: &str, body: &[u8]) {
    out.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Type: ");
    out.extend_from_slice(content_type.as_bytes());
    out.extend_from_slice(b"\r\nContent-Length: ");
    out.extend_from_slice(body.len().to_string().as_bytes());
    out.extend_from_slice(b"\r\nConnection: close\r\nCache-Control: no-cache\r\n\r\n");
    out.extend_from_slice(body);
}
