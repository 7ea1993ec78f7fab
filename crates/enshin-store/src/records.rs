//! Clinical records (FUNC-6, FUNC-7, ROLE-3): visit notes and their versions, identity checks,
//! consultation plans and agreements. Drafts are updated in place until finalised or offered;
//! versions, identity checks and agreements are only ever inserted (the schema's triggers refuse
//! anything else). Each version is sealed with the clinic's key, bound to its note or plan and
//! version number, and linked by hash to the version before.

use enshin_core::crypto::envelope::FieldContext;
use enshin_core::plan::{AgreementMethod, PlanItems};
use enshin_core::record::{
    GENESIS, IdentityCheck, IdentityMethod, Link, NoteBody, NoteContent, NoteState, StoredLink,
    VersionKind, content_hash,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::Store;
use crate::db::is_unique_violation;
use crate::keyring::{Keyring, KeyringError};

/// Why a record operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RecordStoreError {
    /// No such note, plan or version (or another clinic's).
    #[error("not found")]
    NotFound,
    /// Someone else changed the record meanwhile, or the visit has a note already.
    #[error("the record was changed meanwhile; reload it")]
    Changed,
    /// A key is missing or destroyed, or a value does not open.
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    /// The database failed, or a stored value does not read.
    #[error("database error")]
    Database(#[from] sqlx::Error),
}

fn decode_error(what: &str) -> RecordStoreError {
    RecordStoreError::Database(sqlx::Error::Decode(
        format!("stored {what} unreadable").into(),
    ))
}

fn seal<T: Serialize>(
    keyring: &Keyring,
    ctx: &FieldContext<'_>,
    value: &T,
) -> Result<Vec<u8>, RecordStoreError> {
    let plain = serde_json::to_vec(value).map_err(|_| decode_error("record"))?;
    Ok(keyring.seal(ctx, &plain)?)
}

fn open<T: DeserializeOwned>(
    keyring: &Keyring,
    ctx: &FieldContext<'_>,
    sealed: &[u8],
) -> Result<T, RecordStoreError> {
    let plain = keyring.open_field(ctx, sealed)?;
    serde_json::from_slice(&plain).map_err(|_| decode_error(ctx.table))
}

/// The record kinds whose versions are hash-linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    /// A visit note.
    Note,
    /// A consultation plan.
    Plan,
}

impl RecordKind {
    fn name(self) -> &'static str {
        match self {
            Self::Note => "note",
            Self::Plan => "plan",
        }
    }

    fn tables(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::Note => ("visit_notes", "visit_note_versions", "note_id"),
            Self::Plan => ("care_plans", "care_plan_versions", "plan_id"),
        }
    }
}

fn version_ctx<'a>(kind: RecordKind, clinic_id: &'a str, row_id: &'a str) -> FieldContext<'a> {
    FieldContext {
        clinic_id,
        table: kind.tables().1,
        column: "content",
        row_id,
    }
}

fn draft_ctx<'a>(kind: RecordKind, clinic_id: &'a str, id: &'a str) -> FieldContext<'a> {
    FieldContext {
        clinic_id,
        table: kind.tables().0,
        column: "draft",
        row_id: id,
    }
}

/// A visit note: where it stands and its draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// Id.
    pub id: String,
    /// The clinic.
    pub clinic_id: String,
    /// The patient's record.
    pub clinic_patient_id: String,
    /// The visit.
    pub appointment_id: String,
    /// `online` or `in_person`.
    pub mode: String,
    /// Whose note it is.
    pub doctor_id: String,
    /// Where it stands.
    pub state: NoteState,
    /// The draft (until finalised).
    pub draft: Option<NoteBody>,
    /// Who last saved the draft (staff for a proxy draft).
    pub drafted_by: Option<String>,
    /// When, unix ms.
    pub drafted_at: Option<i64>,
    /// Created, unix ms.
    pub created_at: i64,
    /// Number of versions.
    pub current_version: i64,
}

