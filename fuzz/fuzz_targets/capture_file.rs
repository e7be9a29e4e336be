//! Fuzzes the pcap/pcapng reader, plain and through gzip, and decodes every record.
//!
//! Input: one mode byte, then the capture bytes.
//! - `mode & 3 == 0`: read the bytes as they are;
//! - `1`: gzip them first and read through the decompressor;
//! - `2`: gzip them and cut the compressed stream at a point chosen by the second byte;
//! - `3`: hand the bytes to the decompressor as if they were gzip.
//! - `mode & 4`: the reader returns at most a few bytes per `read` call.
#![no_main]

use std::io::{self, Cursor, Read, Write};
use std::path::PathBuf;

use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use libfuzzer_sys::fuzz_target;
use mamori_wire::capture::file::{CaptureFile, MAX_RECORD_LEN};
use mamori_wire::decode::decode;

/// Hands out at most 1 to 7 bytes per call, to exercise refills at every boundary.
struct Trickle<R> {
    inner: R,
    step: usize,
}

impl<R: Read> Read for Trickle<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.step = self.step % 7 + 1;
        let n = buf.len().min(self.step);
        self.inner.read(&mut buf[..n])
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(data).expect("writing to a Vec");
    enc.finish().expect("writing to a Vec")
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let (compressed, bytes) = match mode & 3 {
        0 => (false, body.to_vec()),
        1 => (true, gzip(body)),
        2 => {
            let Some((&cut, body)) = body.split_first() else {
                return;
            };
            let mut z = gzip(body);
            z.truncate(z.len() * usize::from(cut) / 256);
            (true, z)
        }
        _ => (true, body.to_vec()),
    };
    let source: Box<dyn Read + Send> = match (compressed, mode & 4 != 0) {
        (false, false) => Box::new(Cursor::new(bytes)),
        (false, true) => Box::new(Trickle {
            inner: Cursor::new(bytes),
            step: 0,
        }),
        (true, false) => Box::new(MultiGzDecoder::new(Cursor::new(bytes))),
        (true, true) => Box::new(MultiGzDecoder::new(Trickle {
            inner: Cursor::new(bytes),
            step: 0,
        })),
    };
    let Ok(mut file) = CaptureFile::from_reader(PathBuf::from("fuzz"), source, compressed) else {
        return;
    };
    let mut last_position = file.position();
    while let Some(packet) = file.current() {
        assert!(packet.data.len() <= MAX_RECORD_LEN);
        let _ = decode(packet.link, packet.data);
        if file.advance().is_err() {
            assert!(file.current().is_none());
            break;
        }
        // Every record consumes bytes: the loop cannot spin in place.
        assert!(file.position() > last_position);
        last_position = file.position();
    }
});
