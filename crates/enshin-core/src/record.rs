//! Visit notes (FUNC-6) and the rules every clinical record follows (ROLE-3, 真正性): a note is
//! drafted, then finalised (確定) by an authenticated doctor; after that it changes only by an
//! amendment with a reason, which is a new version; a note made in error is marked so, with a
//! reason, and stays. Staff may draft on a named doctor's behalf (代行入力); only that doctor's
//! approval finalises it. Every version of a note or a plan is linked to the one before by hash,
//! so an edited or removed version shows in `enshin records verify`.

use ring::digest::{SHA256, digest};
use serde::{Deserialize, Serialize};

use crate::appointment::State as Visit;
use crate::encoding::to_hex;

/// Longest SOAP field or plan item, in characters.
pub const TEXT_MAX: usize = 4000;
/// Longest reason (amendment, entered in error, outcome), in characters.
pub const REASON_MAX: usize = 400;

/// What is wrong with a record as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// A field is longer than allowed.
    #[error("{field} is longer than {max} characters")]
    TooLong {
        /// The field.
        field: &'static str,
        /// Its limit.
        max: usize,
    },
    /// A field holds control characters (other than line breaks and tabs).
    #[error("{field} contains control characters")]
    Control {
        /// The field.
        field: &'static str,
    },
    /// A required field is blank.
    #[error("{field} is required")]
    Required {
        /// The field.
        field: &'static str,
    },
}

impl RecordError {
    /// The field concerned.
    pub fn field(&self) -> &'static str {
        match self {
            Self::TooLong { field, .. } | Self::Control { field } | Self::Required { field } => {
                field
            }
        }
    }
}

/// Checks a free-text field: at most `max` characters, no control characters but `\n` and
/// `\t`; `\r\n` becomes `\n` so a version's hash does not depend on the browser.
pub fn text(field: &'static str, value: &str, max: usize) -> Result<String, RecordError> {
    let value = value.replace("\r\n", "\n");
    if value.chars().count() > max {
        return Err(RecordError::TooLong { field, max });
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(RecordError::Control { field });
    }
    Ok(value)
}

/// A reason (for an amendment, an entry in error, a switched or aborted visit): required.
pub fn reason(field: &'static str, value: &str) -> Result<String, RecordError> {
    let value = text(field, value.trim(), REASON_MAX)?;
    if value.is_empty() {
        return Err(RecordError::Required { field });
    }
    Ok(value)
}

/// The four parts of a visit note.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Soap {
    /// S: what the patient reports.
    #[serde(default)]
    pub subjective: String,
    /// O: findings.
    #[serde(default)]
    pub objective: String,
    /// A: assessment.
    #[serde(default)]
    pub assessment: String,
    /// P: plan.
    #[serde(default)]
    pub plan: String,
}

impl Soap {
    fn checked(&self) -> Result<Self, RecordError> {
        Ok(Self {
            subjective: text("subjective", &self.subjective, TEXT_MAX)?,
            objective: text("objective", &self.objective, TEXT_MAX)?,
            assessment: text("assessment", &self.assessment, TEXT_MAX)?,
            plan: text("plan", &self.plan, TEXT_MAX)?,
        })
    }

    fn is_blank(&self) -> bool {
        [
            &self.subjective,
            &self.objective,
            &self.assessment,
            &self.plan,
        ]
        .iter()
        .all(|s| s.trim().is_empty())
    }
}

/// How an online visit ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    /// The consultation was completed online.
    CompletedOnline,
    /// The doctor switched to an in-person visit.
    SwitchedToInPerson,
    /// Broken off (a connection failure, the patient's state…).
    Aborted,
}

impl OutcomeKind {
    /// Stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CompletedOnline => "completed_online",
            Self::SwitchedToInPerson => "switched_to_in_person",
            Self::Aborted => "aborted",
        }
    }
}

/// The outcome of an online visit; switched and aborted visits say why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    /// What happened.
    pub kind: OutcomeKind,
    /// Why (required unless completed online).
    #[serde(default)]
    pub reason: String,
}

/// How the doctor made sure the person on camera is the patient (FUNC-6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityMethod {
    /// The doctor knows the patient from earlier visits.
    KnownPatient,
    /// A photo ID shown on camera.
    PhotoId,
    /// Two IDs without a photo.
    TwoIds,
    /// One ID and questions only the patient can answer.
    IdAndQuestions,
}

