//! The states of an appointment and the moves between them: requested → confirmed → in
//! consultation → completed, or cancelled / no-show on the way. Who may make a move is the
//! permission matrix's business; which moves exist is decided here, once.

/// Where an appointment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Asked for by a patient; the clinic confirms (clinics that let patients book directly
    /// start at `Confirmed`).
    Requested,
    /// Booked.
    Confirmed,
    /// The consultation is under way.
    InConsultation,
    /// Done.
    Completed,
    /// Called off, by the patient or the clinic.
    Cancelled,
    /// The patient did not come.
    NoShow,
}

impl State {
    /// Stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Confirmed => "confirmed",
            Self::InConsultation => "in_consultation",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
            Self::NoShow => "no_show",
        }
    }

    /// The state of a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Every state.
    pub const ALL: [State; 6] = [
        State::Requested,
        State::Confirmed,
        State::InConsultation,
        State::Completed,
        State::Cancelled,
        State::NoShow,
    ];

    /// Whether the appointment holds its slot (a cancelled one frees it).
    pub fn holds_slot(self) -> bool {
        !matches!(self, Self::Cancelled)
    }

    /// Whether nothing can happen to it any more.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Cancelled | Self::NoShow)
    }
}

/// Why a move is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an appointment that is {} cannot become {}", from.as_str(), to.as_str())]
pub struct NoSuchMove {
    /// The current state.
    pub from: State,
    /// The state asked for.
    pub to: State,
}

/// Checks a move.
pub fn check_move(from: State, to: State) -> Result<(), NoSuchMove> {
    use State::*;
    let allowed = matches!(
        (from, to),
        (Requested, Confirmed | Cancelled)
            | (Confirmed, InConsultation | Cancelled | NoShow)
            | (InConsultation, Completed)
    );
    if allowed {
        Ok(())
    } else {
        Err(NoSuchMove { from, to })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_of_a_visit_and_its_ways_out() {
        use State::*;
        for (from, to) in [
            (Requested, Confirmed),
            (Confirmed, InConsultation),
            (InConsultation, Completed),
            (Requested, Cancelled),
            (Confirmed, Cancelled),
            (Confirmed, NoShow),
        ] {
            assert_eq!(check_move(from, to), Ok(()), "{from:?} → {to:?}");
        }
    }

    #[test]
    fn final_states_stay_final_and_nothing_skips_ahead() {
        for from in State::ALL.into_iter().filter(|s| s.is_final()) {
            for to in State::ALL {
                assert!(check_move(from, to).is_err(), "{from:?} → {to:?}");
            }
        }
        assert!(check_move(State::Requested, State::Completed).is_err());
        assert!(check_move(State::InConsultation, State::Cancelled).is_err());
        assert!(check_move(State::Confirmed, State::Requested).is_err());
        for s in State::ALL {
            assert!(check_move(s, s).is_err(), "no move to itself");
            assert_eq!(State::parse(s.as_str()), Some(s));
        }
        assert!(!State::Cancelled.holds_slot());
        assert!(State::NoShow.holds_slot());
    }
}
