//! The transport function (IEEE 1815-2012 §8): one header octet per link frame,
//! FIN (0x80), FIR (0x40) and a six-bit sequence number, joining segments into
//! application fragments.

/// Application fragments longer than this are dropped (the usual fragment size).
pub const MAX_FRAGMENT: usize = 2048;

/// What one segment did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Kept; the fragment is not finished.
    Pending,
    /// The fragment is finished: read it with [`Reassembler::fragment`].
    Complete,
    /// Dropped (out of sequence, no first segment, too long, or empty).
    Dropped,
}

/// Joins one direction's transport segments into application fragments (bounded).
#[derive(Debug, Default)]
pub struct Reassembler {
    buf: Vec<u8>,
    next_seq: Option<u8>,
    done: bool,
    /// Segments or partial fragments thrown away.
    pub drops: u64,
}

impl Reassembler {
    /// Takes one segment (transport header and payload).
    pub fn segment(&mut self, segment: &[u8]) -> Step {
        let Some((&header, payload)) = segment.split_first() else {
            self.drops += 1;
            return Step::Dropped;
        };
        let (fin, fir, seq) = (header & 0x80 != 0, header & 0x40 != 0, header & 0x3f);
        if self.done {
            self.buf.clear();
            self.done = false;
        }
        if fir {
            if self.next_seq.is_some() {
                // A new first segment abandons an unfinished fragment.
                self.drops += 1;
            }
            self.buf.clear();
        } else if self.next_seq != Some(seq) {
            self.drops += 1;
            self.reset();
            return Step::Dropped;
        }
        if self.buf.len() + payload.len() > MAX_FRAGMENT {
            self.drops += 1;
            self.reset();
            return Step::Dropped;
        }
        self.buf.extend_from_slice(payload);
        if fin {
            self.next_seq = None;
            if self.buf.is_empty() {
                self.drops += 1;
                return Step::Dropped;
            }
            self.done = true;
            Step::Complete
        } else {
            self.next_seq = Some((seq + 1) & 0x3f);
            Step::Pending
        }
    }

    /// The fragment the last [`Step::Complete`] finished.
    pub fn fragment(&self) -> &[u8] {
        if self.done { &self.buf } else { &[] }
    }

    /// Forgets any unfinished fragment (after a gap).
    pub fn reset(&mut self) {
        self.buf.clear();
        self.next_seq = None;
        self.done = false;
    }
}
