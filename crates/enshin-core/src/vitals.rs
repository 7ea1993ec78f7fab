//! Home measurements (生活記録, FUNC-4): what a patient may record, each with its UCUM unit, its
//! LOINC code and the range of values a living person can have. A value outside the range is a
//! typing or device mistake and is refused with a message that gives the range. Values are kept
//! as integers in the kind's smallest step (e.g. 36.5 °C is 365 tenths), so nothing is rounded
//! by floating point on the way to the database or a chart.

use crate::password::normalize;

/// A kind of measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Body weight.
    Weight,
    /// Systolic blood pressure.
    Systolic,
    /// Diastolic blood pressure.
    Diastolic,
    /// Pulse (heart rate).
    Pulse,
    /// Respiratory rate.
    RespiratoryRate,
    /// Oxygen saturation by pulse oximetry.
    SpO2,
    /// Body temperature.
    Temperature,
    /// Blood glucose (capillary, by meter).
    Glucose,
    /// Haemoglobin A1c.
    HbA1c,
    /// Steps in a day.
    Steps,
}

/// What is known about a kind: names, unit, code, precision and range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// API name.
    pub name: &'static str,
    /// LOINC code.
    pub loinc: &'static str,
    /// UCUM unit.
    pub unit: &'static str,
    /// The unit as people write it.
    pub unit_label: &'static str,
    /// Digits after the decimal point.
    pub decimals: u32,
    /// Lowest plausible value, in steps of 10^-decimals.
    pub min: i64,
    /// Highest plausible value, in steps of 10^-decimals.
    pub max: i64,
}

impl Kind {
    /// Every kind, in the order of the forms.
    pub const ALL: [Kind; 10] = [
        Kind::Weight,
        Kind::Systolic,
        Kind::Diastolic,
        Kind::Pulse,
        Kind::RespiratoryRate,
        Kind::SpO2,
        Kind::Temperature,
        Kind::Glucose,
        Kind::HbA1c,
        Kind::Steps,
    ];

    /// Its specification.
    pub fn spec(self) -> Spec {
        let s = |name, loinc, unit, unit_label, decimals, min, max| Spec {
            name,
            loinc,
            unit,
            unit_label,
            decimals,
            min,
            max,
        };
        match self {
            Self::Weight => s("weight", "29463-7", "kg", "kg", 1, 10, 4000),
            Self::Systolic => s("systolic", "8480-6", "mm[Hg]", "mmHg", 0, 50, 300),
            Self::Diastolic => s("diastolic", "8462-4", "mm[Hg]", "mmHg", 0, 20, 200),
            Self::Pulse => s("pulse", "8867-4", "/min", "/min", 0, 20, 300),
            Self::RespiratoryRate => s("respiratory_rate", "9279-1", "/min", "/min", 0, 4, 80),
            Self::SpO2 => s("spo2", "59408-5", "%", "%", 0, 50, 100),
            Self::Temperature => s("temperature", "8310-5", "Cel", "°C", 1, 300, 450),
            Self::Glucose => s("glucose", "41653-7", "mg/dL", "mg/dL", 0, 10, 1000),
            Self::HbA1c => s("hba1c", "4548-4", "%", "%", 1, 30, 200),
            Self::Steps => s("steps", "55423-8", "{steps}/d", "steps", 0, 0, 100_000),
        }
    }

    /// The kind of an API name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.spec().name == name)
    }
}

/// Why a typed value is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VitalError {
    /// Not a number.
    #[error("write a number, e.g. {example}")]
    NotANumber {
        /// A value of the right shape.
        example: String,
    },
    /// More digits after the point than the kind keeps.
    #[error("at most {decimals} digits after the decimal point")]
    TooPrecise {
        /// The kind's precision.
        decimals: u32,
    },
    /// Outside what a living person can have: a typing or device mistake.
    #[error("must be between {min} and {max} {unit}")]
    OutOfRange {
        /// The lowest value, as written.
        min: String,
        /// The highest value, as written.
        max: String,
        /// The unit.
        unit: &'static str,
    },
    /// Diastolic pressure not below systolic.
    #[error("the lower (diastolic) pressure must be below the upper (systolic) one")]
    PressureOrder,
    /// One blood-pressure value without the other.
    #[error("blood pressure: give both the upper (systolic) and the lower (diastolic) value")]
    PressurePair,
}

