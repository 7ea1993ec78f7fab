//! Operator accounts (AUTH-9): a password like every account, and a TOTP secret sealed at rest
//! whose steps are taken once, atomically.

use enshin_core::people::{AccountKind, LoginId};

use crate::Store;
use crate::people::{NewAccount, PeopleError, insert_account};

/// An operator to create.
#[derive(Debug, Clone)]
pub struct NewOperator<'a> {
    /// New account id.
    pub account_id: &'a str,
    /// Login ID.
    pub login_id: &'a LoginId,
    /// Argon2id hash.
    pub password_hash: &'a str,
    /// Display name.
    pub display_name: &'a str,
    /// The TOTP secret, sealed.
    pub totp_secret: &'a [u8],
}

impl Store {
    /// Creates an operator account in one transaction.
    pub async fn create_operator(&self, op: &NewOperator<'_>, now: i64) -> Result<(), PeopleError> {
        let mut tx = self.begin_write().await?;
        let account = NewAccount {
            id: op.account_id,
            kind: AccountKind::Operator,
            login_id: op.login_id,
            password_hash: op.password_hash,
        };
        insert_account(&mut tx, &account, now).await?;
        sqlx::query(
            "INSERT INTO operators (account_id, display_name, totp_secret, totp_last_step) VALUES ($1, $2, $3, -1)",
        )
        .bind(op.account_id)
        .bind(op.display_name)
        .bind(op.totp_secret)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The operator's sealed TOTP secret and the last step used (−1: none yet).
    pub async fn operator_totp(
        &self,
        account_id: &str,
    ) -> Result<Option<(Vec<u8>, i64)>, sqlx::Error> {
        let row =
            sqlx::query("SELECT totp_secret, totp_last_step FROM operators WHERE account_id = $1")
                .bind(account_id)
                .fetch_optional(self.pool())
                .await?;
        row.map(|r| Ok((sqlx::Row::try_get(&r, 0)?, sqlx::Row::try_get(&r, 1)?)))
            .transpose()
    }

    /// Takes TOTP step `step` for the operator if it is later than the last one used: one atomic
    /// compare-and-set, so of two requests racing with one code only one succeeds.
    pub async fn take_totp_step(&self, account_id: &str, step: i64) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE operators SET totp_last_step = $1 WHERE account_id = $2 AND totp_last_step < $1",
        )
        .bind(step)
        .bind(account_id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
