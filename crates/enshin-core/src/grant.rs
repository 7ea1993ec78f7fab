//! Operators' access to a clinic's patient data (DATA-4, §11-①): none by default. An operator
//! asks the clinic's admins (reason, scope, duration ≤ 8 h); access starts when an admin approves
//! and ends by itself; a request nobody decides lapses after 4 days. In an emergency
//! (break-glass) access starts at once for at most 4 h and the admins are told.

const MINUTE_MS: i64 = 60_000;
/// Longest access an admin can approve.
pub const REQUEST_MAX_MINUTES: i64 = 8 * 60;
/// Longest break-glass access.
pub const BREAK_GLASS_MAX_MINUTES: i64 = 4 * 60;
/// A request nobody decided lapses after this long.
pub const PENDING_MS: i64 = 4 * 24 * 60 * MINUTE_MS;
/// Longest reason, in characters.
pub const REASON_MAX: usize = 500;

/// How the access came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Asked for, and approved by a clinic admin.
    Request,
    /// Taken at once in an emergency.
    BreakGlass,
}

impl Kind {
    /// Stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Request => "request",
            Self::BreakGlass => "break_glass",
        }
    }

    /// The kind of a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "request" => Some(Self::Request),
            "break_glass" => Some(Self::BreakGlass),
            _ => None,
        }
    }

    fn max_minutes(self) -> i64 {
        match self {
            Self::Request => REQUEST_MAX_MINUTES,
            Self::BreakGlass => BREAK_GLASS_MAX_MINUTES,
        }
    }
}

/// What the access covers inside one clinic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// One patient of the clinic.
    Patient(String),
    /// Every patient record of the clinic.
    Clinic,
}

impl Scope {
    /// Stored form: `clinic` or `patient:<id>`.
    pub fn to_stored(&self) -> String {
        match self {
            Self::Clinic => "clinic".to_owned(),
            Self::Patient(id) => format!("patient:{id}"),
        }
    }

    /// The scope of a stored form.
    pub fn from_stored(text: &str) -> Option<Self> {
        match text.strip_prefix("patient:") {
            Some(id) if !id.is_empty() => Some(Self::Patient(id.to_owned())),
            Some(_) => None,
            None => (text == "clinic").then_some(Self::Clinic),
        }
    }

    /// Whether it reaches this patient.
    pub fn covers(&self, patient_id: &str) -> bool {
        match self {
            Self::Clinic => true,
            Self::Patient(id) => id == patient_id,
        }
    }
}

/// Why an access request is refused as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    /// No reason, or one too long or with control characters.
    #[error("the reason must have 1 to {REASON_MAX} characters")]
    Reason,
    /// Duration outside 1 minute to the kind's maximum.
    #[error("the duration must be 1 to {max} minutes")]
    Duration {
        /// The kind's maximum.
        max: i64,
    },
    /// The patient id of a one-patient scope is not an id.
    #[error("the patient id is not an id")]
    PatientId,
}

/// A checked access request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asked {
    /// Request or break-glass.
    pub kind: Kind,
    /// The stated reason (B-class: it must not name a patient; the form says so).
    pub reason: String,
    /// What it covers.
    pub scope: Scope,
    /// How long access lasts once it starts.
    pub duration_ms: i64,
}

/// Checks what an operator typed.
pub fn ask(
    kind: Kind,
    reason: &str,
    patient_id: Option<&str>,
    minutes: i64,
) -> Result<Asked, GrantError> {
    let reason = reason.trim();
    let count = reason.chars().count();
    if count == 0 || count > REASON_MAX || reason.chars().any(|c| c.is_control() && c != '\n') {
        return Err(GrantError::Reason);
    }
    let max = kind.max_minutes();
    if !(1..=max).contains(&minutes) {
        return Err(GrantError::Duration { max });
    }
    let scope = match patient_id.map(str::trim).filter(|p| !p.is_empty()) {
        None => Scope::Clinic,
        Some(id)
            if id.len() <= 64
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            Scope::Patient(id.to_owned())
        }
        Some(_) => return Err(GrantError::PatientId),
    };
    Ok(Asked {
        kind,
        reason: reason.to_owned(),
        scope,
        duration_ms: minutes * MINUTE_MS,
    })
}

/// Where a grant stands at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Waiting for an admin.
    Pending,
    /// Nobody decided within 4 days.
    Lapsed,
    /// An admin refused.
    Refused,
    /// Access is open.
    Active,
    /// Access has ended (its time ran out, or an admin ended it early).
    Ended,
}

