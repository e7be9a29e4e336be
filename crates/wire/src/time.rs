//! Packet timestamps.
//!
//! Every clock in mamori (flow expiry, baselines, time-of-day buckets) runs on
//! packet time, never on the wall clock, so a capture replays the same way every time.

use std::fmt;

/// A point in time as nanoseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The earliest representable instant; used as "never".
    pub const MIN: Timestamp = Timestamp(i64::MIN);
    /// The latest representable instant; used as "end of input".
    pub const MAX: Timestamp = Timestamp(i64::MAX);

    /// Builds a timestamp from whole seconds and nanoseconds.
    pub fn from_secs_nanos(secs: i64, nanos: u32) -> Self {
        Timestamp(
            secs.saturating_mul(1_000_000_000)
                .saturating_add(i64::from(nanos)),
        )
    }

    /// Builds a timestamp from whole seconds.
    pub fn from_secs(secs: i64) -> Self {
        Self::from_secs_nanos(secs, 0)
    }

    /// Whole seconds since the epoch (floor).
    pub fn secs(self) -> i64 {
        self.0.div_euclid(1_000_000_000)
    }

    /// Nanoseconds within the second.
    pub fn subsec_nanos(self) -> u32 {
        self.0.rem_euclid(1_000_000_000) as u32
    }

    /// Seconds since the epoch as a float, as Zeek writes `ts`.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }

    /// `self + nanos`, saturating.
    pub fn plus_nanos(self, nanos: i64) -> Self {
        Timestamp(self.0.saturating_add(nanos))
    }

    /// `self + secs`, saturating.
    pub fn plus_secs(self, secs: i64) -> Self {
        self.plus_nanos(secs.saturating_mul(1_000_000_000))
    }

    /// Nanoseconds from `earlier` to `self` (negative when `earlier` is later).
    pub fn nanos_since(self, earlier: Timestamp) -> i64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl fmt::Display for Timestamp {
    /// Writes `secs.micros` with six decimals, the way Zeek writes `ts`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:06}", self.secs(), self.subsec_nanos() / 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_times_floor_correctly() {
        let t = Timestamp(-1);
        assert_eq!(t.secs(), -1);
        assert_eq!(t.subsec_nanos(), 999_999_999);
    }

    #[test]
    fn display_has_microsecond_precision() {
        assert_eq!(
            Timestamp::from_secs_nanos(1_700_000_000, 123_456_789).to_string(),
            "1700000000.123456"
        );
    }
}