/// A checked value, in the kind's smallest step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    /// The kind.
    pub kind: Kind,
    /// The value in steps of 10^-decimals.
    pub scaled: i64,
}

/// A scaled value as people write it (`365` tenths → `36.5`).
pub fn format(kind: Kind, scaled: i64) -> String {
    let decimals = kind.spec().decimals;
    if decimals == 0 {
        return scaled.to_string();
    }
    let div = 10i64.pow(decimals);
    let sign = if scaled < 0 { "-" } else { "" };
    let abs = scaled.unsigned_abs();
    let div = div.unsigned_abs();
    format!(
        "{sign}{}.{:0width$}",
        abs / div,
        abs % div,
        width = decimals as usize
    )
}

/// Reads a typed value (full-width digits and a comma as decimal point accepted) and checks it
/// against the kind's range.
pub fn reading(kind: Kind, typed: &str) -> Result<Reading, VitalError> {
    let spec = kind.spec();
    let text = normalize(typed.trim()).to_string().replace(',', ".");
    let not_a_number = || VitalError::NotANumber {
        example: format(kind, (spec.min + spec.max) / 2),
    };
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let digits = |s: &str| !s.is_empty() && s.len() <= 9 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !(fraction.is_empty() || digits(fraction)) || text.ends_with('.') {
        return Err(not_a_number());
    }
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > spec.decimals as usize {
        return Err(VitalError::TooPrecise {
            decimals: spec.decimals,
        });
    }
    let scale = 10i64.pow(spec.decimals);
    let whole: i64 = whole.parse().map_err(|_| not_a_number())?;
    let fraction_scaled: i64 = if fraction.is_empty() {
        0
    } else {
        let padded = format!("{fraction:0<width$}", width = spec.decimals as usize);
        padded.parse().map_err(|_| not_a_number())?
    };
    let scaled = whole * scale + fraction_scaled;
    if !(spec.min..=spec.max).contains(&scaled) {
        return Err(VitalError::OutOfRange {
            min: format(kind, spec.min),
            max: format(kind, spec.max),
            unit: spec.unit_label,
        });
    }
    Ok(Reading { kind, scaled })
}

/// Checks the blood pressure of one entry: both values or neither, the lower below the upper.
pub fn pressure(systolic: Option<&Reading>, diastolic: Option<&Reading>) -> Result<(), VitalError> {
    match (systolic, diastolic) {
        (Some(upper), Some(lower)) if lower.scaled >= upper.scaled => {
            Err(VitalError::PressureOrder)
        }
        (Some(_), None) | (None, Some(_)) => Err(VitalError::PressurePair),
        _ => Ok(()),
    }
}

/// Most readings one device request may carry.
pub const BATCH_MAX: usize = 500;
/// Longest note on a reading, in characters.
pub const NOTE_MAX: usize = 200;
/// Longest name of a device, in characters.
pub const DEVICE_NAME_MAX: usize = 40;
/// How far in the future a measurement time may lie (clocks of phones and devices drift).
pub const FUTURE_SLACK_MS: i64 = 10 * 60_000;
/// The earliest measurement time accepted (2000-01-01T00:00:00Z): older is a device's unset clock.
pub const EARLIEST_MS: i64 = 946_684_800_000;
/// Prefix of a device token, so that it is recognisable and never taken for a session token.
pub const DEVICE_TOKEN_PREFIX: &str = "ensdev_";

