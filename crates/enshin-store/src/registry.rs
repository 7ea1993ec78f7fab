//! The clinic's patient registry (A-class, DATA-1), sealed with the clinic's data key (DATA-3).
//! Opening a record is the one place where a reader's right to the plaintext is decided: a
//! member only in their own clinic, an operator only under an open access grant (DATA-4), so no
//! handler can forget the check.

use enshin_core::crypto::envelope::FieldContext;
use sqlx::Row;

use crate::Store;
use crate::keyring::{Keyring, KeyringError};

/// The sealed columns, in the order of [`PatientFields`].
pub const COLUMNS: [&str; 5] = [
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "birth_date",
];
const TABLE: &str = "clinic_patients";

/// A patient's registry fields, in plaintext (checked by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientFields {
    /// Family name (kanji).
    pub family_name: String,
    /// Given name (kanji).
    pub given_name: String,
    /// Family name in kana.
    pub family_name_kana: String,
    /// Given name in kana.
    pub given_name_kana: String,
    /// Birth date, `YYYY-MM-DD`.
    pub birth_date: String,
}

impl PatientFields {
    fn values(&self) -> [&str; 5] {
        [
            &self.family_name,
            &self.given_name,
            &self.family_name_kana,
            &self.given_name_kana,
            &self.birth_date,
        ]
    }
}

/// Who wants to open a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader<'a> {
    /// A member of this clinic.
    Member {
        /// Their clinic.
        clinic_id: &'a str,
    },
    /// An operator.
    Operator {
        /// Their account.
        account_id: &'a str,
    },
}

/// Why a record was not opened.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// No such patient in this clinic (or outside the reader's clinic).
    #[error("no such patient")]
    NotFound,
    /// An operator without an open grant reaching this patient.
    #[error("no open access grant reaches this patient")]
    NoGrant,
    /// The clinic's data key is missing or destroyed, or the ciphertext does not open.
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    /// The database failed.
    #[error("database error")]
    Database(#[from] sqlx::Error),
}

/// An opened record, and the grant that allowed it (operators).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// The fields.
    pub fields: PatientFields,
    /// The grant an operator read under.
    pub grant_id: Option<String>,
}

impl Store {
    /// Adds a patient (new id `id`) to a clinic's registry, sealing every field.
    pub async fn add_clinic_patient(
        &self,
        keyring: &Keyring,
        id: &str,
        clinic_id: &str,
        fields: &PatientFields,
        now: i64,
    ) -> Result<(), RegistryError> {
        let key = keyring.data_key(clinic_id)?;
        let mut sealed = Vec::with_capacity(COLUMNS.len());
        for (column, value) in COLUMNS.iter().zip(fields.values()) {
            let ctx = FieldContext {
                clinic_id,
                table: TABLE,
                column,
                row_id: id,
            };
            sealed.push(
                key.seal(&ctx, value.as_bytes())
                    .map_err(KeyringError::from)?,
            );
        }
        let mut query = sqlx::query(
            "INSERT INTO clinic_patients (id, clinic_id, family_name, given_name, family_name_kana, given_name_kana, \
             birth_date, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id)
        .bind(clinic_id);
        for value in sealed {
            query = query.bind(value);
        }
        query.bind(now).execute(self.pool()).await?;
        Ok(())
    }

    /// Opens a patient's record for `reader`, or refuses (see the module documentation).
    pub async fn open_clinic_patient(
        &self,
        keyring: &Keyring,
        reader: Reader<'_>,
        clinic_id: &str,
        patient_id: &str,
        now: i64,
    ) -> Result<Opened, RegistryError> {
        let grant_id = match reader {
            Reader::Member { clinic_id: own } if own == clinic_id => None,
            Reader::Member { .. } => return Err(RegistryError::NotFound),
            Reader::Operator { account_id } => Some(
                self.open_grant(clinic_id, account_id, patient_id, now)
                    .await?
                    .ok_or(RegistryError::NoGrant)?,
            ),
        };
        let row = sqlx::query(
            "SELECT family_name, given_name, family_name_kana, given_name_kana, birth_date \
             FROM clinic_patients WHERE id = $1 AND clinic_id = $2",
        )
        .bind(patient_id)
        .bind(clinic_id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(RegistryError::NotFound)?;
        let key = keyring.data_key(clinic_id)?;
        let mut opened = Vec::with_capacity(COLUMNS.len());
        for (i, column) in COLUMNS.iter().enumerate() {
            let sealed: Vec<u8> = row.try_get(i)?;
            let ctx = FieldContext {
                clinic_id,
                table: TABLE,
                column,
                row_id: patient_id,
            };
            let plain = key.open(&ctx, &sealed).map_err(KeyringError::from)?;
            opened.push(String::from_utf8_lossy(&plain).into_owned());
        }
        let [
            family_name,
            given_name,
            family_name_kana,
            given_name_kana,
            birth_date,
        ] = <[String; 5]>::try_from(opened).map_err(|_| sqlx::Error::RowNotFound)?;
        Ok(Opened {
            fields: PatientFields {
                family_name,
                given_name,
                family_name_kana,
                given_name_kana,
                birth_date,
            },
            grant_id,
        })
    }
}
