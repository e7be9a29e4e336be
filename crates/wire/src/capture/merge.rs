//! Several capture files read as one stream, in timestamp order.
//!
//! Captures from one site are often split into many files (rotated by size or time,
//! or taken on several ports at once). [`MergedCapture`] keeps every file open with
//! its next packet loaded and always hands out the earliest one; ties go to the file
//! given first, so the order is the same on every run.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::{Path, PathBuf};

use super::Packet;
use super::file::{CaptureFile, FileError};
use crate::Timestamp;

/// Progress of one input file.
#[derive(Debug, Clone, Default)]
pub struct FileProgress {
    /// The file.
    pub path: PathBuf,
    /// Packets read from it.
    pub packets: u64,
    /// Bytes of the (uncompressed) stream consumed.
    pub bytes: u64,
    /// Packets skipped because their interface's link type is not decoded.
    pub unsupported_link_packets: u64,
    /// The damage that ended the file early, if any. Everything before it was read.
    pub error: Option<String>,
    /// Whether the file has been read to its end (or its damage).
    pub finished: bool,
}

/// A k-way merge of open capture files by packet timestamp.
#[derive(Debug)]
pub struct MergedCapture {
    files: Vec<CaptureFile>,
    progress: Vec<FileProgress>,
    /// Min-heap of (next timestamp, file index).
    heap: BinaryHeap<Reverse<(Timestamp, usize)>>,
    /// The file whose packet was handed out last and must advance before the next pick.
    pending: Option<usize>,
    /// Files that could not be opened.
    failed: Vec<FileProgress>,
}

impl MergedCapture {
    /// Opens every file. A file that cannot be opened (not a capture, unsupported link
    /// type, unreadable) is recorded as finished with its error and the others go on;
    /// only when no file opens is that an error (the first one's).
    pub fn open<P: AsRef<Path>>(paths: &[P]) -> Result<Self, FileError> {
        let mut files = Vec::with_capacity(paths.len());
        let mut failed = Vec::new();
        let mut first_error = None;
        for (i, p) in paths.iter().enumerate() {
            match CaptureFile::open(p) {
                Ok(f) => files.push((i, f)),
                Err(e) => {
                    failed.push(FileProgress {
                        path: p.as_ref().to_path_buf(),
                        error: Some(e.to_string()),
                        finished: true,
                        ..FileProgress::default()
                    });
                    first_error.get_or_insert(e);
                }
            }
        }
        if files.is_empty()
            && let Some(e) = first_error
        {
            return Err(e);
        }
        let mut merged = Self::from_files(files.into_iter().map(|(_, f)| f).collect());
        merged.failed = failed;
        Ok(merged)
    }

    /// Merges already opened files.
    pub fn from_files(files: Vec<CaptureFile>) -> Self {
        let mut heap = BinaryHeap::with_capacity(files.len());
        let mut progress = Vec::with_capacity(files.len());
        for (i, f) in files.iter().enumerate() {
            progress.push(FileProgress {
                path: f.path().to_path_buf(),
                ..FileProgress::default()
            });
            match f.current_ts() {
                Some(ts) => heap.push(Reverse((ts, i))),
                None => progress[i].finished = true,
            }
        }
        MergedCapture {
            files,
            progress,
            heap,
            pending: None,
            failed: Vec::new(),
        }
    }

    /// The next packet across all files, or `None` when every file is finished.
    /// Damage in one file ends that file (recorded in [`Self::progress`]) and the
    /// others go on.
    pub fn next_packet(&mut self) -> Option<Packet<'_>> {
        if let Some(i) = self.pending.take() {
            let file = &mut self.files[i];
            let result = file.advance();
            let progress = &mut self.progress[i];
            progress.bytes = file.position();
            progress.unsupported_link_packets = file.unsupported_link_packets();
            if let Err(e) = result {
                progress.error = Some(e.to_string());
            }
            match file.current_ts() {
                // Still the earliest (always so with a single file): skip the heap.
                Some(ts) if self.heap.peek().is_none_or(|Reverse(top)| (ts, i) < *top) => {
                    self.pending = Some(i);
                    self.progress[i].packets += 1;
                    return self.files[i].current();
                }
                Some(ts) => self.heap.push(Reverse((ts, i))),
                None => progress.finished = true,
            }
        }
        let Reverse((_, i)) = self.heap.pop()?;
        self.pending = Some(i);
        self.progress[i].packets += 1;
        self.files[i].current()
    }

    /// Per-file progress: the opened files in the order given, then those that failed to open.
    pub fn progress(&self) -> Vec<FileProgress> {
        self.progress.iter().chain(&self.failed).cloned().collect()
    }

    /// Bytes consumed across all files.
    pub fn bytes_read(&self) -> u64 {
        self.files.iter().map(CaptureFile::position).sum()
    }
}
