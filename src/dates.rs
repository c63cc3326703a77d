//! Dates and times as people read them, on pages and the command line:
//! ISO dates and UTC times, computed here rather than with a date crate.

const DAY_MS: i64 = 86_400_000;

/// `YYYY-MM-DD` of a day number since 1970-01-01 (UTC).
pub fn day_label(day: i64) -> String {
    // Civil-from-days, after Howard Hinnant's public-domain algorithm.
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The day number of a unix time in milliseconds.
pub fn day_of(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS)
}

/// `YYYY-MM-DD HH:MM:SS UTC` of a unix time in milliseconds.
pub fn utc_time(ms: i64) -> String {
    let seconds = ms.div_euclid(1000);
    let rest = seconds.rem_euclid(86_400);
    format!(
        "{} {:02}:{:02}:{:02} UTC",
        day_label(day_of(ms)),
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_labels_are_iso_dates() {
        assert_eq!(day_label(0), "1970-01-01");
        assert_eq!(day_label(20_790), "2026-12-03");
        assert_eq!(day_label(11_016), "2000-02-29");
    }

    #[test]
    fn times_are_utc_to_the_second() {
        assert_eq!(utc_time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_time(1_796_341_505_999), "2026-12-03 23:45:05 UTC");
    }
}