/// Why a measurement time is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// Later than now (beyond clock drift).
    #[error("the measurement time is in the future")]
    Future,
    /// Before 2000: a device whose clock was never set.
    #[error("the measurement time is before the year 2000; set the device's clock")]
    TooOld,
}

/// Checks when a measurement says it was taken, against the server's clock.
pub fn measured_at(at_ms: i64, now_ms: i64) -> Result<(), TimeError> {
    if at_ms > now_ms + FUTURE_SLACK_MS {
        Err(TimeError::Future)
    } else if at_ms < EARLIEST_MS {
        Err(TimeError::TooOld)
    } else {
        Ok(())
    }
}

/// A clinic's alert bounds for one patient and kind: a reading above `above` or below `below`
/// is out of bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// The kind.
    pub kind: Kind,
    /// Out when higher than this.
    pub above: Option<i64>,
    /// Out when lower than this.
    pub below: Option<i64>,
}

/// Why typed bounds are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BoundsError {
    /// Neither bound given.
    #[error("give an upper or a lower limit (or both)")]
    Empty,
    /// A bound is not a plausible value of the kind.
    #[error("{which}: {error}")]
    Value {
        /// `above` or `below`.
        which: &'static str,
        /// What is wrong with it.
        error: VitalError,
    },
    /// The lower limit is not below the upper one.
    #[error("the lower limit must be below the upper limit")]
    Crossed,
}

