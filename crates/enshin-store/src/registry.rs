//! The clinic's patient registry (A-class, DATA-1), sealed with the clinic's data key (DATA-3).
//! Opening a record is the one place where a reader's right to the plaintext is decided: a
//! member only in their own clinic, an operator only under an open access grant (DATA-4), so no
//! handler can forget the check.

use enshin_core::crypto::envelope::FieldContext;
use sqlx::Row;

use crate::Store;
use crate::keyring::{Keyring, KeyringError};

/// The sealed columns, in the order of [`PatientFields`]; the last three may be absent.
pub const COLUMNS: [&str; 8] = [
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "birth_date",
    "sex",
    "card_number",
    "contact",
];
const TABLE: &str = "clinic_patients";
/// The blind index's purpose for card numbers.
const CARD_INDEX: &str = "clinic_patients.card_number";

/// A patient's registry fields, in plaintext (checked by the caller; empty: not recorded).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
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
    /// `male`, `female`, `other`, `unknown`.
    pub sex: String,
    /// Clinic card number (診察券番号), unique in the clinic.
    pub card_number: String,
    /// Phone number or e-mail address.
    pub contact: String,
}

impl PatientFields {
    /// Family and given name, as shown to staff (`山田 花子`).
    pub fn name(&self) -> String {
        format!("{} {}", self.family_name, self.given_name)
    }

    /// The name in kana, as shown to staff (`ヤマダ ハナコ`).
    pub fn kana(&self) -> String {
        format!("{} {}", self.family_name_kana, self.given_name_kana)
    }

    /// The fields of values in the order of [`COLUMNS`].
    pub fn from_values(values: [String; 8]) -> Self {
        let [
            family_name,
            given_name,
            family_name_kana,
            given_name_kana,
            birth_date,
            sex,
            card_number,
            contact,
        ] = values;
        Self {
            family_name,
            given_name,
            family_name_kana,
            given_name_kana,
            birth_date,
            sex,
            card_number,
            contact,
        }
    }