const NOTE_COLUMNS: &str = "id, clinic_id, clinic_patient_id, appointment_id, mode, doctor_id, state, draft, \
     drafted_by, drafted_at, created_at, current_version";

fn note_of(keyring: &Keyring, row: &AnyRow) -> Result<Note, RecordStoreError> {
    let id: String = row.try_get(0)?;
    let clinic_id: String = row.try_get(1)?;
    let state: String = row.try_get(6)?;
    let sealed: Option<Vec<u8>> = row.try_get(7)?;
    let draft = sealed
        .map(|s| open(keyring, &draft_ctx(RecordKind::Note, &clinic_id, &id), &s))
        .transpose()?;
    Ok(Note {
        clinic_patient_id: row.try_get(2)?,
        appointment_id: row.try_get(3)?,
        mode: row.try_get(4)?,
        doctor_id: row.try_get(5)?,
        state: NoteState::parse(&state).ok_or_else(|| decode_error("note state"))?,
        draft,
        drafted_by: row.try_get(8)?,
        drafted_at: row.try_get(9)?,
        created_at: row.try_get(10)?,
        current_version: row.try_get(11)?,
        id,
        clinic_id,
    })
}

/// What a list of notes is selected by.
#[derive(Debug, Clone, Copy)]
enum NoteKey {
    /// One visit's notes.
    Visit,
    /// One patient's notes.
    Patient,
}

/// A draft to save: a new note or an existing one still in draft.
#[derive(Debug, Clone)]
pub struct DraftNote<'a> {
    /// The note's id (new or existing).
    pub id: &'a str,
    /// The clinic.
    pub clinic_id: &'a str,
    /// The patient's record.
    pub clinic_patient_id: &'a str,
    /// The visit.
    pub appointment_id: &'a str,
    /// `online` or `in_person`.
    pub mode: &'a str,
    /// Whose note it is.
    pub doctor_id: &'a str,
    /// Draft or awaiting approval.
    pub state: NoteState,
    /// The content.
    pub body: &'a NoteBody,
    /// Who saves it.
    pub by: &'a str,
}

/// A version to sign onto a note.
#[derive(Debug, Clone, Copy)]
pub struct Signing<'a> {
    /// What it is.
    pub kind: VersionKind,
    /// The content.
    pub content: &'a NoteContent,
    /// The authenticated doctor.
    pub signed_by: &'a str,
    /// The staff member who entered it, for a proxy entry.
    pub entered_by: Option<&'a str>,
    /// The note's state afterwards.
    pub state: NoteState,
}

/// A plan draft to save.
#[derive(Debug, Clone, Copy)]
pub struct PlanDraft<'a> {
    /// The clinic.
    pub clinic_id: &'a str,
    /// The patient's record.
    pub clinic_patient_id: &'a str,
    /// The plan's id if it is new.
    pub new_id: &'a str,
    /// The items.
    pub items: &'a PlanItems,
    /// Who saves it.
    pub by: &'a str,
}

/// A finalised version as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVersion {
    /// Number, from 1.
    pub version: i64,
    /// What it is.
    pub kind: VersionKind,
    /// The content.
    pub content: NoteContent,
    /// The authenticated doctor.
    pub signed_by: String,
    /// The staff member who entered it, for a proxy entry.
    pub entered_by: Option<String>,
    /// When, unix ms.
    pub created_at: i64,
    /// Its hash.
    pub hash: String,
}

/// A plan version as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanVersion {
    /// Number, from 1.
    pub version: i64,
    /// The items.
    pub items: PlanItems,
    /// The doctor who offered it.
    pub signed_by: String,
    /// When, unix ms.
    pub created_at: i64,
    /// Its hash (agreements name it).
    pub hash: String,
}

/// A patient's plan at a clinic and its draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Id.
    pub id: String,
    /// The clinic.
    pub clinic_id: String,
    /// The patient's record.
    pub clinic_patient_id: String,
    /// The draft of the next version.
    pub draft: Option<PlanItems>,
    /// Who saved the draft.
    pub drafted_by: Option<String>,
    /// When, unix ms.
    pub drafted_at: Option<i64>,
    /// Versions offered so far.
    pub current_version: i64,
}

