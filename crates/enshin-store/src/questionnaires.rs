//! Questionnaires (FUNC-3): versions of a clinic's questionnaires, the requests to patients and
//! their responses. A version that anyone has begun to answer is never changed: an edit then
//! makes a new version. A response is saved as a draft until it is submitted; no statement here
//! changes a submitted one (`submitted_at IS NULL` guards every update).

use enshin_core::crypto::envelope::FieldContext;
use enshin_core::questionnaire::{Answers, Definition, PHOTOS_MAX};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::Store;
use crate::keyring::{Keyring, KeyringError};

/// Why a questionnaire operation failed.
#[derive(Debug, thiserror::Error)]
pub enum QuestionnaireError {
    /// No such questionnaire, menu, request or photo (or another clinic's or patient's).
    #[error("not found")]
    NotFound,
    /// The response was submitted already; it no longer changes.
    #[error("this questionnaire was submitted already")]
    Submitted,
    /// The response already has its photos.
    #[error("at most {PHOTOS_MAX} photos")]
    TooManyPhotos,
    /// A key is missing or destroyed, or a value does not open.
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    /// The database failed, or a stored definition does not read.
    #[error("database error")]
    Database(#[from] sqlx::Error),
}

fn decode_error(what: &str) -> QuestionnaireError {
    QuestionnaireError::Database(sqlx::Error::Decode(
        format!("stored {what} unreadable").into(),
    ))
}

/// A questionnaire's current version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current {
    /// Id.
    pub id: String,
    /// Its version number (from 1).
    pub version: i64,
    /// The content.
    pub definition: Definition,
}

/// A request and its response, as far as it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Id.
    pub id: String,
    /// The clinic.
    pub clinic_id: String,
    /// The patient's record there.
    pub clinic_patient_id: String,
    /// The questionnaire.
    pub questionnaire_id: String,
    /// The visit that asked for it, if a booking did.
    pub appointment_id: Option<String>,
    /// When it was asked, unix ms.
    pub requested_at: i64,
    /// The version answered (fixed at the first save).
    pub version: Option<i64>,
    /// The answers so far (opened only where asked for).
    pub answers: Option<Answers>,
    /// Last save, unix ms.
    pub saved_at: Option<i64>,
    /// Submission, unix ms.
    pub submitted_at: Option<i64>,
    /// Who submitted (the patient's account).
    pub submitted_by: Option<String>,
}

const REQUEST_COLUMNS: &str = "r.id, r.clinic_id, r.clinic_patient_id, r.questionnaire_id, r.appointment_id, r.requested_at, \
     r.version, r.answers, r.saved_at, r.submitted_at, r.submitted_by";

fn answers_field<'a>(clinic_id: &'a str, id: &'a str) -> FieldContext<'a> {
    FieldContext {
        clinic_id,
        table: "questionnaire_requests",
        column: "answers",
        row_id: id,
    }
}

fn request_of(keyring: Option<&Keyring>, row: &AnyRow) -> Result<Request, QuestionnaireError> {
    let id: String = row.try_get(0)?;
    let clinic_id: String = row.try_get(1)?;
    let sealed: Option<Vec<u8>> = row.try_get(7)?;
    let answers = match (keyring, sealed) {
        (Some(keyring), Some(sealed)) => {
            let plain = keyring.open_field(&answers_field(&clinic_id, &id), &sealed)?;
            Some(serde_json::from_slice(&plain).map_err(|_| decode_error("answers"))?)
        }
        _ => None,
    };
    Ok(Request {
        clinic_patient_id: row.try_get(2)?,
        questionnaire_id: row.try_get(3)?,
        appointment_id: row.try_get(4)?,
        requested_at: row.try_get(5)?,
        version: row.try_get(6)?,
        answers,
        saved_at: row.try_get(8)?,
        submitted_at: row.try_get(9)?,
        submitted_by: row.try_get(10)?,
        id,
        clinic_id,
    })
}

/// Questionnaires with their current versions; a `WHERE` follows.
const CURRENT: &str = "SELECT q.id, q.current_version, v.definition FROM questionnaires q \
     JOIN questionnaire_versions v ON v.questionnaire_id = q.id AND v.version = q.current_version";

