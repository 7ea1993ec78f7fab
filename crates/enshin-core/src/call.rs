//! Video consultation (FUNC-5): who may enter an appointment's room and when, the join
//! credential, the TURN credentials handed to browsers, and the signalling messages a browser may
//! send. The room itself (waiting, admission, relaying) lives in the server; the rules live here.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::hmac;
use serde::{Deserialize, Serialize};

use crate::appointment::State;

/// Prefix of a join credential, so a leaked one is recognisable in a log or a paste.
pub const CREDENTIAL_PREFIX: &str = "enscall_";
/// How long a join credential can be used: the page asks for one right before it connects.
pub const CREDENTIAL_TTL_MS: i64 = 2 * 60_000;
/// How early before the start a patient may enter the waiting room.
pub const EARLY_MS: i64 = 30 * 60_000;
/// Largest signalling message accepted from a browser (an SDP offer is a few KiB).
pub const MESSAGE_MAX: usize = 64 * 1024;
/// Longest session description accepted.
pub const SDP_MAX: usize = 48 * 1024;
/// Longest ICE candidate line accepted.
pub const CANDIDATE_MAX: usize = 1024;
/// Longest clinic contact telephone number.
pub const CONTACT_MAX: usize = 20;

/// Which side of the call a person is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The appointment's doctor: opens the room, admits the patient, ends the call.
    Doctor,
    /// The appointment's patient: waits until admitted.
    Patient,
}

impl Role {
    /// Stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Doctor => "doctor",
            Self::Patient => "patient",
        }
    }

    /// The role of a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Doctor, Self::Patient]
            .into_iter()
            .find(|r| r.as_str() == text)
    }
}

/// Why a room cannot be entered now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The appointment is an in-person visit.
    #[error("this appointment is an in-person visit; it has no video call")]
    NotOnline,
    /// The appointment is not confirmed, or is over.
    #[error("the call is open only for a confirmed appointment or one under way, not one that is {}", .0.as_str())]
    NotOpen(State),
    /// The patient is too early.
    #[error("the waiting room opens 30 minutes before the appointment")]
    TooEarly {
        /// When it opens, unix ms.
        opens_at: i64,
    },
    /// A clinic contact number as typed is not a telephone number.
    #[error("contact: a telephone number of up to 20 digits, e.g. 03-1234-5678")]
    Contact,
}

/// Whether `role` may enter the room of an appointment now. A doctor may open it whenever the
/// appointment is confirmed or under way; a patient from [`EARLY_MS`] before its start.
pub fn may_enter(
    mode: &str,
    state: State,
    starts_at: i64,
    now: i64,
    role: Role,
) -> Result<(), CallError> {
    if mode != "online" {
        return Err(CallError::NotOnline);
    }
    if !matches!(state, State::Confirmed | State::InConsultation) {
        return Err(CallError::NotOpen(state));
    }
    let opens_at = starts_at - EARLY_MS;
    if role == Role::Patient && now < opens_at {
        return Err(CallError::TooEarly { opens_at });
    }
    Ok(())
}

/// A clinic's contact telephone number as typed: digits with hyphens, spaces, parentheses or a
/// leading `+`; full-width digits are read. Empty means "not set".
pub fn contact_phone(typed: &str) -> Result<String, CallError> {
    let text: String = typed
        .trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            'ー' | '－' | '‐' => '-',
            '（' => '(',
            '）' => ')',
            '＋' => '+',
            '　' => ' ',
            other => other,
        })
        .collect();
    let digits = text.chars().filter(char::is_ascii_digit).count();
    let shape = text.chars().enumerate().all(|(i, c)| {
        c.is_ascii_digit() || matches!(c, '-' | ' ' | '(' | ')') || (c == '+' && i == 0)
    });
    let usable = shape && (6..=CONTACT_MAX).contains(&digits) && text.len() <= 2 * CONTACT_MAX;
    if text.is_empty() || usable {
        Ok(text)
    } else {
        Err(CallError::Contact)
    }
}

/// A join credential as stored (by its digest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCredential {
    /// The appointment whose room it opens.
    pub appointment_id: String,
    /// The person it was given to.
    pub account_id: String,
    /// Their side of the call.
    pub role: Role,
    /// Unix ms after which it is refused.
    pub expires_at: i64,
    /// When it was used (it opens the room once).
    pub used_at: Option<i64>,
}

/// Why a join credential is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    /// No such credential.
    #[error("the join credential is not valid; reload the page")]
    Unknown,
    /// Given to someone else.
    #[error("the join credential belongs to someone else")]
    NotYours,
    /// Given for another appointment's room.
    #[error("the join credential is for another appointment")]
    OtherAppointment,
    /// Used already.
    #[error("the join credential has been used; reload the page")]
    Used,
    /// Too old.
    #[error("the join credential has expired; reload the page")]
    Expired,
}

