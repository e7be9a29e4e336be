//! Plant time: Japan Standard Time, three production shifts, office hours.
//!
//! Polling runs around the clock; what people do follows the shift pattern. The
//! activity functions return a factor in `0..=1` that processes multiply their
//! event rates by.

use mamori_wire::Timestamp;

use crate::net::SEC;

/// Japan Standard Time: UTC+9, no daylight saving time.
pub const UTC_OFFSET_SECS: i64 = 9 * 3600;

/// Seconds in a day.
pub(crate) const DAY: i64 = 86_400;

/// Local seconds since the epoch.
fn local_secs(t: Timestamp) -> i64 {
    t.secs() + UTC_OFFSET_SECS
}

/// Local day number (days since 1970-01-01 local).
pub(crate) fn local_day(t: Timestamp) -> i64 {
    local_secs(t).div_euclid(DAY)
}

/// Local seconds since midnight.
pub(crate) fn secs_of_day(t: Timestamp) -> i64 {
    local_secs(t).rem_euclid(DAY)
}

/// Local midnight at or before `t`.
pub(crate) fn midnight(t: Timestamp) -> Timestamp {
    Timestamp::from_secs(local_day(t) * DAY - UTC_OFFSET_SECS)
}

/// 0 = Monday ... 6 = Sunday.
pub(crate) fn weekday(t: Timestamp) -> i64 {
    // 1970-01-01 was a Thursday.
    (local_day(t) + 3).rem_euclid(7)
}

/// Whether `t` falls on a weekday.
pub(crate) fn is_workday(t: Timestamp) -> bool {
    weekday(t) < 5
}

/// `h:m` local time on the day of `day` (any instant of that day).
pub(crate) fn at(day: Timestamp, h: i64, m: i64) -> Timestamp {
    midnight(day).plus_nanos((h * 3600 + m * 60) * SEC)
}

/// Breaks when lines are staffed minimally: `(start, end)` in minutes after midnight.
const BREAKS: [(i64, i64); 6] = [
    (10 * 60, 10 * 60 + 15),
    (12 * 60, 12 * 60 + 45),
    (16 * 60, 16 * 60 + 15),
    (18 * 60 + 30, 19 * 60 + 15),
    (60, 60 + 30),
    (3 * 60, 3 * 60 + 45),
];

/// Operator activity on the production floor.
///
/// Day shift 06:00-14:00 is busiest, the late shift 14:00-22:00 a little less, the
/// night shift 22:00-06:00 runs with a skeleton crew. Breaks and the half hour
/// around each shift change are quiet. Weekends run at a third of the weekday level.
pub(crate) fn production_activity(t: Timestamp) -> f64 {
    let minute = secs_of_day(t) / 60;
    let base = match minute {
        m if (6 * 60..14 * 60).contains(&m) => 1.0,
        m if (14 * 60..22 * 60).contains(&m) => 0.8,
        _ => 0.35,
    };
    let in_break = BREAKS.iter().any(|&(a, b)| (a..b).contains(&minute));
    let near_change = [6 * 60, 14 * 60, 22 * 60]
        .iter()
        .any(|&c| (minute - c).abs() < 15);
    let mut f = base;
    if in_break {
        f *= 0.15;
    } else if near_change {
        f *= 0.5;
    }
    if !is_workday(t) {
        f *= 0.33;
    }
    f
}

/// Office activity: 08:30-17:30 on weekdays, quiet at lunch, nothing otherwise.
pub(crate) fn office_activity(t: Timestamp) -> f64 {
    if !is_workday(t) {
        return 0.0;
    }
    let minute = secs_of_day(t) / 60;
    match minute {
        m if (12 * 60..13 * 60).contains(&m) => 0.25,
        m if (8 * 60 + 30..17 * 60 + 30).contains(&m) => 1.0,
        m if (8 * 60..8 * 60 + 30).contains(&m) || (17 * 60 + 30..18 * 60 + 30).contains(&m) => 0.4,
        _ => 0.0,
    }
}

/// The default start of a `normal` day: Monday 2026-04-06 00:00 JST.
pub const DEFAULT_START_SECS: i64 = 1_775_401_200;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_start_is_monday_midnight_jst() {
        let t = Timestamp::from_secs(DEFAULT_START_SECS);
        assert_eq!(secs_of_day(t), 0);
        assert_eq!(weekday(t), 0);
        assert_eq!(midnight(t.plus_secs(5000)), t);
        assert_eq!(at(t.plus_secs(100), 8, 30), t.plus_secs(8 * 3600 + 1800));
    }

    #[test]
    fn night_is_quieter_than_day() {
        let t = Timestamp::from_secs(DEFAULT_START_SECS);
        assert!(production_activity(at(t, 9, 0)) > production_activity(at(t, 23, 0)));
        assert!(production_activity(at(t, 12, 10)) < production_activity(at(t, 11, 0)));
        assert_eq!(office_activity(at(t, 3, 0)), 0.0);
        assert_eq!(office_activity(at(t, 10, 0)), 1.0);
    }
}
