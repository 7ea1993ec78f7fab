//! Visit menus, doctors' weekly hours with exceptions, and the slots derived from them, in the
//! clinic's time zone (Asia/Tokyo by default). Slots are computed on civil (wall-clock) times and
//! turned into instants through the time zone, so a daylight-saving change elsewhere neither
//! produces a slot at a time that does not exist nor two slots at the same instant.

use jiff::Timestamp;
use jiff::civil::{Date, Time, Weekday};
use jiff::tz::{AmbiguousOffset, TimeZone};

/// Shortest and longest visit.
pub const MINUTES: std::ops::RangeInclusive<i64> = 5..=240;
/// Longest menu name, in characters.
pub const NAME_MAX: usize = 60;
/// Highest fee, yen.
pub const FEE_MAX: i64 = 1_000_000;

/// How a visit happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// By video.
    Online,
    /// At the clinic.
    InPerson,
}

impl Mode {
    /// Stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::InPerson => "in_person",
        }
    }

    /// The mode of a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Online, Self::InPerson]
            .into_iter()
            .find(|m| m.as_str() == text)
    }
}

/// First or repeat visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visit {
    /// 初診.
    First,
    /// 再診.
    Repeat,
}

impl Visit {
    /// Stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::First => "first",
            Self::Repeat => "repeat",
        }
    }

    /// The visit of a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::First, Self::Repeat]
            .into_iter()
            .find(|v| v.as_str() == text)
    }
}

/// A visit menu of a clinic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Menu {
    /// Name shown to patients.
    pub name: String,
    /// Online or in person.
    pub mode: Mode,
    /// First or repeat.
    pub visit: Visit,
    /// Length, minutes.
    pub minutes: i64,
    /// Fee, yen.
    pub fee_yen: i64,
}

/// Why a menu or hours are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// Empty, too long, or with control characters.
    #[error("the name must have 1 to {NAME_MAX} characters")]
    Name,
    /// Outside 5–240 minutes.
    #[error("a visit lasts 5 to 240 minutes")]
    Minutes,
    /// Negative or absurd.
    #[error("the fee must be 0 to 1,000,000 yen")]
    Fee,
    /// A block that ends before it starts.
    #[error("hours must end after they start")]
    Hours,
}

impl Menu {
    /// Checks a menu as typed.
    pub fn new(
        name: &str,
        mode: Mode,
        visit: Visit,
        minutes: i64,
        fee_yen: i64,
    ) -> Result<Self, ScheduleError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > NAME_MAX || name.chars().any(char::is_control)
        {
            return Err(ScheduleError::Name);
        }
        if !MINUTES.contains(&minutes) {
            return Err(ScheduleError::Minutes);
        }
        if !(0..=FEE_MAX).contains(&fee_yen) {
            return Err(ScheduleError::Fee);
        }
        Ok(Self {
            name: name.to_owned(),
            mode,
            visit,
            minutes,
            fee_yen,
        })
    }
}

/// Wall-clock hours: from `start` until `end` on the same day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hours {
    /// First minute.
    pub start: Time,
    /// End (exclusive).
    pub end: Time,
}

impl Hours {
    /// Checked hours.
    pub fn new(start: Time, end: Time) -> Result<Self, ScheduleError> {
        if start < end {
            Ok(Self { start, end })
        } else {
            Err(ScheduleError::Hours)
        }
    }
}

/// A doctor's regular hours on one weekday (several blocks per day are several entries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weekly {
    /// The weekday.
    pub weekday: Weekday,
    /// The hours.
    pub hours: Hours,
}

/// A day that differs from the week: closed (holiday, leave), or other hours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exception {
    /// The day, in the clinic's time zone.
    pub date: Date,
    /// Its hours instead of the weekly ones; empty: closed.
    pub hours: Vec<Hours>,
}

/// One bookable slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Slot {
    /// Start.
    pub start: Timestamp,
    /// End (exclusive).
    pub end: Timestamp,
}