    /// The values in the order of [`COLUMNS`].
    pub fn values(&self) -> [&str; 8] {
        [
            &self.family_name,
            &self.given_name,
            &self.family_name_kana,
            &self.given_name_kana,
            &self.birth_date,
            &self.sex,
            &self.card_number,
            &self.contact,
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
    /// The card number is another record's in this clinic; the position of the record in
    /// the batch being added.
    #[error("this card number belongs to another patient of the clinic")]
    CardTaken(usize),
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

/// Opens the sealed columns of a registry row (in the order of [`COLUMNS`]; absent ones are
/// empty).
fn open_row(
    key: &enshin_core::crypto::envelope::DataKey,
    clinic_id: &str,
    patient_id: &str,
    row: &sqlx::any::AnyRow,
) -> Result<PatientFields, RegistryError> {
    let mut opened = Vec::with_capacity(COLUMNS.len());
    for (i, column) in COLUMNS.iter().enumerate() {
        let Some(sealed) = row.try_get::<Option<Vec<u8>>, _>(i)? else {
            opened.push(String::new());
            continue;
        };
        let ctx = FieldContext {
            clinic_id,
            table: TABLE,
            column,
            row_id: patient_id,
        };
        let plain = key.open(&ctx, &sealed).map_err(KeyringError::from)?;
        opened.push(String::from_utf8_lossy(&plain).into_owned());
    }
    let values = <[String; 8]>::try_from(opened).map_err(|_| sqlx::Error::RowNotFound)?;
    Ok(PatientFields::from_values(values))
}

const SEALED: &str = "family_name, given_name, family_name_kana, given_name_kana, birth_date, sex, card_number, contact";

/// A registry record in a clinic's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Record id.
    pub id: String,
    /// The opened fields.
    pub fields: PatientFields,
    /// Whether a patient account is linked to it.
    pub linked: bool,
}

impl Store {
    /// Every record of a clinic's registry, opened, in kana order: for its members, or an operator
    /// under an open grant for the whole clinic.
    pub async fn list_clinic_patients(
        &self,
        keyring: &Keyring,
        reader: Reader<'_>,
        clinic_id: &str,
        now: i64,
    ) -> Result<Vec<Listed>, RegistryError> {
        match reader {
            Reader::Member { clinic_id: own } if own == clinic_id => {}
            Reader::Member { .. } => return Err(RegistryError::NotFound),
            Reader::Operator { account_id } => {
                // An empty patient id is reached only by a grant for the whole clinic.
                if self
                    .open_grant(clinic_id, account_id, "", now)
                    .await?
                    .is_none()
                {
                    return Err(RegistryError::NoGrant);
                }
            }
        }
        let rows = sqlx::query(
            "SELECT p.family_name, p.given_name, p.family_name_kana, p.given_name_kana, p.birth_date, p.sex, \
             p.card_number, p.contact, p.id, l.patient_account_id FROM clinic_patients p \
             LEFT JOIN patient_links l ON l.clinic_patient_id = p.id WHERE p.clinic_id = $1",
        )
        .bind(clinic_id)
        .fetch_all(self.pool())
        .await?;
        let key = keyring.data_key(clinic_id)?;
        let mut list = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: String = row.try_get(8)?;
            list.push(Listed {
                fields: open_row(&key, clinic_id, &id, row)?,
                linked: row.try_get::<Option<String>, _>(9)?.is_some(),
                id,
            });
        }
        // Sorted after opening: the database sees only ciphertext.
        list.sort_by(|a, b| {
            (&a.fields.family_name_kana, &a.fields.given_name_kana)
                .cmp(&(&b.fields.family_name_kana, &b.fields.given_name_kana))
        });
        Ok(list)
    }

    /// Adds a patient (new id `id`) to a clinic's registry, sealing every field.
    pub async fn add_clinic_patient(
        &self,
        keyring: &Keyring,
        id: &str,
        clinic_id: &str,
        fields: &PatientFields,
        now: i64,
    ) -> Result<(), RegistryError> {
        self.add_clinic_patients(keyring, clinic_id, &[(id.to_owned(), fields.clone())], now)
            .await
    }

    /// Adds records (id, fields) to a clinic's registry in one transaction: all of them, or
    /// none when one fails (a card number already in the clinic names its position).
    pub async fn add_clinic_patients(
        &self,
        keyring: &Keyring,
        clinic_id: &str,
        records: &[(String, PatientFields)],
        now: i64,
    ) -> Result<(), RegistryError> {
        let key = keyring.data_key(clinic_id)?;
        let mut tx = self.begin_write().await?;
        for (position, (id, fields)) in records.iter().enumerate() {
            let mut query = sqlx::query(
                "INSERT INTO clinic_patients (id, clinic_id, family_name, given_name, family_name_kana, given_name_kana, \
                 birth_date, sex, card_number, contact, card_index, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(id.as_str())
            .bind(clinic_id);
            for (column, value) in COLUMNS.iter().zip(fields.values()) {
                let ctx = FieldContext {
                    clinic_id,
                    table: TABLE,
                    column,
                    row_id: id,
                };
                let sealed = if value.is_empty() {
                    None
                } else {
                    Some(
                        key.seal(&ctx, value.as_bytes())
                            .map_err(KeyringError::from)?,
                    )
                };
                query = query.bind(sealed);
            }
            let index = (!fields.card_number.is_empty())
                .then(|| key.blind_index(CARD_INDEX, fields.card_number.as_bytes()));
            match query.bind(index).bind(now).execute(&mut *tx).await {
                Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                    return Err(RegistryError::CardTaken(position));
                }
                other => other?,
            };
        }
        tx.commit().await?;
        Ok(())
    }

    /// The record of a clinic with this card number (exact, through the blind index).
    pub async fn find_by_card(
        &self,
        keyring: &Keyring,
        clinic_id: &str,
        card_number: &str,
    ) -> Result<Option<String>, RegistryError> {
        let key = keyring.data_key(clinic_id)?;
        let row =
            sqlx::query("SELECT id FROM clinic_patients WHERE clinic_id = $1 AND card_index = $2")
                .bind(clinic_id)
                .bind(key.blind_index(CARD_INDEX, card_number.as_bytes()))
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
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
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SEALED} FROM clinic_patients WHERE id = $1 AND clinic_id = $2"
        )))
        .bind(patient_id)
        .bind(clinic_id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(RegistryError::NotFound)?;
        let key = keyring.data_key(clinic_id)?;
        Ok(Opened {
            fields: open_row(&key, clinic_id, patient_id, &row)?,
            grant_id,
        })
    }
}