impl IdentityMethod {
    /// Stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::KnownPatient => "known_patient",
            Self::PhotoId => "photo_id",
            Self::TwoIds => "two_ids",
            Self::IdAndQuestions => "id_and_questions",
        }
    }

    /// The method of a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::KnownPatient,
            Self::PhotoId,
            Self::TwoIds,
            Self::IdAndQuestions,
        ]
        .into_iter()
        .find(|m| m.as_str() == text)
    }
}

/// A recorded identity check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityCheck {
    /// How.
    pub method: IdentityMethod,
    /// The member who checked.
    pub by: String,
    /// When, unix ms.
    pub at: i64,
}

/// What a draft holds: the note and, for an online visit, its outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    /// The note.
    #[serde(default)]
    pub soap: Soap,
    /// How the online visit ended.
    #[serde(default)]
    pub outcome: Option<Outcome>,
}

/// Checks a draft as typed: lengths and characters only; blanks are allowed until finalising.
pub fn draft(body: &NoteBody) -> Result<NoteBody, RecordError> {
    let outcome = match &body.outcome {
        Some(o) => Some(Outcome {
            kind: o.kind,
            reason: text("outcome.reason", o.reason.trim(), REASON_MAX)?,
        }),
        None => None,
    };
    Ok(NoteBody {
        soap: body.soap.checked()?,
        outcome,
    })
}

/// The call's times as the video consultation recorded them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallTimes {
    /// The patient's first admission, unix ms.
    pub started_at: Option<i64>,
    /// The end of the call, unix ms.
    pub ended_at: Option<i64>,
}

/// One finalised version of a note, as sealed and hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteContent {
    /// The note and the outcome.
    pub body: NoteBody,
    /// The call of an online visit.
    pub call: Option<CallTimes>,
    /// The identity check of an online visit.
    pub identity: Option<IdentityCheck>,
    /// Why this version was made (amendments and entries in error).
    pub reason: Option<String>,
}

/// Whether a note of an online visit is complete enough to finalise: some text, the outcome
/// (with its reason when not completed online), and the identity check.
pub fn finalisable(
    body: &NoteBody,
    online: bool,
    identity: Option<&IdentityCheck>,
) -> Result<(), FinaliseError> {
    if body.soap.is_blank() {
        return Err(FinaliseError::Blank);
    }
    if !online {
        return Ok(());
    }
    let outcome = body.outcome.as_ref().ok_or(FinaliseError::Outcome)?;
    if outcome.kind != OutcomeKind::CompletedOnline && outcome.reason.trim().is_empty() {
        return Err(FinaliseError::OutcomeReason);
    }
    if identity.is_none() {
        return Err(FinaliseError::Identity);
    }
    Ok(())
}

/// Why a note cannot be finalised yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FinaliseError {
    /// Every SOAP field is blank.
    #[error("the note is empty")]
    Blank,
    /// An online visit's outcome is missing.
    #[error(
        "an online visit needs its outcome (completed online, switched to in person, or aborted)"
    )]
    Outcome,
    /// A switched or aborted visit does not say why.
    #[error("a switched or aborted visit needs a reason")]
    OutcomeReason,
    /// No identity check is recorded for the online visit.
    #[error("an online visit cannot be finalised before the patient's identity check is recorded")]
    Identity,
}

/// Where a note stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteState {
    /// A doctor's draft.
    Draft,
    /// Drafted by staff for a named doctor; waits for that doctor's approval.
    AwaitingApproval,
    /// Finalised: changes only by amendment.
    Final,
    /// Marked as made in error; kept with its history.
    EnteredInError,
}

impl NoteState {
    /// Stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::AwaitingApproval => "awaiting_approval",
            Self::Final => "final",
            Self::EnteredInError => "entered_in_error",
        }
    }

    /// The state of a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Draft,
            Self::AwaitingApproval,
            Self::Final,
            Self::EnteredInError,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// What a version is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionKind {
    /// The first finalised version.
    Original,
    /// A change after finalising, with its reason.
    Amendment,
    /// The mark that the note was made in error, with its reason.
    EnteredInError,
}

impl VersionKind {
    /// Stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Original => "original",
            Self::Amendment => "amendment",
            Self::EnteredInError => "entered_in_error",
        }
    }

    /// The kind of a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Original, Self::Amendment, Self::EnteredInError]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

