//! Fuzzes the merge of two capture files.
//!
//! Input: one byte splitting the rest into two files (at `len * byte / 256`). Both files
//! are read on their own and then merged; the merge must hand out exactly the packets
//! the files hold, and when each file is in time order, so is the merge.
#![no_main]

use std::io::Cursor;
use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use mamori_wire::Timestamp;
use mamori_wire::capture::file::CaptureFile;
use mamori_wire::capture::merge::MergedCapture;

fn open(name: &str, bytes: &[u8]) -> Option<CaptureFile> {
    CaptureFile::from_reader(
        PathBuf::from(name),
        Box::new(Cursor::new(bytes.to_vec())),
        false,
    )
    .ok()
}

fn timestamps(mut file: CaptureFile) -> Vec<Timestamp> {
    let mut out = Vec::new();
    while let Some(p) = file.current() {
        out.push(p.ts);
        if file.advance().is_err() {
            break;
        }
    }
    out
}

fn sorted(ts: &[Timestamp]) -> bool {
    ts.windows(2).all(|w| w[0] <= w[1])
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, body)) = data.split_first() else {
        return;
    };
    let at = body.len() * usize::from(split) / 256;
    let (a, b) = body.split_at(at);
    let mut files = Vec::new();
    let mut alone = Vec::new();
    for (name, bytes) in [("a", a), ("b", b)] {
        if let (Some(f), Some(g)) = (open(name, bytes), open(name, bytes)) {
            files.push(f);
            alone.push(timestamps(g));
        }
    }
    let mut merged = MergedCapture::from_files(files);
    let mut out = Vec::new();
    while let Some(p) = merged.next_packet() {
        out.push(p.ts);
    }
    let expected: usize = alone.iter().map(Vec::len).sum();
    assert_eq!(out.len(), expected);
    if alone.iter().all(|ts| sorted(ts)) {
        assert!(sorted(&out));
    }
    let progress = merged.progress();
    assert!(progress.iter().all(|p| p.finished));
    assert_eq!(
        progress.iter().map(|p| p.packets as usize).sum::<usize>(),
        expected
    );
});