/// The instant of a wall-clock time, or `None` when it does not exist (a gap). In a fold the
/// earlier instant is taken.
fn instant(tz: &TimeZone, date: Date, time: Time) -> Option<Timestamp> {
    let ambiguous = tz.to_ambiguous_timestamp(date.to_datetime(time));
    match ambiguous.offset() {
        AmbiguousOffset::Gap { .. } => None,
        _ => ambiguous.earlier().ok(),
    }
}

/// The slots of `minutes` from `from` for `days` days: each day's exception or weekly hours cut
/// into consecutive slots. A slot starts at a wall-clock time of the block (one that does not
/// exist that day, in a spring-forward gap, is skipped), lasts exactly `minutes` of real time and
/// ends by the block's end; slots never overlap, also where the wall clock repeats an hour.
pub fn slots(
    tz: &TimeZone,
    weekly: &[Weekly],
    exceptions: &[Exception],
    minutes: i64,
    from: Date,
    days: i64,
) -> Vec<Slot> {
    let mut out: Vec<Slot> = Vec::new();
    let step = jiff::Span::new().minutes(minutes);
    let length = jiff::SignedDuration::from_mins(minutes);
    for offset in 0..days.max(0) {
        let Ok(date) = from.checked_add(jiff::Span::new().days(offset)) else {
            break;
        };
        let mut blocks: Vec<Hours> = match exceptions.iter().find(|e| e.date == date) {
            Some(exception) => exception.hours.clone(),
            None => weekly
                .iter()
                .filter(|w| w.weekday == date.weekday())
                .map(|w| w.hours)
                .collect(),
        };
        blocks.sort_by_key(|b| b.start);
        for block in blocks {
            // A block's end in a gap ends at the same instant as the first time after the gap.
            let Ok(block_end) = tz
                .to_ambiguous_timestamp(date.to_datetime(block.end))
                .compatible()
            else {
                continue;
            };
            let mut civil = block.start;
            while civil < block.end {
                if let Some(start) = instant(tz, date, civil)
                    && let Ok(end) = start.checked_add(length)
                    && end <= block_end
                    && out.last().is_none_or(|last| last.end <= start)
                {
                    out.push(Slot { start, end });
                }
                match civil.checked_add(step) {
                    Ok(next) if next > civil => civil = next,
                    _ => break,
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};

    fn hours(h1: i8, m1: i8, h2: i8, m2: i8) -> Hours {
        Hours::new(time(h1, m1, 0, 0), time(h2, m2, 0, 0)).unwrap()
    }

    fn tokyo() -> TimeZone {
        TimeZone::get("Asia/Tokyo").unwrap()
    }

    #[test]
    fn a_tokyo_morning_is_cut_into_slots_at_the_right_instants() {
        let weekly = [Weekly {
            weekday: Weekday::Monday,
            hours: hours(9, 0, 12, 0),
        }];
        // 2026-11-30 is a Monday.
        let got = slots(&tokyo(), &weekly, &[], 30, date(2026, 11, 30), 7);
        assert_eq!(got.len(), 6);
        assert_eq!(got[0].start.to_string(), "2026-11-30T00:00:00Z");
        assert_eq!(got[5].end.to_string(), "2026-11-30T03:00:00Z");
        // 45-minute visits: four fit in three hours, the rest of the block is not a slot.
        assert_eq!(
            slots(&tokyo(), &weekly, &[], 45, date(2026, 11, 30), 1).len(),
            4
        );
        assert!(slots(&tokyo(), &weekly, &[], 240, date(2026, 11, 30), 1).is_empty());
    }

    #[test]
    fn exceptions_close_a_day_or_replace_its_hours() {
        let weekly = [
            Weekly {
                weekday: Weekday::Monday,
                hours: hours(9, 0, 12, 0),
            },
            Weekly {
                weekday: Weekday::Monday,
                hours: hours(14, 0, 15, 0),
            },
        ];
        let closed = Exception {
            date: date(2026, 11, 30),
            hours: vec![],
        };
        assert!(slots(&tokyo(), &weekly, &[closed], 30, date(2026, 11, 30), 1).is_empty());
        let short = Exception {
            date: date(2026, 11, 30),
            hours: vec![hours(10, 0, 11, 0)],
        };
        let got = slots(&tokyo(), &weekly, &[short], 30, date(2026, 11, 30), 1);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].start.to_string(), "2026-11-30T01:00:00Z");
        let both = slots(&tokyo(), &weekly, &[], 30, date(2026, 11, 30), 1);
        assert_eq!(both.len(), 8, "two blocks on one day");
    }

    #[test]
    fn no_slot_starts_in_a_spring_forward_gap() {
        // New York, 2026-03-08: 02:00–03:00 does not exist.
        let ny = TimeZone::get("America/New_York").unwrap();
        let weekly = [Weekly {
            weekday: Weekday::Sunday,
            hours: hours(1, 0, 4, 0),
        }];
        let got = slots(&ny, &weekly, &[], 60, date(2026, 3, 8), 1);
        let starts: Vec<String> = got.iter().map(|s| s.start.to_string()).collect();
        assert_eq!(
            starts,
            ["2026-03-08T06:00:00Z", "2026-03-08T07:00:00Z"],
            "01:00 EST and 03:00 EDT"
        );
        assert!(
            got.iter()
                .all(|s| s.end.duration_since(s.start).as_secs() == 3600)
        );
    }

    #[test]
    fn a_fall_back_fold_gives_distinct_non_overlapping_slots() {
        // New York, 2026-11-01: 01:00–02:00 happens twice.
        let ny = TimeZone::get("America/New_York").unwrap();
        let weekly = [Weekly {
            weekday: Weekday::Sunday,
            hours: hours(0, 0, 3, 0),
        }];
        let got = slots(&ny, &weekly, &[], 60, date(2026, 11, 1), 1);
        for pair in got.windows(2) {
            assert!(pair[0].end <= pair[1].start, "{got:?}");
        }
        assert!(got.iter().all(|s| s.start < s.end));
        assert_eq!(got[0].start.to_string(), "2026-11-01T04:00:00Z");
    }

    #[test]
    fn menus_and_hours_are_checked() {
        assert!(Menu::new("再診(オンライン)", Mode::Online, Visit::Repeat, 15, 1_500).is_ok());
        assert_eq!(
            Menu::new(" ", Mode::Online, Visit::First, 15, 0),
            Err(ScheduleError::Name)
        );
        assert_eq!(
            Menu::new("x", Mode::Online, Visit::First, 4, 0),
            Err(ScheduleError::Minutes)
        );
        assert_eq!(
            Menu::new("x", Mode::Online, Visit::First, 15, -1),
            Err(ScheduleError::Fee)
        );
        assert_eq!(
            Hours::new(time(12, 0, 0, 0), time(9, 0, 0, 0)),
            Err(ScheduleError::Hours)
        );
    }

    proptest::proptest! {
        #[test]
        fn slots_are_sorted_disjoint_exact_and_inside_their_hours(
            start_h in 0i8..23, len_h in 1i8..6, minutes in 5i64..=120, day in 0i64..365,
        ) {
            let end_h = (start_h + len_h).min(23);
            proptest::prop_assume!(end_h > start_h);
            let weekly: Vec<Weekly> = [Weekday::Monday, Weekday::Tuesday, Weekday::Wednesday, Weekday::Thursday,
                Weekday::Friday, Weekday::Saturday, Weekday::Sunday]
                .into_iter()
                .map(|weekday| Weekly { weekday, hours: hours(start_h, 0, end_h, 0) })
                .collect();
            let from = date(2026, 1, 1).checked_add(jiff::Span::new().days(day)).unwrap();
            for tz in ["Asia/Tokyo", "America/New_York", "Europe/Berlin"] {
                let tz = TimeZone::get(tz).unwrap();
                let got = slots(&tz, &weekly, &[], minutes, from, 3);
                for s in &got {
                    proptest::prop_assert!(s.start < s.end);
                    let local = s.start.to_zoned(tz.clone());
                    proptest::prop_assert!(local.time() >= time(start_h, 0, 0, 0));
                }
                for pair in got.windows(2) {
                    proptest::prop_assert!(pair[0].end <= pair[1].start);
                }
            }
        }
    }
}
