//! Whether the system clock is synchronised (LOG-5): access-log times are only as good as it.

use serde::Serialize;

/// The kernel's view of clock synchronisation.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ClockStatus {
    /// True when an NTP/PTP daemon keeps the kernel clock in sync.
    pub synchronized: bool,
    /// Human-readable detail for logs and the start report.
    pub detail: String,
}

/// Reads the kernel's NTP state with `adjtimex` in read-only mode (modes = 0).
#[allow(unsafe_code)]
pub fn clock_status() -> ClockStatus {
    // SAFETY: an all-zero `timex` is a valid value (plain integers), and with `modes == 0`
    // adjtimex only reads the kernel state into the struct we own for the duration of the call.
    let mut tx: libc::timex = unsafe { std::mem::zeroed() };
    let state = unsafe { libc::adjtimex(&mut tx) };
    if state < 0 {
        return ClockStatus {
            synchronized: false,
            detail: format!(
                "cannot read the kernel clock state: {}",
                std::io::Error::last_os_error()
            ),
        };
    }
    let unsynchronised = state == libc::TIME_ERROR || tx.status & libc::STA_UNSYNC != 0;
    ClockStatus {
        synchronized: !unsynchronised,
        detail: if unsynchronised {
            "kernel reports the clock unsynchronised: run an NTP client (chrony or systemd-timesyncd)".into()
        } else {
            format!(
                "kernel reports the clock synchronised (estimated error {} µs)",
                tx.esterror
            )
        },
    }
}

/// Now, in unix milliseconds (the time column format of DESIGN.md).
pub fn now_ms() -> i64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

fn japan() -> time::UtcOffset {
    time::UtcOffset::from_hms(9, 0, 0).unwrap_or(time::UtcOffset::UTC)
}

/// Today's date in Japan (UTC+9, no daylight saving), `YYYY-MM-DD`: the date a clinic means.
pub fn today_in_japan() -> String {
    let date = time::OffsetDateTime::now_utc().to_offset(japan()).date();
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// The start of a day in Japan, `YYYY-MM-DD`, as unix ms; `None` if it is not a date.
pub fn japan_day_start(day: &str) -> Option<i64> {
    let parts: Vec<&str> = day.trim().split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return None;
    };
    let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
    let date = time::Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()?;
    let start = date.midnight().assume_offset(japan());
    i64::try_from(start.unix_timestamp_nanos() / 1_000_000).ok()
}

/// A unix-ms time as Japan time, `YYYY-MM-DD HH:MM`, for pages.
pub fn japan_time(ms: i64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(japan());
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn japan_time_is_utc_plus_nine() {
        assert_eq!(super::japan_time(0), "1970-01-01 09:00");
        assert_eq!(super::japan_time(1_795_790_000_000), "2026-11-27 23:33");
        assert_eq!(
            super::japan_day_start("2026-11-27"),
            Some(1_795_705_200_000)
        );
        assert_eq!(super::japan_day_start("2026-02-30"), None);
        assert_eq!(super::japan_day_start("27/11/2026"), None);
    }
}