impl State {
    /// API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Lapsed => "lapsed",
            Self::Refused => "refused",
            Self::Active => "active",
            Self::Ended => "ended",
        }
    }
}

/// The times that decide a grant's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Times {
    /// Asked, unix ms.
    pub requested_at: i64,
    /// Refused, unix ms.
    pub refused_at: Option<i64>,
    /// Access began (approval or break-glass), unix ms.
    pub starts_at: Option<i64>,
    /// Access ends (or ended early), unix ms.
    pub ends_at: Option<i64>,
}

impl Times {
    /// The state at `now`.
    pub fn state(&self, now: i64) -> State {
        match (self.refused_at, self.starts_at, self.ends_at) {
            (Some(_), _, _) => State::Refused,
            (None, Some(start), Some(end)) if start <= now && now < end => State::Active,
            (None, Some(_), _) => State::Ended,
            (None, None, _) if now - self.requested_at >= PENDING_MS => State::Lapsed,
            (None, None, _) => State::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 60 * MINUTE_MS;

    #[test]
    fn durations_are_capped_by_kind() {
        assert!(ask(Kind::Request, "調査", None, 480).is_ok());
        assert_eq!(
            ask(Kind::Request, "調査", None, 481),
            Err(GrantError::Duration { max: 480 })
        );
        assert!(ask(Kind::BreakGlass, "障害対応", None, 240).is_ok());
        assert_eq!(
            ask(Kind::BreakGlass, "障害対応", None, 241),
            Err(GrantError::Duration { max: 240 })
        );
        assert!(ask(Kind::Request, "x", None, 0).is_err());
        assert!(ask(Kind::Request, "x", None, -5).is_err());
    }

    #[test]
    fn reasons_and_patient_ids_are_checked() {
        assert_eq!(ask(Kind::Request, "  ", None, 60), Err(GrantError::Reason));
        assert_eq!(
            ask(Kind::Request, &"あ".repeat(501), None, 60),
            Err(GrantError::Reason)
        );
        assert_eq!(
            ask(Kind::Request, "a\u{0}b", None, 60),
            Err(GrantError::Reason)
        );
        assert_eq!(
            ask(Kind::Request, "r", Some("../x"), 60),
            Err(GrantError::PatientId)
        );
        let asked = ask(Kind::Request, " r ", Some("p-1"), 60).unwrap();
        assert_eq!(asked.scope, Scope::Patient("p-1".into()));
        assert_eq!(asked.reason, "r");
        assert_eq!(asked.duration_ms, H);
        assert_eq!(
            ask(Kind::Request, "r", Some(""), 60).unwrap().scope,
            Scope::Clinic
        );
    }

    #[test]
    fn scopes_round_trip_and_cover_what_they_name() {
        for scope in [Scope::Clinic, Scope::Patient("p1".into())] {
            assert_eq!(Scope::from_stored(&scope.to_stored()), Some(scope));
        }
        assert_eq!(Scope::from_stored("patient:"), None);
        assert_eq!(Scope::from_stored("everything"), None);
        assert!(Scope::Clinic.covers("any"));
        assert!(Scope::Patient("p1".into()).covers("p1"));
        assert!(!Scope::Patient("p1".into()).covers("p2"));
    }

    #[test]
    fn a_grant_moves_through_its_states_with_time() {
        let pending = Times {
            requested_at: 0,
            refused_at: None,
            starts_at: None,
            ends_at: None,
        };
        assert_eq!(pending.state(PENDING_MS - 1), State::Pending);
        assert_eq!(pending.state(PENDING_MS), State::Lapsed);
        let approved = Times {
            starts_at: Some(H),
            ends_at: Some(3 * H),
            ..pending
        };
        assert_eq!(
            approved.state(H - 1),
            State::Ended,
            "not yet begun is not open"
        );
        assert_eq!(approved.state(H), State::Active);
        assert_eq!(approved.state(3 * H - 1), State::Active);
        assert_eq!(approved.state(3 * H), State::Ended);
        assert_eq!(
            approved.state(PENDING_MS * 2),
            State::Ended,
            "approved grants never lapse"
        );
        let refused = Times {
            refused_at: Some(5),
            ..pending
        };
        assert_eq!(refused.state(6), State::Refused);
    }
}