/// Why a note operation is refused by the rules (the matrix allowed the attempt).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NoteRuleError {
    /// Staff must name the doctor they write for.
    #[error("staff write a note only on behalf of a named doctor of the clinic")]
    DoctorRequired,
    /// A doctor writes and finalises only their own notes; proxy drafts only the named doctor.
    #[error("only the note's doctor can do this")]
    NotYourNote,
    /// The note is finalised: it changes only by amendment.
    #[error("the note is finalised; change it by an amendment with a reason")]
    Finalised,
    /// The note is not finalised yet: there is nothing to amend.
    #[error("the note is not finalised yet")]
    NotFinalised,
    /// The note was marked as made in error.
    #[error("the note was marked as entered in error")]
    InError,
    /// The visit was not held (requested or cancelled).
    #[error("a note is written for a booked or held visit only")]
    NoVisit,
}

/// Whether a visit in this state takes a note.
pub fn visit_takes_note(state: Visit) -> Result<(), NoteRuleError> {
    match state {
        Visit::Requested | Visit::Cancelled => Err(NoteRuleError::NoVisit),
        Visit::Confirmed | Visit::InConsultation | Visit::Completed | Visit::NoShow => Ok(()),
    }
}

/// Whether a draft may be saved by this person: a doctor for their own note, staff only as a
/// proxy draft (never over a doctor's own draft), and only until it is finalised.
pub fn may_save_draft(
    state: Option<NoteState>,
    note_doctor: &str,
    actor: &str,
    actor_is_doctor: bool,
) -> Result<(), NoteRuleError> {
    match state {
        Some(NoteState::Final) => return Err(NoteRuleError::Finalised),
        Some(NoteState::EnteredInError) => return Err(NoteRuleError::InError),
        _ => {}
    }
    let foreign = if actor_is_doctor {
        note_doctor != actor
    } else {
        state == Some(NoteState::Draft)
    };
    if foreign {
        return Err(NoteRuleError::NotYourNote);
    }
    Ok(())
}

/// Whether this doctor may finalise (or, for a proxy draft, approve) the note.
pub fn may_finalise(
    state: NoteState,
    note_doctor: &str,
    doctor: &str,
) -> Result<(), NoteRuleError> {
    match state {
        NoteState::Final => Err(NoteRuleError::Finalised),
        NoteState::EnteredInError => Err(NoteRuleError::InError),
        NoteState::Draft | NoteState::AwaitingApproval if note_doctor != doctor => {
            Err(NoteRuleError::NotYourNote)
        }
        NoteState::Draft | NoteState::AwaitingApproval => Ok(()),
    }
}

/// Whether a note can be amended now.
pub fn may_amend(state: NoteState) -> Result<(), NoteRuleError> {
    match state {
        NoteState::Final => Ok(()),
        NoteState::EnteredInError => Err(NoteRuleError::InError),
        NoteState::Draft | NoteState::AwaitingApproval => Err(NoteRuleError::NotFinalised),
    }
}

/// The hash of a version's stored (sealed) content.
pub fn content_hash(sealed: &[u8]) -> String {
    to_hex(digest(&SHA256, sealed).as_ref())
}

/// The hash that links the genesis version to nothing.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What a version's link hash covers: everything a reader relies on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link<'a> {
    /// `note` or `plan`.
    pub record: &'a str,
    /// The note's or plan's id.
    pub record_id: &'a str,
    /// Version number, from 1.
    pub version: i64,
    /// What the version is (`original`, `amendment`, `entered_in_error`, `plan`).
    pub kind: &'a str,
    /// The authenticated author.
    pub signed_by: &'a str,
    /// The staff member who entered it for the author, if any.
    pub entered_by: Option<&'a str>,
    /// When, unix ms.
    pub created_at: i64,
    /// [`content_hash`] of the sealed content.
    pub content_hash: &'a str,
    /// The previous version's hash ([`GENESIS`] for version 1).
    pub prev_hash: &'a str,
}