impl Bounds {
    /// Reads typed limits (empty means none) of a kind.
    pub fn typed(kind: Kind, above: &str, below: &str) -> Result<Self, BoundsError> {
        let limit = |which: &'static str, typed: &str| {
            if typed.trim().is_empty() {
                return Ok(None);
            }
            reading(kind, typed)
                .map(|r| Some(r.scaled))
                .map_err(|error| BoundsError::Value { which, error })
        };
        let bounds = Self {
            kind,
            above: limit("above", above)?,
            below: limit("below", below)?,
        };
        match (bounds.above, bounds.below) {
            (None, None) => Err(BoundsError::Empty),
            (Some(a), Some(b)) if b >= a => Err(BoundsError::Crossed),
            _ => Ok(bounds),
        }
    }

    /// Whether a value is out of bounds.
    pub fn is_out(&self, scaled: i64) -> bool {
        self.above.is_some_and(|a| scaled > a) || self.below.is_some_and(|b| scaled < b)
    }

    /// The readings (given in the order they were measured) that raise an alert: each one that
    /// is out of bounds while the one before it was not, so a patient whose pressure stays high
    /// raises one alert, not one per reading. Returns their positions and whether the last
    /// reading is out.
    pub fn crossings(&self, was_out: bool, values: &[i64]) -> (Vec<usize>, bool) {
        let mut out = was_out;
        let mut raised = Vec::new();
        for (i, &v) in values.iter().enumerate() {
            let now_out = self.is_out(v);
            if now_out && !out {
                raised.push(i);
            }
            out = now_out;
        }
        (raised, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_values_are_read_exactly_in_the_kinds_steps() {
        assert_eq!(reading(Kind::Temperature, "36.5").unwrap().scaled, 365);
        assert_eq!(reading(Kind::Temperature, "３６．５").unwrap().scaled, 365);
        assert_eq!(reading(Kind::Temperature, "36,50").unwrap().scaled, 365);
        assert_eq!(reading(Kind::Temperature, "37").unwrap().scaled, 370);
        assert_eq!(reading(Kind::Weight, "62.4").unwrap().scaled, 624);
        assert_eq!(reading(Kind::Steps, "8421").unwrap().scaled, 8421);
        assert_eq!(reading(Kind::Steps, "0").unwrap().scaled, 0);
        assert_eq!(format(Kind::HbA1c, 65), "6.5");
        assert_eq!(format(Kind::Weight, 1000), "100.0");
    }

    #[test]
    fn impossible_values_are_refused_with_the_range() {
        assert_eq!(
            reading(Kind::Temperature, "52").unwrap_err().to_string(),
            "must be between 30.0 and 45.0 °C"
        );
        assert_eq!(
            reading(Kind::SpO2, "101").unwrap_err(),
            VitalError::OutOfRange {
                min: "50".into(),
                max: "100".into(),
                unit: "%"
            }
        );
        assert!(matches!(
            reading(Kind::Systolic, "120.5"),
            Err(VitalError::TooPrecise { decimals: 0 })
        ));
        for bad in [
            "",
            "abc",
            "-5",
            "1e3",
            "12.",
            ".5",
            "36.5.1",
            "9999999999",
            "３６℃",
        ] {
            assert!(
                matches!(
                    reading(Kind::Temperature, bad),
                    Err(VitalError::NotANumber { .. })
                ),
                "{bad}"
            );
        }
        let (upper, lower) = (
            reading(Kind::Systolic, "120").unwrap(),
            reading(Kind::Diastolic, "80").unwrap(),
        );
        assert!(pressure(Some(&upper), Some(&lower)).is_ok());
        assert!(pressure(None, None).is_ok());
        let (high_lower, low_upper) = (
            reading(Kind::Diastolic, "120").unwrap(),
            reading(Kind::Systolic, "80").unwrap(),
        );
        assert_eq!(
            pressure(Some(&low_upper), Some(&high_lower)),
            Err(VitalError::PressureOrder)
        );
        assert_eq!(pressure(Some(&upper), None), Err(VitalError::PressurePair));
        assert_eq!(pressure(None, Some(&lower)), Err(VitalError::PressurePair));
    }

    #[test]
    fn every_kind_has_a_code_a_unit_and_a_sane_range() {
        let mut names = std::collections::HashSet::new();
        for kind in Kind::ALL {
            let s = kind.spec();
            assert!(names.insert(s.name));
            assert_eq!(Kind::parse(s.name), Some(kind));
            assert!(s.loinc.contains('-') && !s.unit.is_empty());
            assert!(s.min < s.max);
            let mid = format(kind, (s.min + s.max) / 2);
            assert!(reading(kind, &mid).is_ok(), "{kind:?} {mid}");
        }
        assert_eq!(Kind::parse("mood"), None);
    }

    #[test]
    fn bounds_raise_one_alert_per_crossing() {
        let b = Bounds::typed(Kind::Systolic, "160", "").unwrap();
        assert_eq!(
            b.crossings(false, &[150, 165, 170, 158, 161]),
            (vec![1, 4], true)
        );
        assert_eq!(b.crossings(true, &[170, 171]), (vec![], true));
        assert_eq!(b.crossings(true, &[120]), (vec![], false));
        let spo2 = Bounds::typed(Kind::SpO2, "", "93").unwrap();
        assert!(spo2.is_out(92) && !spo2.is_out(93));
        let t = Bounds::typed(Kind::Temperature, "37.5", "35.0").unwrap();
        assert_eq!((t.above, t.below), (Some(375), Some(350)));
    }

    #[test]
    fn bad_bounds_are_refused_with_the_reason() {
        assert_eq!(Bounds::typed(Kind::Pulse, " ", ""), Err(BoundsError::Empty));
        assert_eq!(
            Bounds::typed(Kind::Pulse, "50", "100"),
            Err(BoundsError::Crossed)
        );
        assert_eq!(
            Bounds::typed(Kind::Systolic, "400", "")
                .unwrap_err()
                .to_string(),
            "above: must be between 50 and 300 mmHg"
        );
    }

    #[test]
    fn measurement_times_from_unset_or_future_clocks_are_refused() {
        let now = 1_800_000_000_000;
        assert_eq!(measured_at(now, now), Ok(()));
        assert_eq!(measured_at(now + FUTURE_SLACK_MS, now), Ok(()));
        assert_eq!(
            measured_at(now + FUTURE_SLACK_MS + 1, now),
            Err(TimeError::Future)
        );
        assert_eq!(measured_at(0, now), Err(TimeError::TooOld));
    }
}
