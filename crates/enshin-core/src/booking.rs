//! The rules of booking (FUNC-2): which slots are free, what state a new appointment starts in,
//! and until when a patient may still cancel or move one. Times are unix milliseconds; slots come
//! from [`crate::schedule::slots`].

use jiff::Timestamp;

use crate::appointment::State;
use crate::schedule::Slot;

/// Longest cancellation deadline a clinic can set: a week.
pub const DEADLINE_MAX_MINUTES: i64 = 7 * 24 * 60;
/// Visits a patient may have waiting at one clinic (requested or confirmed, not yet begun), so
/// that one account cannot take a clinic's free times away.
pub const OPEN_VISITS_MAX: i64 = 5;
/// How far ahead slots are offered.
pub const DAYS_MAX: i64 = 92;

/// A clinic's booking rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// IANA time zone of the clinic's wall clock.
    pub time_zone: String,
    /// Patients' bookings are confirmed at once; otherwise they are requests staff confirm.
    pub self_booking: bool,
    /// Patients cancel or move a visit until this many minutes before it starts.
    pub cancel_deadline_minutes: i64,
}

/// Why a booking or a change is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BookingError {
    /// The start is not one of the doctor's free slots for this menu.
    #[error("this time is not offered; choose one of the free slots")]
    NotOffered,
    /// The start has passed.
    #[error("this time has passed")]
    Past,
    /// A patient is past the clinic's cancellation deadline.
    #[error(
        "changes by the patient end {minutes} minutes before the visit; please call the clinic"
    )]
    TooLate {
        /// The clinic's deadline.
        minutes: i64,
    },
    /// The patient has [`OPEN_VISITS_MAX`] visits waiting at this clinic already.
    #[error("you have 5 visits booked at this clinic already; cancel one or ask the clinic")]
    TooMany,
    /// The clinic settings as typed are not valid.
    #[error("the cancellation deadline must be 0 to 10080 minutes, and the time zone a known one")]
    Settings,
}

impl Settings {
    /// Checks settings as typed.
    pub fn new(
        time_zone: &str,
        self_booking: bool,
        cancel_deadline_minutes: i64,
    ) -> Result<Self, BookingError> {
        if !(0..=DEADLINE_MAX_MINUTES).contains(&cancel_deadline_minutes)
            || jiff::tz::TimeZone::get(time_zone).is_err()
        {
            return Err(BookingError::Settings);
        }
        Ok(Self {
            time_zone: time_zone.to_owned(),
            self_booking,
            cancel_deadline_minutes,
        })
    }

    /// The state a new appointment starts in: a patient's is a request unless the clinic lets
    /// patients book directly; a member's is confirmed.
    pub fn initial_state(&self, by_patient: bool) -> State {
        if by_patient && !self.self_booking {
            State::Requested
        } else {
            State::Confirmed
        }
    }

    /// Whether a patient may still cancel or move a visit starting at `starts_at`.
    pub fn patient_may_change(&self, starts_at: i64, now: i64) -> Result<(), BookingError> {
        if starts_at - self.cancel_deadline_minutes * 60_000 <= now {
            Err(BookingError::TooLate {
                minutes: self.cancel_deadline_minutes,
            })
        } else {
            Ok(())
        }
    }
}

/// Whether a patient with `open` visits waiting at a clinic may book another.
pub fn patient_may_book(open: i64) -> Result<(), BookingError> {
    if open < OPEN_VISITS_MAX {
        Ok(())
    } else {
        Err(BookingError::TooMany)
    }
}

/// Milliseconds of an instant.
pub fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

/// The slots that start after `now` and overlap none of the `busy` ranges (start, end).
pub fn free(slots: &[Slot], busy: &[(i64, i64)], now: i64) -> Vec<Slot> {
    slots
        .iter()
        .filter(|s| ms(s.start) > now)
        .filter(|s| {
            busy.iter()
                .all(|&(start, end)| end <= ms(s.start) || start >= ms(s.end))
        })
        .copied()
        .collect()
}

/// The free slot that starts at `start`, or why there is none.
pub fn offered(
    slots: &[Slot],
    busy: &[(i64, i64)],
    start: i64,
    now: i64,
) -> Result<Slot, BookingError> {
    if start <= now {
        return Err(BookingError::Past);
    }
    free(slots, busy, now)
        .into_iter()
        .find(|s| ms(s.start) == start)
        .ok_or(BookingError::NotOffered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::{Hours, Weekly, slots};
    use jiff::civil::{Weekday, date, time};
    use jiff::tz::TimeZone;

    fn monday_morning() -> Vec<Slot> {
        let weekly = [Weekly {
            weekday: Weekday::Monday,
            hours: Hours::new(time(9, 0, 0, 0), time(10, 0, 0, 0)).unwrap(),
        }];
        slots(
            &TimeZone::get("Asia/Tokyo").unwrap(),
            &weekly,
            &[],
            15,
            date(2026, 11, 30),
            1,
        )
    }

    #[test]
    fn busy_ranges_and_the_past_take_slots_away() {
        let all = monday_morning();
        assert_eq!(all.len(), 4);
        let nine = ms(all[0].start);
        let quarter = ms(all[1].start);
        // A 30-minute visit at 9:00 (another menu) covers two 15-minute slots.
        let busy = [(nine, nine + 30 * 60_000)];
        let left = free(&all, &busy, 0);
        assert_eq!(left.len(), 2);
        assert_eq!(
            offered(&all, &busy, quarter, 0),
            Err(BookingError::NotOffered)
        );
        assert_eq!(
            offered(&all, &[], quarter + 60_000, 0),
            Err(BookingError::NotOffered),
            "not on the grid"
        );
        assert_eq!(offered(&all, &[], nine, nine), Err(BookingError::Past));
        assert_eq!(free(&all, &[], quarter).len(), 2, "only slots after now");
        assert_eq!(offered(&all, &busy, ms(all[2].start), 0), Ok(all[2]));
    }

    #[test]
    fn patients_request_or_book_and_change_until_the_deadline() {
        let request = Settings::new("Asia/Tokyo", false, 60).unwrap();
        assert_eq!(request.initial_state(true), State::Requested);
        assert_eq!(request.initial_state(false), State::Confirmed);
        let direct = Settings::new("Asia/Tokyo", true, 60).unwrap();
        assert_eq!(direct.initial_state(true), State::Confirmed);
        let start = 10 * 3_600_000;
        assert!(
            request
                .patient_may_change(start, start - 61 * 60_000)
                .is_ok()
        );
        assert_eq!(
            request.patient_may_change(start, start - 60 * 60_000),
            Err(BookingError::TooLate { minutes: 60 })
        );
        assert!(Settings::new("Asia/Tokyo", true, -1).is_err());
        assert!(Settings::new("Asia/Tokyo", true, DEADLINE_MAX_MINUTES + 1).is_err());
        assert!(Settings::new("Mars/Olympus", true, 0).is_err());
        assert!(patient_may_book(OPEN_VISITS_MAX - 1).is_ok());
        assert_eq!(
            patient_may_book(OPEN_VISITS_MAX),
            Err(BookingError::TooMany)
        );
    }
}