impl CredentialError {
    /// Stable code for the API and the access log.
    pub fn code(self) -> &'static str {
        match self {
            Self::Unknown => "credential_unknown",
            Self::NotYours => "credential_not_yours",
            Self::OtherAppointment => "credential_other_appointment",
            Self::Used => "credential_used",
            Self::Expired => "credential_expired",
        }
    }
}

/// Whether a stored credential lets `account_id` into the room of `appointment_id` now.
pub fn check_credential(
    stored: &StoredCredential,
    appointment_id: &str,
    account_id: &str,
    now: i64,
) -> Result<Role, CredentialError> {
    if stored.account_id != account_id {
        Err(CredentialError::NotYours)
    } else if stored.appointment_id != appointment_id {
        Err(CredentialError::OtherAppointment)
    } else if stored.used_at.is_some() {
        Err(CredentialError::Used)
    } else if now >= stored.expires_at {
        Err(CredentialError::Expired)
    } else {
        Ok(stored.role)
    }
}

/// A TURN credential in coturn's REST form (`use-auth-secret`): the user name is the expiry time
/// and an opaque label, the password the base64 HMAC-SHA1 of the user name under the shared
/// secret. coturn checks both without asking enshin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnCredential {
    /// `<expiry unix seconds>:<label>`.
    pub username: String,
    /// base64(HMAC-SHA1(secret, username)).
    pub credential: String,
}

/// Mints a TURN credential valid until `expires_s` (unix seconds) for `label`, which must not
/// be personal data: coturn writes user names into its log.
pub fn turn_credential(secret: &[u8], label: &str, expires_s: i64) -> TurnCredential {
    let username = format!("{expires_s}:{label}");
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let credential = STANDARD.encode(hmac::sign(&key, username.as_bytes()).as_ref());
    TurnCredential {
        username,
        credential,
    }
}

/// What a browser sends over the signalling socket.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    /// A session description for the other side.
    Description {
        /// `offer` or `answer`.
        kind: SdpKind,
        /// The SDP text.
        sdp: String,
    },
    /// An ICE candidate for the other side.
    Candidate {
        /// The `candidate:` line (empty at the end of gathering).
        candidate: String,
        /// The media section's id.
        #[serde(default)]
        sdp_mid: Option<String>,
        /// The media section's index.
        #[serde(default)]
        sdp_m_line_index: Option<u16>,
    },
    /// The doctor lets the waiting patient in. (Empty braces, not a unit variant, so that
    /// unknown fields are refused here too.)
    Admit {},
    /// The doctor ends the call for both sides.
    End {},
    /// Asks the other side to start media again (after a network change).
    Restart {},
}

/// The kind of a session description.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SdpKind {
    /// An offer (only the doctor's side makes them).
    Offer,
    /// An answer.
    Answer,
}

/// Why a browser's message is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// Too large, not JSON, or not one of the messages.
    #[error("not a signalling message: {0}")]
    Malformed(String),
    /// Allowed to the other role only.
    #[error("only the doctor can do this")]
    NotYours,
}

