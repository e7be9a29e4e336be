//! Calendar dates without a time-zone library: days since 1970-01-01 (UTC) to and
//! from `YYYY-MM-DD`, for end-of-support dates and the CSV export.
//!
//! The conversion is Howard Hinnant's proleptic Gregorian `days_from_civil`
//! algorithm, exact for every date a capture can carry.

/// Nanoseconds in a day.
pub const DAY_NANOS: i64 = 86_400_000_000_000;

/// Days since 1970-01-01 of a calendar date (month 1-12, day 1-31).
pub fn days_from_ymd(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The calendar date of a day number (inverse of [`days_from_ymd`]).
pub fn ymd_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Parses `YYYY-MM-DD` into a day number; `None` unless it is a real date.
pub fn parse_iso_date(s: &str) -> Option<i64> {
    let mut parts = s.trim().splitn(3, '-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: u32 = parts.next()?.parse().ok()?;
    let day: u32 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let days = days_from_ymd(year, month, day);
    (ymd_from_days(days) == (year, month, day)).then_some(days)
}

/// `YYYY-MM-DD` of a day number.
pub fn iso_date(days: i64) -> String {
    let (y, m, d) = ymd_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The day (since the epoch, UTC) of a time in nanoseconds since the epoch.
pub fn day_of_nanos(ns: i64) -> i64 {
    ns.div_euclid(DAY_NANOS)
}

/// `YYYY-MM-DDTHH:MM:SSZ` (UTC) of a time in nanoseconds since the epoch.
pub fn iso_datetime(ns: i64) -> String {
    let days = day_of_nanos(ns);
    let secs = ns.div_euclid(1_000_000_000) - days * 86_400;
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        iso_date(days),
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_dates() {
        assert_eq!(days_from_ymd(1970, 1, 1), 0);
        assert_eq!(parse_iso_date("2014-04-08"), Some(16_168));
        assert_eq!(iso_date(16_168), "2014-04-08");
        assert_eq!(parse_iso_date("2023-02-29"), None);
        assert_eq!(
            parse_iso_date("2024-02-29").map(iso_date).as_deref(),
            Some("2024-02-29")
        );
        assert_eq!(
            iso_datetime(1_000_000_000 * 86_400 + 3_723_000_000_000),
            "1970-01-02T01:02:03Z"
        );
        assert_eq!(iso_datetime(-1_000_000_000), "1969-12-31T23:59:59Z");
    }

    proptest! {
        #[test]
        fn round_trip(days in -1_000_000i64..1_000_000) {
            let (y, m, d) = ymd_from_days(days);
            prop_assert_eq!(days_from_ymd(y, m, d), days);
        }
    }
}
