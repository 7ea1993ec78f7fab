//! Service announcements to clinics (AVAIL-5): a change to the service must be announced at
//! least 14 days before it takes effect; an urgent security notice may take effect at once and
//! is marked as such.

/// Days' notice a change needs.
pub const NOTICE_DAYS: i64 = 14;
const DAY_MS: i64 = 86_400_000;
/// Longest title, in characters.
pub const TITLE_MAX: usize = 200;
/// Longest text, in characters.
pub const TEXT_MAX: usize = 4_000;

/// What kind of notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A change to the service (needs 14 days' notice).
    Change,
    /// An urgent security notice (allowed at once).
    Security,
}

impl Kind {
    /// Stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Change => "change",
            Self::Security => "security",
        }
    }

    /// The kind of an API name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "change" => Some(Self::Change),
            "security" => Some(Self::Security),
            _ => None,
        }
    }
}

/// Why an announcement is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnnouncementError {
    /// A change takes effect less than 14 days after publication.
    #[error(
        "a change must be announced at least 14 days before it takes effect (earliest: {earliest})"
    )]
    TooSoon {
        /// The earliest allowed effective day, `YYYY-MM-DD`.
        earliest: String,
    },
    /// It takes effect before it is published.
    #[error("the effective date lies in the past")]
    InThePast,
    /// Title or text empty, too long, or with control characters.
    #[error("{field} must have 1 to {max} characters")]
    Text {
        /// `title` or `text`.
        field: &'static str,
        /// Its limit.
        max: usize,
    },
}

fn text_ok(text: &str, max: usize, newlines: bool) -> bool {
    let n = text.trim().chars().count();
    (1..=max).contains(&n)
        && !text
            .chars()
            .any(|c| c.is_control() && !(newlines && (c == '\n' || c == '\r')))
}

/// Checks an announcement published at `published_ms` that takes effect at the start of the
/// Japanese day `effective_day_ms`; `earliest_day` formats a day for the message.
pub fn check(
    kind: Kind,
    title: &str,
    text: &str,
    published_ms: i64,
    effective_day_ms: i64,
    earliest_day: impl Fn(i64) -> String,
) -> Result<(), AnnouncementError> {
    if !text_ok(title, TITLE_MAX, false) {
        return Err(AnnouncementError::Text {
            field: "title",
            max: TITLE_MAX,
        });
    }
    if !text_ok(text, TEXT_MAX, true) {
        return Err(AnnouncementError::Text {
            field: "text",
            max: TEXT_MAX,
        });
    }
    if effective_day_ms + DAY_MS <= published_ms {
        return Err(AnnouncementError::InThePast);
    }
    if kind == Kind::Change && effective_day_ms < published_ms + NOTICE_DAYS * DAY_MS {
        return Err(AnnouncementError::TooSoon {
            earliest: earliest_day(published_ms + NOTICE_DAYS * DAY_MS),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_790_000_000;
    // Day starts (UTC here, for simplicity): the rule only compares instants.
    fn day(n: i64) -> i64 {
        (NOW / DAY_MS + n) * DAY_MS
    }

    #[test]
    fn a_change_needs_fourteen_days_and_a_security_notice_does_not() {
        let fmt = |ms: i64| ms.to_string();
        assert!(matches!(
            check(Kind::Change, "t", "x", NOW, day(14), fmt),
            Err(AnnouncementError::TooSoon { .. })
        ));
        assert_eq!(check(Kind::Change, "t", "x", NOW, day(15), fmt), Ok(()));
        assert_eq!(check(Kind::Security, "t", "x", NOW, day(0), fmt), Ok(()));
        assert_eq!(
            check(Kind::Security, "t", "x", NOW, day(-2), fmt),
            Err(AnnouncementError::InThePast)
        );
        assert!(check(Kind::Security, "", "x", NOW, day(0), fmt).is_err());
        assert!(check(Kind::Security, "t\u{7}", "x", NOW, day(0), fmt).is_err());
        assert_eq!(
            check(Kind::Security, "t", "line\nline", NOW, day(0), fmt),
            Ok(())
        );
        assert!(check(Kind::Security, "t", &"x".repeat(4001), NOW, day(0), fmt).is_err());
    }
}