impl ClientMessage {
    /// Parses and checks one message from `role`: sizes, and that only the doctor admits, ends
    /// and offers (the doctor's side leads, so two offers never cross).
    pub fn parse(text: &str, role: Role) -> Result<Self, MessageError> {
        if text.len() > MESSAGE_MAX {
            return Err(MessageError::Malformed(format!(
                "larger than {MESSAGE_MAX} bytes"
            )));
        }
        let message: Self =
            serde_json::from_str(text).map_err(|e| MessageError::Malformed(e.to_string()))?;
        match &message {
            Self::Description { sdp, .. } if sdp.len() > SDP_MAX || sdp.is_empty() => {
                return Err(MessageError::Malformed(format!(
                    "sdp: 1 to {SDP_MAX} bytes"
                )));
            }
            Self::Candidate {
                candidate, sdp_mid, ..
            } if candidate.len() > CANDIDATE_MAX
                || sdp_mid.as_ref().is_some_and(|m| m.len() > 64) =>
            {
                return Err(MessageError::Malformed(format!(
                    "candidate: at most {CANDIDATE_MAX} bytes"
                )));
            }
            _ => {}
        }
        let doctors_only = matches!(
            message,
            Self::Admit {}
                | Self::End {}
                | Self::Description {
                    kind: SdpKind::Offer,
                    ..
                }
        );
        if doctors_only && role != Role::Doctor {
            return Err(MessageError::NotYours);
        }
        Ok(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patient_waits_from_thirty_minutes_before_and_a_doctor_any_time_it_is_open() {
        let start = 1_000_000_000;
        let early = start - EARLY_MS - 1;
        assert_eq!(
            may_enter("online", State::Confirmed, start, early, Role::Patient),
            Err(CallError::TooEarly {
                opens_at: start - EARLY_MS
            })
        );
        assert!(may_enter("online", State::Confirmed, start, early + 1, Role::Patient).is_ok());
        assert!(may_enter("online", State::Confirmed, start, early, Role::Doctor).is_ok());
        assert!(may_enter("online", State::InConsultation, start, start, Role::Patient).is_ok());
        for state in [
            State::Requested,
            State::Completed,
            State::Cancelled,
            State::NoShow,
        ] {
            assert_eq!(
                may_enter("online", state, start, start, Role::Doctor),
                Err(CallError::NotOpen(state))
            );
        }
        assert_eq!(
            may_enter("in_person", State::Confirmed, start, start, Role::Doctor),
            Err(CallError::NotOnline)
        );
    }

    #[test]
    fn a_credential_opens_one_room_for_one_person_once_and_briefly() {
        let stored = StoredCredential {
            appointment_id: "a1".into(),
            account_id: "p1".into(),
            role: Role::Patient,
            expires_at: 1_000,
            used_at: None,
        };
        assert_eq!(
            check_credential(&stored, "a1", "p1", 999),
            Ok(Role::Patient)
        );
        assert_eq!(
            check_credential(&stored, "a1", "p2", 0),
            Err(CredentialError::NotYours)
        );
        assert_eq!(
            check_credential(&stored, "a2", "p1", 0),
            Err(CredentialError::OtherAppointment)
        );
        assert_eq!(
            check_credential(&stored, "a1", "p1", 1_000),
            Err(CredentialError::Expired)
        );
        let used = StoredCredential {
            used_at: Some(5),
            ..stored
        };
        assert_eq!(
            check_credential(&used, "a1", "p1", 6),
            Err(CredentialError::Used)
        );
    }

    #[test]
    fn turn_credentials_match_coturns_rest_scheme() {
        // The browser test proves coturn accepts these; here the shape and the MAC itself.
        let got = turn_credential(b"north", "x", 1_600_000_000);
        assert_eq!(got.username, "1600000000:x");
        let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, b"north");
        let mac = STANDARD.decode(&got.credential).unwrap();
        assert_eq!(mac.len(), 20);
        assert!(hmac::verify(&key, b"1600000000:x", &mac).is_ok());
        assert_ne!(
            turn_credential(b"south", "x", 1_600_000_000).credential,
            got.credential
        );
    }

    #[test]
    fn messages_are_checked_for_shape_size_and_role() {
        let offer = r#"{"type":"description","kind":"offer","sdp":"v=0"}"#;
        assert!(ClientMessage::parse(offer, Role::Doctor).is_ok());
        assert_eq!(
            ClientMessage::parse(offer, Role::Patient),
            Err(MessageError::NotYours)
        );
        let answer = r#"{"type":"description","kind":"answer","sdp":"v=0"}"#;
        assert!(ClientMessage::parse(answer, Role::Patient).is_ok());
        assert_eq!(
            ClientMessage::parse(r#"{"type":"admit"}"#, Role::Patient),
            Err(MessageError::NotYours)
        );
        assert_eq!(
            ClientMessage::parse(r#"{"type":"admit"}"#, Role::Doctor),
            Ok(ClientMessage::Admit {})
        );
        let candidate = r#"{"type":"candidate","candidate":"candidate:1 1 udp 1 127.0.0.1 9 typ host","sdp_mid":"0","sdp_m_line_index":0}"#;
        assert!(ClientMessage::parse(candidate, Role::Patient).is_ok());
        for bad in [
            "",
            "null",
            "{}",
            r#"{"type":"shout"}"#,
            r#"{"type":"admit","extra":1}"#,
            r#"{"type":"description","kind":"pranswer","sdp":"v=0"}"#,
            r#"{"type":"description","kind":"answer","sdp":""}"#,
        ] {
            assert!(
                matches!(
                    ClientMessage::parse(bad, Role::Doctor),
                    Err(MessageError::Malformed(_))
                ),
                "{bad}"
            );
        }
        let huge = format!(
            r#"{{"type":"description","kind":"answer","sdp":"{}"}}"#,
            "a".repeat(SDP_MAX + 1)
        );
        assert!(ClientMessage::parse(&huge, Role::Patient).is_err());
        let long_candidate = format!(
            r#"{{"type":"candidate","candidate":"{}"}}"#,
            "a".repeat(CANDIDATE_MAX + 1)
        );
        assert!(ClientMessage::parse(&long_candidate, Role::Patient).is_err());
        assert!(ClientMessage::parse(&"x".repeat(MESSAGE_MAX + 1), Role::Doctor).is_err());
    }

    #[test]
    fn clinic_contact_numbers() {
        assert_eq!(contact_phone(" 03-1234-5678 ").unwrap(), "03-1234-5678");
        assert_eq!(
            contact_phone("０３ー１２３４ー５６７８").unwrap(),
            "03-1234-5678"
        );
        assert_eq!(contact_phone("+81 3 1234 5678").unwrap(), "+81 3 1234 5678");
        assert_eq!(contact_phone("").unwrap(), "");
        for bad in [
            "12345",
            "03-1234-5678 ext",
            "3+1234567",
            "call us",
            "0".repeat(21).as_str(),
        ] {
            assert_eq!(contact_phone(bad), Err(CallError::Contact), "{bad}");
        }
    }
}