/// An agreement to a plan version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agreement {
    /// Id.
    pub id: String,
    /// The version agreed to.
    pub version: i64,
    /// That version's hash.
    pub version_hash: String,
    /// In the app or verbal.
    pub method: AgreementMethod,
    /// The patient's account (agreement in the app).
    pub account_id: Option<String>,
    /// The doctor who attests a verbal agreement.
    pub attested_by: Option<String>,
    /// When, unix ms.
    pub agreed_at: i64,
}

/// One record's versions, for `verify`.
#[derive(Debug, Clone)]
pub struct Chain {
    /// What it is.
    pub kind: &'static str,
    /// Its id.
    pub id: String,
    /// The count the record says it has.
    pub current_version: i64,
    /// The versions in order.
    pub versions: Vec<StoredLink>,
}

/// The version a record's next version follows.
struct Head {
    version: i64,
    hash: String,
}

async fn head(
    tx: &mut Transaction<'static, Any>,
    kind: RecordKind,
    id: &str,
) -> Result<Head, RecordStoreError> {
    let (_, versions, key) = kind.tables();
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT version, hash FROM {versions} WHERE {key} = $1 ORDER BY version DESC LIMIT 1"
    )))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(match row {
        Some(row) => Head {
            version: row.try_get(0)?,
            hash: row.try_get(1)?,
        },
        None => Head {
            version: 0,
            hash: GENESIS.to_owned(),
        },
    })
}

/// A new version to append.
struct NewVersion<'a> {
    kind: RecordKind,
    record_id: &'a str,
    version_kind: &'a str,
    content: Vec<u8>,
    signed_by: &'a str,
    entered_by: Option<&'a str>,
    now: i64,
}

/// Inserts the next version after `expected` and returns its hash; `Changed` when another
/// version came first.
async fn append(
    tx: &mut Transaction<'static, Any>,
    v: NewVersion<'_>,
    expected: i64,
) -> Result<String, RecordStoreError> {
    let head = head(tx, v.kind, v.record_id).await?;
    if head.version != expected {
        return Err(RecordStoreError::Changed);
    }
    let version = expected + 1;
    let content_hash = content_hash(&v.content);
    let hash = Link {
        record: v.kind.name(),
        record_id: v.record_id,
        version,
        kind: v.version_kind,
        signed_by: v.signed_by,
        entered_by: v.entered_by,
        created_at: v.now,
        content_hash: &content_hash,
        prev_hash: &head.hash,
    }
    .hash();
    let (_, versions, key) = v.kind.tables();
    let inserted = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO {versions} ({key}, version, kind, content, signed_by, entered_by, created_at, content_hash, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    )))
    .bind(v.record_id)
    .bind(version)
    .bind(v.version_kind)
    .bind(v.content)
    .bind(v.signed_by)
    .bind(v.entered_by)
    .bind(v.now)
    .bind(content_hash)
    .bind(&head.hash)
    .bind(&hash)
    .execute(&mut **tx)
    .await;
    match inserted {
        Err(e) if is_unique_violation(&e) => Err(RecordStoreError::Changed),
        Err(e) => Err(e.into()),
        Ok(_) => Ok(hash),
    }
}

fn version_row_id(id: &str, version: i64) -> String {
    format!("{id}/{version}")
}

fn stored_link(row: &AnyRow) -> Result<StoredLink, sqlx::Error> {
    Ok(StoredLink {
        version: row.try_get(0)?,
        kind: row.try_get(1)?,
        content: row.try_get(2)?,
        signed_by: row.try_get(3)?,
        entered_by: row.try_get(4)?,
        created_at: row.try_get(5)?,
        content_hash: row.try_get(6)?,
        prev_hash: row.try_get(7)?,
        hash: row.try_get(8)?,
    })
}

/// A version to append to a note or a plan.
struct Signed<'a, T: Serialize> {
    kind: RecordKind,
    id: &'a str,
    clinic_id: &'a str,
    /// The version count the writer saw.
    expected: i64,
    version_kind: &'a str,
    content: &'a T,
    signed_by: &'a str,
    entered_by: Option<&'a str>,
}