impl Link<'_> {
    /// The version's hash: SHA-256 over its fields, each length-prefixed so no two different
    /// versions encode alike.
    pub fn hash(&self) -> String {
        let version = self.version.to_string();
        let created = self.created_at.to_string();
        let parts: [&str; 9] = [
            self.record,
            self.record_id,
            &version,
            self.kind,
            self.signed_by,
            self.entered_by.unwrap_or(""),
            &created,
            self.content_hash,
            self.prev_hash,
        ];
        let mut bytes = Vec::new();
        for part in parts {
            bytes.extend_from_slice(&(part.len() as u64).to_be_bytes());
            bytes.extend_from_slice(part.as_bytes());
        }
        to_hex(digest(&SHA256, &bytes).as_ref())
    }
}

/// A stored version, as `verify` reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLink {
    /// Version number.
    pub version: i64,
    /// Kind.
    pub kind: String,
    /// Author.
    pub signed_by: String,
    /// Proxy author.
    pub entered_by: Option<String>,
    /// Time.
    pub created_at: i64,
    /// The sealed content as stored.
    pub content: Vec<u8>,
    /// Stored content hash.
    pub content_hash: String,
    /// Stored previous hash.
    pub prev_hash: String,
    /// Stored hash.
    pub hash: String,
}

/// A problem `verify` found in one record's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainProblem {
    /// A version number is missing or repeated.
    Gap {
        /// The number expected.
        expected: i64,
        /// The number found (0 when the chain ends early).
        found: i64,
    },
    /// The content does not match its hash (edited content).
    Content {
        /// Version.
        version: i64,
    },
    /// The version's fields do not match its hash (edited author, time, kind…).
    Hash {
        /// Version.
        version: i64,
    },
    /// The version does not link to the one before (removed or inserted version).
    Link {
        /// Version.
        version: i64,
    },
}

impl std::fmt::Display for ChainProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Gap { expected, found: 0 } => {
                write!(f, "version {expected} is missing")
            }
            Self::Gap { expected, found } => {
                write!(f, "version {found} found where {expected} was expected")
            }
            Self::Content { version } => write!(f, "version {version}: content was changed"),
            Self::Hash { version } => {
                write!(f, "version {version}: author, time or kind was changed")
            }
            Self::Link { version } => write!(
                f,
                "version {version}: does not follow the version before (one was removed or inserted)"
            ),
        }
    }
}

