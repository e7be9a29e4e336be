//! Attributes with provenance: every value the ledger holds says which protocol told
//! it, when, in which flow, how sure we are, and what it replaced.
//!
//! An observation of the value already held confirms it (count and last time; a more
//! confident source takes over as the source). A different value replaces it when it
//! is at least as confident, or when the same protocol reports it (the device itself
//! changed: a firmware update, a renamed host); the old value goes to the history,
//! which keeps the last [`HISTORY_CAP`] changes. A less confident different value is
//! counted as a disagreement and otherwise ignored.

use serde::{Deserialize, Serialize};

/// Changes kept per attribute.
pub const HISTORY_CAP: usize = 8;

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    /// The protocol (`dhcp`, `s7comm`, `p0f`, `ieee-oui`, ...).
    pub protocol: String,
    /// When it was seen (nanoseconds since the epoch; seconds in JSON).
    #[serde(with = "crate::serde_util::secs")]
    pub ts: i64,
    /// The flow that carried it, when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
}

/// A borrowed [`Source`], so that confirming a value allocates nothing.
#[derive(Debug, Clone, Copy)]
pub struct SourceRef<'a> {
    /// The protocol.
    pub protocol: &'a str,
    /// When (ns).
    pub ts: i64,
    /// The flow.
    pub uid: Option<mamori_flow::Uid>,
}

impl SourceRef<'_> {
    fn to_owned(self) -> Source {
        Source {
            protocol: self.protocol.to_string(),
            ts: self.ts,
            uid: self.uid.map(|u| u.to_string()),
        }
    }
}

/// A value an attribute held before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// The old value.
    pub value: String,
    /// Its confidence.
    pub confidence: u8,
    /// Where it had come from.
    pub source: Source,
    /// When it was replaced (ns; seconds in JSON).
    #[serde(with = "crate::serde_util::secs")]
    pub replaced: i64,
}

/// One attribute: value, confidence, source and history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attribute {
    /// The value.
    pub value: String,
    /// Confidence, 0-100.
    pub confidence: u8,
    /// Where the value came from.
    pub source: Source,
    /// Last time any source confirmed it (ns; seconds in JSON).
    #[serde(with = "crate::serde_util::secs")]
    pub last_seen: i64,
    /// How many observations confirmed it.
    pub seen: u64,
    /// Less confident observations of other values, ignored.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub disagreements: u64,
    /// Earlier values, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<Change>,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// What an observation did to an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observed {
    /// The attribute did not exist and now holds the value.
    New,
    /// The value was already held.
    Confirmed,
    /// A different value replaced the old one.
    Changed,
    /// A less confident different value was ignored.
    Ignored,
}

impl Attribute {
    /// A new attribute.
    pub fn new(value: &str, confidence: u8, source: SourceRef<'_>) -> Attribute {
        Attribute {
            value: value.to_string(),
            confidence,
            source: source.to_owned(),
            last_seen: source.ts,
            seen: 1,
            disagreements: 0,
            history: Vec::new(),
        }
    }

    /// Records an observation (see the module docs for the rules).
    pub fn observe(&mut self, value: &str, confidence: u8, source: SourceRef<'_>) -> Observed {
        if self.value == value {
            self.seen = self.seen.saturating_add(1);
            self.last_seen = self.last_seen.max(source.ts);
            if confidence > self.confidence {
                self.confidence = confidence;
                self.source = source.to_owned();
            }
            return Observed::Confirmed;
        }
        if confidence < self.confidence && source.protocol != self.source.protocol {
            self.disagreements = self.disagreements.saturating_add(1);
            return Observed::Ignored;
        }
        if self.history.len() >= HISTORY_CAP {
            self.history.remove(0);
        }
        let old = std::mem::replace(self, Attribute::new(value, confidence, source));
        self.history = old.history;
        self.disagreements = old.disagreements;
        self.history.push(Change {
            value: old.value,
            confidence: old.confidence,
            source: old.source,
            replaced: source.ts,
        });
        Observed::Changed
    }

    /// Merges another record of the same attribute (a stored ledger's): the more
    /// recent value wins, histories are joined.
    pub fn merge(&mut self, other: Attribute) {
        let (mut keep, older) = if other.last_seen > self.last_seen {
            (other, self.clone())
        } else {
            (self.clone(), other)
        };
        if keep.value == older.value {
            keep.seen = keep.seen.saturating_add(older.seen);
            if older.source.ts < keep.source.ts {
                keep.source = older.source.clone();
            }
        } else {
            keep.history.extend(older.history);
            keep.history.push(Change {
                value: older.value,
                confidence: older.confidence,
                source: older.source,
                replaced: keep.source.ts,
            });
            keep.history.sort_by_key(|c| c.replaced);
            let excess = keep.history.len().saturating_sub(HISTORY_CAP);
            keep.history.drain(..excess);
        }
        *self = keep;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(protocol: &str, ts: i64) -> SourceRef<'_> {
        SourceRef {
            protocol,
            ts,
            uid: None,
        }
    }

    #[test]
    fn confirm_replace_ignore_and_bounded_history() {
        let mut a = Attribute::new("V3.2.6", 85, src("s7comm", 1));
        assert_eq!(
            a.observe("V3.2.6", 85, src("s7comm", 5)),
            Observed::Confirmed
        );
        assert_eq!((a.seen, a.last_seen, a.source.ts), (2, 5, 1));
        // Weaker, other protocol: ignored.
        assert_eq!(a.observe("V9", 40, src("http", 6)), Observed::Ignored);
        assert_eq!(a.value, "V3.2.6");
        // Same protocol reports a new value: the device changed.
        assert_eq!(a.observe("V3.2.8", 85, src("s7comm", 7)), Observed::Changed);
        assert_eq!(a.value, "V3.2.8");
        assert_eq!(a.history.len(), 1);
        assert_eq!(a.history[0].value, "V3.2.6");
        assert_eq!(a.history[0].replaced, 7);
        for i in 0..20 {
            a.observe(&format!("v{i}"), 90, src("s7comm", 10 + i));
        }
        assert_eq!(a.history.len(), HISTORY_CAP);
        assert_eq!(a.value, "v19");
        assert_eq!(a.history.last().map(|c| c.value.as_str()), Some("v18"));
    }

    #[test]
    fn merge_keeps_the_newer_value_and_the_older_in_history() {
        let mut old = Attribute::new("plc-a", 80, src("dhcp", 1));
        let new = Attribute::new("plc-b", 80, src("dhcp", 9));
        old.merge(new);
        assert_eq!(old.value, "plc-b");
        assert_eq!(old.history.len(), 1);
        assert_eq!(old.history[0].value, "plc-a");
    }
}