impl Store {
    /// Seals and appends the next version, clears the draft and counts the version on the record
    /// (and sets a note's state), in one transaction; `Changed` when another version came first.
    async fn sign_version<T: Serialize>(
        &self,
        keyring: &Keyring,
        v: &Signed<'_, T>,
        state: Option<NoteState>,
        now: i64,
    ) -> Result<i64, RecordStoreError> {
        let version = v.expected + 1;
        let row_id = version_row_id(v.id, version);
        let sealed = seal(
            keyring,
            &version_ctx(v.kind, v.clinic_id, &row_id),
            v.content,
        )?;
        let mut tx = self.begin_write().await?;
        append(
            &mut tx,
            NewVersion {
                kind: v.kind,
                record_id: v.id,
                version_kind: v.version_kind,
                content: sealed,
                signed_by: v.signed_by,
                entered_by: v.entered_by,
                now,
            },
            v.expected,
        )
        .await?;
        let records = v.kind.tables().0;
        let updated = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {records} SET current_version = $1, draft = NULL, drafted_by = NULL, drafted_at = NULL \
             WHERE id = $2 AND clinic_id = $3 AND current_version = $4"
        )))
        .bind(version)
        .bind(v.id)
        .bind(v.clinic_id)
        .bind(v.expected)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() != 1 {
            return Err(RecordStoreError::Changed);
        }
        if let Some(state) = state {
            sqlx::query("UPDATE visit_notes SET state = $1 WHERE id = $2")
                .bind(state.as_str())
                .bind(v.id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(version)
    }
}