/// Checks one record's versions (in version order) against their hashes and against the count
/// the record itself says it has.
pub fn verify_chain(
    record: &str,
    record_id: &str,
    current_version: i64,
    versions: &[StoredLink],
) -> Vec<ChainProblem> {
    let mut problems = Vec::new();
    let mut prev = GENESIS.to_owned();
    for (i, v) in versions.iter().enumerate() {
        let expected = i as i64 + 1;
        if v.version != expected {
            problems.push(ChainProblem::Gap {
                expected,
                found: v.version,
            });
        }
        if content_hash(&v.content) != v.content_hash {
            problems.push(ChainProblem::Content { version: v.version });
        }
        let link = Link {
            record,
            record_id,
            version: v.version,
            kind: &v.kind,
            signed_by: &v.signed_by,
            entered_by: v.entered_by.as_deref(),
            created_at: v.created_at,
            content_hash: &v.content_hash,
            prev_hash: &v.prev_hash,
        };
        if link.hash() != v.hash {
            problems.push(ChainProblem::Hash { version: v.version });
        }
        if v.prev_hash != prev {
            problems.push(ChainProblem::Link { version: v.version });
        }
        prev = v.hash.clone();
    }
    if (versions.len() as i64) < current_version {
        problems.push(ChainProblem::Gap {
            expected: versions.len() as i64 + 1,
            found: 0,
        });
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<StoredLink> {
        let mut out: Vec<StoredLink> = Vec::new();
        for version in 1..=n {
            let content = format!("sealed {version}").into_bytes();
            let content_hash = content_hash(&content);
            let prev_hash = out.last().map_or(GENESIS.to_owned(), |v| v.hash.clone());
            let hash = Link {
                record: "note",
                record_id: "n1",
                version,
                kind: "amendment",
                signed_by: "d1",
                entered_by: None,
                created_at: version * 10,
                content_hash: &content_hash,
                prev_hash: &prev_hash,
            }
            .hash();
            out.push(StoredLink {
                version,
                kind: "amendment".into(),
                signed_by: "d1".into(),
                entered_by: None,
                created_at: version * 10,
                content,
                content_hash,
                prev_hash,
                hash,
            });
        }
        out
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert!(verify_chain("note", "n1", 3, &chain(3)).is_empty());
    }

    #[test]
    fn edits_removals_and_reordering_are_found() {
        let mut edited = chain(3);
        edited[1].content = b"other".to_vec();
        assert_eq!(
            verify_chain("note", "n1", 3, &edited),
            vec![ChainProblem::Content { version: 2 }]
        );

        let mut author = chain(3);
        author[0].signed_by = "d2".into();
        assert_eq!(
            verify_chain("note", "n1", 3, &author),
            vec![ChainProblem::Hash { version: 1 }]
        );

        let mut removed = chain(3);
        removed.remove(1);
        let problems = verify_chain("note", "n1", 3, &removed);
        assert!(problems.contains(&ChainProblem::Gap {
            expected: 2,
            found: 3
        }));
        assert!(problems.contains(&ChainProblem::Link { version: 3 }));

        let mut last = chain(3);
        last.pop();
        assert_eq!(
            verify_chain("note", "n1", 3, &last),
            vec![ChainProblem::Gap {
                expected: 3,
                found: 0
            }]
        );

        assert!(
            !verify_chain("note", "n2", 3, &chain(3)).is_empty(),
            "a chain copied to another record does not verify"
        );
    }

    #[test]
    fn online_notes_need_outcome_reason_and_identity() {
        let mut body = NoteBody::default();
        assert_eq!(finalisable(&body, false, None), Err(FinaliseError::Blank));
        body.soap.assessment = "高血圧症".into();
        assert_eq!(finalisable(&body, false, None), Ok(()));
        assert_eq!(finalisable(&body, true, None), Err(FinaliseError::Outcome));
        body.outcome = Some(Outcome {
            kind: OutcomeKind::Aborted,
            reason: " ".into(),
        });
        assert_eq!(
            finalisable(&body, true, None),
            Err(FinaliseError::OutcomeReason)
        );
        body.outcome = Some(Outcome {
            kind: OutcomeKind::CompletedOnline,
            reason: String::new(),
        });
        assert_eq!(finalisable(&body, true, None), Err(FinaliseError::Identity));
        let check = IdentityCheck {
            method: IdentityMethod::PhotoId,
            by: "d1".into(),
            at: 1,
        };
        assert_eq!(finalisable(&body, true, Some(&check)), Ok(()));
    }

    #[test]
    fn texts_are_bounded_and_normalised() {
        assert_eq!(text("s", "a\r\nb", 10).unwrap(), "a\nb");
        assert_eq!(
            text("s", &"あ".repeat(11), 10),
            Err(RecordError::TooLong {
                field: "s",
                max: 10
            })
        );
        assert_eq!(
            text("s", "a\u{0}b", 10),
            Err(RecordError::Control { field: "s" })
        );
        assert_eq!(
            reason("reason", "  "),
            Err(RecordError::Required { field: "reason" })
        );
    }

    #[test]
    fn who_may_do_what_with_a_note() {
        assert_eq!(may_save_draft(None, "d1", "d1", true), Ok(()));
        assert_eq!(
            may_save_draft(Some(NoteState::Draft), "d1", "d2", true),
            Err(NoteRuleError::NotYourNote)
        );
        assert_eq!(
            may_save_draft(Some(NoteState::AwaitingApproval), "d1", "s1", false),
            Ok(())
        );
        assert_eq!(
            may_save_draft(Some(NoteState::Draft), "d1", "s1", false),
            Err(NoteRuleError::NotYourNote)
        );
        assert_eq!(
            may_save_draft(Some(NoteState::Final), "d1", "d1", true),
            Err(NoteRuleError::Finalised)
        );
        assert_eq!(
            may_finalise(NoteState::AwaitingApproval, "d1", "d2"),
            Err(NoteRuleError::NotYourNote)
        );
        assert_eq!(
            may_finalise(NoteState::AwaitingApproval, "d1", "d1"),
            Ok(())
        );
        assert_eq!(
            may_amend(NoteState::Draft),
            Err(NoteRuleError::NotFinalised)
        );
        assert_eq!(
            may_amend(NoteState::EnteredInError),
            Err(NoteRuleError::InError)
        );
        assert_eq!(
            visit_takes_note(Visit::Cancelled),
            Err(NoteRuleError::NoVisit)
        );
    }
}
