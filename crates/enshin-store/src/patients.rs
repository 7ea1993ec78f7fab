//! Patient accounts and their acceptance of the terms of use.

use enshin_core::people::{AccountKind, LoginId};

use crate::Store;
use crate::people::{NewAccount, PeopleError, insert_account};

/// The sealed columns of a patient's own profile, in the order `patient_profile` returns them.
pub const PROFILE_COLUMNS: [&str; 7] = [
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "birth_date",
    "email",
    "phone",
];

/// A patient to create; the personal fields are already sealed.
#[derive(Debug, Clone)]
pub struct NewPatient<'a> {
    /// New account id (uuid v7).
    pub account_id: &'a str,
    /// Canonical login ID.
    pub login_id: &'a LoginId,
    /// Argon2id PHC string.
    pub password_hash: &'a str,
    /// Sealed family name.
    pub family_name: &'a [u8],
    /// Sealed given name.
    pub given_name: &'a [u8],
    /// Sealed family name in kana.
    pub family_name_kana: &'a [u8],
    /// Sealed given name in kana.
    pub given_name_kana: &'a [u8],
    /// Sealed birth date.
    pub birth_date: &'a [u8],
    /// Sealed e-mail address.
    pub email: Option<&'a [u8]>,
    /// Sealed phone number.
    pub phone: Option<&'a [u8]>,
    /// The terms version accepted at registration.
    pub terms_version: &'a str,
}

impl Store {
    /// Creates a patient account, profile and terms acceptance in one transaction.
    pub async fn create_patient(&self, p: &NewPatient<'_>, now: i64) -> Result<(), PeopleError> {
        let mut tx = self.begin_write().await?;
        let account = NewAccount {
            id: p.account_id,
            kind: AccountKind::Patient,
            login_id: p.login_id,
            password_hash: p.password_hash,
        };
        insert_account(&mut tx, &account, now).await?;
        sqlx::query(
            "INSERT INTO patients (account_id, family_name, given_name, family_name_kana, given_name_kana, birth_date, \
             email, phone, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(p.account_id)
        .bind(p.family_name)
        .bind(p.given_name)
        .bind(p.family_name_kana)
        .bind(p.given_name_kana)
        .bind(p.birth_date)
        .bind(p.email)
        .bind(p.phone)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO terms_acceptances (account_id, terms_version, accepted_at) VALUES ($1, $2, $3)")
            .bind(p.account_id)
            .bind(p.terms_version)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A patient's own profile, still sealed: the columns in the order of
    /// [`PROFILE_COLUMNS`], `None` for an absent e-mail or phone.
    pub async fn patient_profile(
        &self,
        account_id: &str,
    ) -> Result<Option<Vec<Option<Vec<u8>>>>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT family_name, given_name, family_name_kana, given_name_kana, birth_date, email, phone \
             FROM patients WHERE account_id = $1",
        )
        .bind(account_id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| {
            (0..PROFILE_COLUMNS.len())
                .map(|i| sqlx::Row::try_get::<Option<Vec<u8>>, _>(&row, i))
                .collect()
        })
        .transpose()
    }

    /// Whether the account has accepted this version of the terms.
    pub async fn has_accepted_terms(
        &self,
        account_id: &str,
        version: &str,
    ) -> Result<bool, sqlx::Error> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT accepted_at FROM terms_acceptances WHERE account_id = $1 AND terms_version = $2",
        )
        .bind(account_id)
        .bind(version)
        .fetch_optional(self.pool())
        .await?;
        Ok(found.is_some())
    }

    /// Records acceptance of a terms version (again accepting the same version changes nothing).
    pub async fn accept_terms(
        &self,
        account_id: &str,
        version: &str,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO terms_acceptances (account_id, terms_version, accepted_at) VALUES ($1, $2, $3) \
             ON CONFLICT (account_id, terms_version) DO NOTHING",
        )
        .bind(account_id)
        .bind(version)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