impl Store {
    async fn links(&self, kind: RecordKind, id: &str) -> Result<Vec<StoredLink>, sqlx::Error> {
        let (_, versions, key) = kind.tables();
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT version, kind, content, signed_by, entered_by, created_at, content_hash, prev_hash, hash \
             FROM {versions} WHERE {key} = $1 ORDER BY version"
        )))
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(stored_link).collect()
    }

    /// A clinic's notes of the visit or patient `id` (as `key` says), oldest first.
    async fn notes_by(
        &self,
        keyring: &Keyring,
        clinic_id: &str,
        key: NoteKey,
        id: &str,
    ) -> Result<Vec<Note>, RecordStoreError> {
        let column = match key {
            NoteKey::Visit => "appointment_id",
            NoteKey::Patient => "clinic_patient_id",
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {NOTE_COLUMNS} FROM visit_notes WHERE clinic_id = $1 AND {column} = $2 \
             ORDER BY created_at, id"
        )))
        .bind(clinic_id)
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| note_of(keyring, r)).collect()
    }

    /// The notes of a visit, oldest first (at most one is not marked in error).
    pub async fn visit_notes(
        &self,
        keyring: &Keyring,
        clinic_id: &str,
        appointment_id: &str,
    ) -> Result<Vec<Note>, RecordStoreError> {
        self.notes_by(keyring, clinic_id, NoteKey::Visit, appointment_id)
            .await
    }

    /// The notes of a patient at a clinic, oldest first.
    pub async fn patient_notes(
        &self,
        keyring: &Keyring,
        clinic_id: &str,
        clinic_patient_id: &str,
    ) -> Result<Vec<Note>, RecordStoreError> {
        self.notes_by(keyring, clinic_id, NoteKey::Patient, clinic_patient_id)
            .await
    }

    /// Saves a draft: creates the note, or updates it while it is still a draft. `Changed` when
    /// the visit has a note already (created meanwhile) or this one was finalised meanwhile.
    pub async fn save_note_draft(
        &self,
        keyring: &Keyring,
        d: &DraftNote<'_>,
        now: i64,
    ) -> Result<(), RecordStoreError> {
        let sealed = seal(
            keyring,
            &draft_ctx(RecordKind::Note, d.clinic_id, d.id),
            d.body,
        )?;
        let updated = sqlx::query(
            "UPDATE visit_notes SET draft = $1, drafted_by = $2, drafted_at = $3, state = $4 \
             WHERE id = $5 AND clinic_id = $6 AND state IN ('draft', 'awaiting_approval')",
        )
        .bind(&sealed)
        .bind(d.by)
        .bind(now)
        .bind(d.state.as_str())
        .bind(d.id)
        .bind(d.clinic_id)
        .execute(self.pool())
        .await?;
        if updated.rows_affected() == 1 {
            return Ok(());
        }
        let inserted = sqlx::query(
            "INSERT INTO visit_notes (id, clinic_id, clinic_patient_id, appointment_id, mode, doctor_id, state, \
             draft, drafted_by, drafted_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
        )
        .bind(d.id)
        .bind(d.clinic_id)
        .bind(d.clinic_patient_id)
        .bind(d.appointment_id)
        .bind(d.mode)
        .bind(d.doctor_id)
        .bind(d.state.as_str())
        .bind(&sealed)
        .bind(d.by)
        .bind(now)
        .execute(self.pool())
        .await;
        match inserted {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(RecordStoreError::Changed),
            Err(e) => Err(e.into()),
        }
    }

    /// Appends a version to a note (finalising, amending or marking it in error) and sets its
    /// state, in one transaction; it fails with `Changed` unless the note still has the version
    /// count the writer saw.
    pub async fn append_note_version(
        &self,
        keyring: &Keyring,
        note: &Note,
        s: &Signing<'_>,
        now: i64,
    ) -> Result<i64, RecordStoreError> {
        let Signing {
            kind,
            content,
            signed_by,
            entered_by,
            state,
        } = *s;
        self.sign_version(
            keyring,
            &Signed {
                kind: RecordKind::Note,
                id: &note.id,
                clinic_id: &note.clinic_id,
                expected: note.current_version,
                version_kind: kind.as_str(),
                content,
                signed_by,
                entered_by,
            },
            Some(state),
            now,
        )
        .await
    }

    /// A note's versions, oldest first.
    pub async fn note_versions(
        &self,
        keyring: &Keyring,
        note: &Note,
    ) -> Result<Vec<NoteVersion>, RecordStoreError> {
        self.links(RecordKind::Note, &note.id)
            .await?
            .into_iter()
            .map(|l| {
                let row_id = version_row_id(&note.id, l.version);
                Ok(NoteVersion {
                    version: l.version,
                    kind: VersionKind::parse(&l.kind).ok_or_else(|| decode_error("kind"))?,
                    content: open(
                        keyring,
                        &version_ctx(RecordKind::Note, &note.clinic_id, &row_id),
                        &l.content,
                    )?,
                    signed_by: l.signed_by,
                    entered_by: l.entered_by,
                    created_at: l.created_at,
                    hash: l.hash,
                })
            })
            .collect()
    }

    /// Records an identity check of a visit.
    pub async fn add_identity_check(
        &self,
        id: &str,
        clinic_id: &str,
        appointment_id: &str,
        check: &IdentityCheck,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO identity_checks (id, clinic_id, appointment_id, method, checked_by, checked_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(clinic_id)
        .bind(appointment_id)
        .bind(check.method.as_str())
        .bind(&check.by)
        .bind(check.at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// A visit's identity checks, oldest first (the last one counts).
    pub async fn identity_checks(
        &self,
        clinic_id: &str,
        appointment_id: &str,
    ) -> Result<Vec<IdentityCheck>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT method, checked_by, checked_at FROM identity_checks \
             WHERE clinic_id = $1 AND appointment_id = $2 ORDER BY checked_at, id",
        )
        .bind(clinic_id)
        .bind(appointment_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let method: String = row.try_get(0)?;
                Ok(IdentityCheck {
                    method: IdentityMethod::parse(&method)
                        .ok_or_else(|| sqlx::Error::Decode("stored method unknown".into()))?,
                    by: row.try_get(1)?,
                    at: row.try_get(2)?,
                })
            })
            .collect()
    }

    /// A patient's plan at a clinic, if one was started.
    pub async fn plan(
        &self,
        keyring: &Keyring,
        clinic_id: &str,
        clinic_patient_id: &str,
    ) -> Result<Option<Plan>, RecordStoreError> {
        let row = sqlx::query(
            "SELECT id, draft, drafted_by, drafted_at, current_version FROM care_plans \
             WHERE clinic_id = $1 AND clinic_patient_id = $2",
        )
        .bind(clinic_id)
        .bind(clinic_patient_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let id: String = row.try_get(0)?;
        let sealed: Option<Vec<u8>> = row.try_get(1)?;
        let draft = sealed
            .map(|s| open(keyring, &draft_ctx(RecordKind::Plan, clinic_id, &id), &s))
            .transpose()?;
        Ok(Some(Plan {
            clinic_id: clinic_id.to_owned(),
            clinic_patient_id: clinic_patient_id.to_owned(),
            draft,
            drafted_by: row.try_get(2)?,
            drafted_at: row.try_get(3)?,
            current_version: row.try_get(4)?,
            id,
        }))
    }

    /// Saves the draft of a patient's plan, starting the plan (as `new_id`) if there is none.
    pub async fn save_plan_draft(
        &self,
        keyring: &Keyring,
        d: &PlanDraft<'_>,
        now: i64,
    ) -> Result<(), RecordStoreError> {
        let PlanDraft {
            clinic_id,
            clinic_patient_id,
            new_id,
            items,
            by,
        } = *d;
        // Only the id is needed here: the draft is replaced unread.
        let existing: Option<String> = sqlx::query_scalar(
            "SELECT id FROM care_plans WHERE clinic_id = $1 AND clinic_patient_id = $2",
        )
        .bind(clinic_id)
        .bind(clinic_patient_id)
        .fetch_optional(self.pool())
        .await?;
        let id = existing.as_deref().unwrap_or(new_id);
        let sealed = seal(keyring, &draft_ctx(RecordKind::Plan, clinic_id, id), items)?;
        if existing.is_some() {
            sqlx::query(
                "UPDATE care_plans SET draft = $1, drafted_by = $2, drafted_at = $3 WHERE id = $4 AND clinic_id = $5",
            )
            .bind(&sealed)
            .bind(by)
            .bind(now)
            .bind(id)
            .bind(clinic_id)
            .execute(self.pool())
            .await?;
            return Ok(());
        }
        let inserted = sqlx::query(
            "INSERT INTO care_plans (id, clinic_id, clinic_patient_id, created_at, draft, drafted_by, drafted_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $4)",
        )
        .bind(id)
        .bind(clinic_id)
        .bind(clinic_patient_id)
        .bind(now)
        .bind(&sealed)
        .bind(by)
        .execute(self.pool())
        .await;
        match inserted {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(RecordStoreError::Changed),
            Err(e) => Err(e.into()),
        }
    }

    /// Offers `items` as the plan's next version (the draft is cleared); returns the version.
    pub async fn offer_plan(
        &self,
        keyring: &Keyring,
        plan: &Plan,
        items: &PlanItems,
        by: &str,
        now: i64,
    ) -> Result<i64, RecordStoreError> {
        self.sign_version(
            keyring,
            &Signed {
                kind: RecordKind::Plan,
                id: &plan.id,
                clinic_id: &plan.clinic_id,
                expected: plan.current_version,
                version_kind: "plan",
                content: items,
                signed_by: by,
                entered_by: None,
            },
            None,
            now,
        )
        .await
    }

    /// A plan's versions, oldest first.
    pub async fn plan_versions(
        &self,
        keyring: &Keyring,
        plan: &Plan,
    ) -> Result<Vec<PlanVersion>, RecordStoreError> {
        self.links(RecordKind::Plan, &plan.id)
            .await?
            .into_iter()
            .map(|l| {
                let row_id = version_row_id(&plan.id, l.version);
                Ok(PlanVersion {
                    version: l.version,
                    items: open(
                        keyring,
                        &version_ctx(RecordKind::Plan, &plan.clinic_id, &row_id),
                        &l.content,
                    )?,
                    signed_by: l.signed_by,
                    created_at: l.created_at,
                    hash: l.hash,
                })
            })
            .collect()
    }

    /// Records an agreement to the plan's current version, which must still be `version`
    /// (`Changed` otherwise: a newer version needs its own agreement).
    pub async fn add_plan_agreement(
        &self,
        plan_id: &str,
        version: i64,
        agreement: &Agreement,
    ) -> Result<(), RecordStoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT v.hash FROM care_plans p JOIN care_plan_versions v ON v.plan_id = p.id AND v.version = p.current_version \
             WHERE p.id = $1 AND p.current_version = $2",
        )
        .bind(plan_id)
        .bind(version)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(RecordStoreError::Changed)?;
        let hash: String = row.try_get(0)?;
        sqlx::query(
            "INSERT INTO plan_agreements (id, plan_id, version, version_hash, method, account_id, attested_by, agreed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&agreement.id)
        .bind(plan_id)
        .bind(version)
        .bind(hash)
        .bind(agreement.method.as_str())
        .bind(&agreement.account_id)
        .bind(&agreement.attested_by)
        .bind(agreement.agreed_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A plan's agreements, oldest first.
    pub async fn plan_agreements(&self, plan_id: &str) -> Result<Vec<Agreement>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, version, version_hash, method, account_id, attested_by, agreed_at FROM plan_agreements \
             WHERE plan_id = $1 ORDER BY agreed_at, id",
        )
        .bind(plan_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let method: String = row.try_get(3)?;
                Ok(Agreement {
                    id: row.try_get(0)?,
                    version: row.try_get(1)?,
                    version_hash: row.try_get(2)?,
                    method: AgreementMethod::parse(&method)
                        .ok_or_else(|| sqlx::Error::Decode("stored method unknown".into()))?,
                    account_id: row.try_get(4)?,
                    attested_by: row.try_get(5)?,
                    agreed_at: row.try_get(6)?,
                })
            })
            .collect()
    }

    /// Whether the patient agreed to the current version of their plan at the clinic.
    pub async fn agreed_to_current_plan(
        &self,
        clinic_id: &str,
        clinic_patient_id: &str,
    ) -> Result<bool, sqlx::Error> {
        let row = sqlx::query(
            "SELECT COUNT(*) FROM care_plans p JOIN plan_agreements a ON a.plan_id = p.id AND a.version = p.current_version \
             WHERE p.clinic_id = $1 AND p.clinic_patient_id = $2",
        )
        .bind(clinic_id)
        .bind(clinic_patient_id)
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get::<i64, _>(0)? > 0)
    }

    /// Whether the clinic's online calls wait for an agreed plan.
    pub async fn plan_required_for_calls(&self, clinic_id: &str) -> Result<bool, sqlx::Error> {
        let row = sqlx::query("SELECT plan_required_for_calls FROM clinics WHERE id = $1")
            .bind(clinic_id)
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(row) => row.try_get::<i64, _>(0)? != 0,
            None => true,
        })
    }

    /// Sets whether the clinic's online calls wait for an agreed plan.
    pub async fn set_plan_required_for_calls(
        &self,
        clinic_id: &str,
        required: bool,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE clinics SET plan_required_for_calls = $1 WHERE id = $2")
            .bind(i64::from(required))
            .bind(clinic_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Every note's and plan's versions, for `enshin records verify`.
    pub async fn record_chains(&self) -> Result<Vec<Chain>, sqlx::Error> {
        let mut chains = Vec::new();
        for kind in [RecordKind::Note, RecordKind::Plan] {
            let (records, _, _) = kind.tables();
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT id, current_version FROM {records} ORDER BY id"
            )))
            .fetch_all(self.pool())
            .await?;
            for row in rows {
                let id: String = row.try_get(0)?;
                let versions = self.links(kind, &id).await?;
                chains.push(Chain {
                    kind: kind.name(),
                    current_version: row.try_get(1)?,
                    versions,
                    id,
                });
            }
        }
        Ok(chains)
    }
}