fn current_of(row: &AnyRow) -> Result<Current, QuestionnaireError> {
    Ok(Current {
        id: row.try_get(0)?,
        version: row.try_get(1)?,
        definition: definition_of(&row.try_get::<String, _>(2)?)?,
    })
}

fn definition_of(text: &str) -> Result<Definition, QuestionnaireError> {
    serde_json::from_str(text).map_err(|_| decode_error("questionnaire"))
}

fn definition_text(d: &Definition) -> Result<String, QuestionnaireError> {
    serde_json::to_string(d).map_err(|_| decode_error("questionnaire"))
}

impl Store {
    /// Adds a questionnaire of a clinic, as its version 1.
    pub async fn add_questionnaire(
        &self,
        id: &str,
        clinic_id: &str,
        d: &Definition,
        by: &str,
        now: i64,
    ) -> Result<(), QuestionnaireError> {
        let text = definition_text(d)?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO questionnaires (id, clinic_id, created_by, created_at, current_version) VALUES ($1, $2, $3, $4, 1)",
        )
        .bind(id)
        .bind(clinic_id)
        .bind(by)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO questionnaire_versions (questionnaire_id, version, definition, created_by, created_at) \
             VALUES ($1, 1, $2, $3, $4)",
        )
        .bind(id)
        .bind(text)
        .bind(by)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A clinic's questionnaires, current versions, oldest first.
    pub async fn questionnaires(
        &self,
        clinic_id: &str,
    ) -> Result<Vec<Current>, QuestionnaireError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{CURRENT} WHERE q.clinic_id = $1 ORDER BY q.created_at, q.id"
        )))
        .bind(clinic_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(current_of).collect()
    }

    /// One questionnaire of the clinic, current version.
    pub async fn questionnaire(
        &self,
        clinic_id: &str,
        id: &str,
    ) -> Result<Current, QuestionnaireError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{CURRENT} WHERE q.clinic_id = $1 AND q.id = $2"
        )))
        .bind(clinic_id)
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(QuestionnaireError::NotFound)?;
        current_of(&row)
    }

    /// A version of a questionnaire.
    pub async fn questionnaire_version(
        &self,
        id: &str,
        version: i64,
    ) -> Result<Definition, QuestionnaireError> {
        let text: Option<String> = sqlx::query_scalar(
            "SELECT definition FROM questionnaire_versions WHERE questionnaire_id = $1 AND version = $2",
        )
        .bind(id)
        .bind(version)
        .fetch_optional(self.pool())
        .await?;
        definition_of(&text.ok_or(QuestionnaireError::NotFound)?)
    }

    /// Changes a questionnaire: in place while nobody has begun to answer its current version,
    /// as a new version otherwise. Returns the version that now holds the content.
    pub async fn change_questionnaire(
        &self,
        clinic_id: &str,
        id: &str,
        d: &Definition,
        by: &str,
        now: i64,
    ) -> Result<i64, QuestionnaireError> {
        let text = definition_text(d)?;
        let mut tx = self.begin_write().await?;
        let current: Option<i64> = sqlx::query_scalar(
            "SELECT current_version FROM questionnaires WHERE id = $1 AND clinic_id = $2",
        )
        .bind(id)
        .bind(clinic_id)
        .fetch_optional(&mut *tx)
        .await?;
        let current = current.ok_or(QuestionnaireError::NotFound)?;
        let answered: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM questionnaire_requests WHERE questionnaire_id = $1 AND version = $2",
        )
        .bind(id)
        .bind(current)
        .fetch_one(&mut *tx)
        .await?;
        let version = if answered == 0 {
            sqlx::query(
                "UPDATE questionnaire_versions SET definition = $1, created_by = $2, created_at = $3 \
                 WHERE questionnaire_id = $4 AND version = $5",
            )
            .bind(text)
            .bind(by)
            .bind(now)
            .bind(id)
            .bind(current)
            .execute(&mut *tx)
            .await?;
            current
        } else {
            sqlx::query(
                "INSERT INTO questionnaire_versions (questionnaire_id, version, definition, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(current + 1)
            .bind(text)
            .bind(by)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE questionnaires SET current_version = $1 WHERE id = $2")
                .bind(current + 1)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            current + 1
        };
        tx.commit().await?;
        Ok(version)
    }

    /// The questionnaire a menu asks for at booking (or none).
    pub async fn set_menu_questionnaire(
        &self,
        clinic_id: &str,
        menu_id: &str,
        questionnaire_id: Option<&str>,
    ) -> Result<(), QuestionnaireError> {
        if let Some(q) = questionnaire_id {
            self.questionnaire(clinic_id, q).await?;
        }
        let done = sqlx::query(
            "UPDATE visit_menus SET questionnaire_id = $1 WHERE id = $2 AND clinic_id = $3",
        )
        .bind(questionnaire_id)
        .bind(menu_id)
        .bind(clinic_id)
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 0 {
            return Err(QuestionnaireError::NotFound);
        }
        Ok(())
    }

    /// The questionnaire each menu of a clinic asks for, by menu id.
    pub async fn menu_questionnaires(
        &self,
        clinic_id: &str,
    ) -> Result<Vec<(String, String)>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, questionnaire_id FROM visit_menus WHERE clinic_id = $1 AND questionnaire_id IS NOT NULL",
        )
        .bind(clinic_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// Asks a patient of the clinic to answer a questionnaire.
    pub async fn request_questionnaire(
        &self,
        id: &str,
        clinic_id: &str,
        clinic_patient_id: &str,
        questionnaire_id: &str,
        by: &str,
        now: i64,
    ) -> Result<(), QuestionnaireError> {
        self.questionnaire(clinic_id, questionnaire_id).await?;
        sqlx::query(
            "INSERT INTO questionnaire_requests (id, clinic_id, clinic_patient_id, questionnaire_id, requested_by, requested_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(clinic_id)
        .bind(clinic_patient_id)
        .bind(questionnaire_id)
        .bind(by)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// A patient's requests at a clinic, newest first, answers opened.
    pub async fn patient_requests(
        &self,
        keyring: &Keyring,
        clinic_id: &str,
        clinic_patient_id: &str,
    ) -> Result<Vec<Request>, QuestionnaireError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {REQUEST_COLUMNS} FROM questionnaire_requests r \
             WHERE r.clinic_id = $1 AND r.clinic_patient_id = $2 ORDER BY r.requested_at DESC, r.id DESC"
        )))
        .bind(clinic_id)
        .bind(clinic_patient_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| request_of(Some(keyring), r)).collect()
    }

    /// The requests of a patient's account at every linked clinic, newest first, answers not
    /// opened.
    pub async fn account_requests(
        &self,
        account_id: &str,
    ) -> Result<Vec<Request>, QuestionnaireError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {REQUEST_COLUMNS} FROM questionnaire_requests r JOIN patient_links l \
             ON l.clinic_id = r.clinic_id AND l.clinic_patient_id = r.clinic_patient_id \
             LEFT JOIN appointments a ON a.id = r.appointment_id \
             WHERE l.patient_account_id = $1 AND (COALESCE(a.state, '') <> 'cancelled' OR r.submitted_at IS NOT NULL) \
             ORDER BY r.requested_at DESC, r.id DESC"
        )))
        .bind(account_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| request_of(None, r)).collect()
    }

    /// One request of a patient's account (through a link), answers opened.
    pub async fn account_request(
        &self,
        keyring: &Keyring,
        account_id: &str,
        id: &str,
    ) -> Result<Request, QuestionnaireError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {REQUEST_COLUMNS} FROM questionnaire_requests r JOIN patient_links l \
             ON l.clinic_id = r.clinic_id AND l.clinic_patient_id = r.clinic_patient_id \
             WHERE l.patient_account_id = $1 AND r.id = $2"
        )))
        .bind(account_id)
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(QuestionnaireError::NotFound)?;
        request_of(Some(keyring), &row)
    }

    /// One request of a clinic, answers opened.
    pub async fn clinic_request(
        &self,
        keyring: &Keyring,
        clinic_id: &str,
        id: &str,
    ) -> Result<Request, QuestionnaireError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {REQUEST_COLUMNS} FROM questionnaire_requests r WHERE r.clinic_id = $1 AND r.id = $2"
        )))
        .bind(clinic_id)
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(QuestionnaireError::NotFound)?;
        request_of(Some(keyring), &row)
    }

    /// Saves a response (a draft, or the submission) for `version`, unless it was submitted.
    #[allow(
        clippy::too_many_arguments,
        reason = "each is a distinct fact of the save"
    )]
    pub async fn save_answers(
        &self,
        keyring: &Keyring,
        r: &Request,
        version: i64,
        answers: &Answers,
        submit: bool,
        by: &str,
        now: i64,
    ) -> Result<(), QuestionnaireError> {
        let plain = serde_json::to_vec(answers).map_err(|_| decode_error("answers"))?;
        let sealed = keyring.seal(&answers_field(&r.clinic_id, &r.id), &plain)?;
        let submitted_at = submit.then_some(now);
        let submitted_by = submit.then_some(by);
        let done = sqlx::query(
            "UPDATE questionnaire_requests SET version = $1, answers = $2, saved_at = $3, submitted_at = $4, \
             submitted_by = $5 WHERE id = $6 AND submitted_at IS NULL AND (version IS NULL OR version = $1)",
        )
        .bind(version)
        .bind(sealed)
        .bind(now)
        .bind(submitted_at)
        .bind(submitted_by)
        .bind(&r.id)
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 0 {
            return Err(QuestionnaireError::Submitted);
        }
        Ok(())
    }

    /// Attaches a photo to a response that is not submitted yet.
    pub async fn add_photo(
        &self,
        keyring: &Keyring,
        r: &Request,
        id: &str,
        content_type: &str,
        bytes: &[u8],
        now: i64,
    ) -> Result<(), QuestionnaireError> {
        let sealed = keyring.seal(
            &FieldContext {
                clinic_id: &r.clinic_id,
                table: "questionnaire_photos",
                column: "bytes",
                row_id: id,
            },
            bytes,
        )?;
        let mut tx = self.begin_write().await?;
        let open: Option<String> = sqlx::query_scalar(
            "SELECT id FROM questionnaire_requests WHERE id = $1 AND submitted_at IS NULL",
        )
        .bind(&r.id)
        .fetch_optional(&mut *tx)
        .await?;
        if open.is_none() {
            return Err(QuestionnaireError::Submitted);
        }
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM questionnaire_photos WHERE request_id = $1")
                .bind(&r.id)
                .fetch_one(&mut *tx)
                .await?;
        if count >= PHOTOS_MAX as i64 {
            return Err(QuestionnaireError::TooManyPhotos);
        }
        sqlx::query(
            "INSERT INTO questionnaire_photos (id, request_id, content_type, bytes, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(&r.id)
        .bind(content_type)
        .bind(sealed)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The ids of a response's photos.
    pub async fn photo_ids(&self, request_id: &str) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT id FROM questionnaire_photos WHERE request_id = $1 ORDER BY created_at, id",
        )
        .bind(request_id)
        .fetch_all(self.pool())
        .await
    }

    /// A photo of a response, opened: its type and bytes.
    pub async fn photo(
        &self,
        keyring: &Keyring,
        r: &Request,
        id: &str,
    ) -> Result<(String, Vec<u8>), QuestionnaireError> {
        let row = sqlx::query(
            "SELECT content_type, bytes FROM questionnaire_photos WHERE id = $1 AND request_id = $2",
        )
        .bind(id)
        .bind(&r.id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(QuestionnaireError::NotFound)?;
        let sealed: Vec<u8> = row.try_get(1)?;
        let bytes = keyring.open_field(
            &FieldContext {
                clinic_id: &r.clinic_id,
                table: "questionnaire_photos",
                column: "bytes",
                row_id: id,
            },
            &sealed,
        )?;
        Ok((row.try_get(0)?, bytes))
    }
}
