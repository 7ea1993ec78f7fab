//! One-time codes (password resets and contact checks of patients), reset links of clinic
//! admins, and setting a new password. Every use is a compare-and-set, so a code or a link
//! works once even against racing requests.

use enshin_core::code::{ATTEMPTS, Purpose};
use sqlx::Row;

use crate::Store;
use crate::messages::Channel;

/// A code that can still be tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenCode {
    /// Its id (bound into the sealing).
    pub id: String,
    /// Where it was sent.
    pub channel: Channel,
    /// The sealed code.
    pub sealed: Vec<u8>,
}

impl Store {
    /// How many codes of `purpose` the account was sent since `since`.
    pub async fn codes_sent_since(
        &self,
        account_id: &str,
        purpose: Purpose,
        since: i64,
    ) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM one_time_codes WHERE account_id = $1 AND purpose = $2 AND created_at > $3",
        )
        .bind(account_id)
        .bind(purpose.as_str())
        .bind(since)
        .fetch_one(self.pool())
        .await
    }

    /// Stores a new code; earlier open codes of the same purpose stop working.
    #[allow(
        clippy::too_many_arguments,
        reason = "one argument per column of the row it writes"
    )]
    pub async fn store_code(
        &self,
        id: &str,
        account_id: &str,
        purpose: Purpose,
        channel: Channel,
        sealed: &[u8],
        now: i64,
        expires_at: i64,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE one_time_codes SET used_at = $1 WHERE account_id = $2 AND purpose = $3 AND used_at IS NULL",
        )
        .bind(now)
        .bind(account_id)
        .bind(purpose.as_str())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO one_time_codes (id, account_id, purpose, channel, code_sealed, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(account_id)
        .bind(purpose.as_str())
        .bind(channel.as_str())
        .bind(sealed)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    /// Takes one try of the account's open code of `purpose`: the code, if one is open (not
    /// used, not expired, tries left); the try is counted before the code is compared.
    pub async fn try_code(
        &self,
        account_id: &str,
        purpose: Purpose,
        now: i64,
    ) -> Result<Option<OpenCode>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT id, channel, code_sealed FROM one_time_codes WHERE account_id = $1 AND purpose = $2 \
             AND used_at IS NULL AND expires_at > $3 AND attempts < $4 ORDER BY created_at DESC LIMIT 1",
        )
        .bind(account_id)
        .bind(purpose.as_str())
        .bind(now)
        .bind(ATTEMPTS)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let id: String = row.try_get(0)?;
        let counted = sqlx::query(
            "UPDATE one_time_codes SET attempts = attempts + 1 WHERE id = $1 AND used_at IS NULL AND attempts < $2",
        )
        .bind(&id)
        .bind(ATTEMPTS)
        .execute(self.pool())
        .await?
        .rows_affected()
            == 1;
        if !counted {
            return Ok(None);
        }
        let channel: String = row.try_get(1)?;
        Ok(Some(OpenCode {
            id,
            channel: if channel == "sms" {
                Channel::Sms
            } else {
                Channel::Email
            },
            sealed: row.try_get(2)?,
        }))
    }

    /// Uses a code; false if it was used meanwhile.
    pub async fn use_code(&self, id: &str, now: i64) -> Result<bool, sqlx::Error> {
        Ok(
            sqlx::query("UPDATE one_time_codes SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
                .bind(now)
                .bind(id)
                .execute(self.pool())
                .await?
                .rows_affected()
                == 1,
        )
    }

    /// Marks a patient's e-mail or phone as proven.
    pub async fn mark_contact_verified(
        &self,
        account_id: &str,
        channel: Channel,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let sql = match channel {
            Channel::Email => "UPDATE patients SET email_verified_at = $1 WHERE account_id = $2",
            Channel::Sms => "UPDATE patients SET phone_verified_at = $1 WHERE account_id = $2",
        };
        sqlx::query(sql)
            .bind(now)
            .bind(account_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// When the patient's e-mail and phone were proven.
    pub async fn contact_verified(
        &self,
        account_id: &str,
    ) -> Result<(Option<i64>, Option<i64>), sqlx::Error> {
        let row = sqlx::query(
            "SELECT email_verified_at, phone_verified_at FROM patients WHERE account_id = $1",
        )
        .bind(account_id)
        .fetch_optional(self.pool())
        .await?;
        match row {
            Some(r) => Ok((r.try_get(0)?, r.try_get(1)?)),
            None => Ok((None, None)),
        }
    }

    /// Sets a new password and ends every session of the account, in one transaction.
    pub async fn replace_password(
        &self,
        account_id: &str,
        hash: &str,
        reason: &str,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE accounts SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE sessions SET ended_at = $1, ended_reason = $2 WHERE account_id = $3 AND ended_at IS NULL",
        )
        .bind(now)
        .bind(reason)
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    /// A clinic member's own e-mail address (admins' password-reset links go there).
    pub async fn member_email(&self, account_id: &str) -> Result<Option<String>, sqlx::Error> {
        Ok(sqlx::query_scalar::<_, Option<String>>(
            "SELECT email FROM members WHERE account_id = $1",
        )
        .bind(account_id)
        .fetch_optional(self.pool())
        .await?
        .flatten())
    }

    /// Sets a clinic member's own e-mail address.
    pub async fn set_member_email(&self, account_id: &str, email: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE members SET email = $1 WHERE account_id = $2")
            .bind(email)
            .bind(account_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// How many reset links the account was sent since `since`.
    pub async fn links_sent_since(&self, account_id: &str, since: i64) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM reset_links WHERE account_id = $1 AND created_at > $2",
        )
        .bind(account_id)
        .bind(since)
        .fetch_one(self.pool())
        .await
    }

    /// Stores a reset link (by the SHA-256 of its token).
    pub async fn store_reset_link(
        &self,
        token_digest: &str,
        account_id: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO reset_links (token_digest, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_digest)
        .bind(account_id)
        .bind(now)
        .bind(expires_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Uses a reset link: its account, if the link exists, is unused and not expired.
    pub async fn use_reset_link(
        &self,
        token_digest: &str,
        now: i64,
    ) -> Result<Option<String>, sqlx::Error> {
        let Some(account) = self.reset_link_account(token_digest, now).await? else {
            return Ok(None);
        };
        let won = sqlx::query(
            "UPDATE reset_links SET used_at = $1 WHERE token_digest = $2 AND used_at IS NULL",
        )
        .bind(now)
        .bind(token_digest)
        .execute(self.pool())
        .await?
        .rows_affected()
            == 1;
        Ok(won.then_some(account))
    }

    /// The account of a reset link that would still work, without using it.
    pub async fn reset_link_account(
        &self,
        token_digest: &str,
        now: i64,
    ) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT account_id FROM reset_links WHERE token_digest = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(token_digest)
        .bind(now)
        .fetch_optional(self.pool())
        .await
    }

    /// A member's role and own e-mail address.
    pub async fn member_role_and_email(
        &self,
        account_id: &str,
    ) -> Result<Option<(String, Option<String>)>, sqlx::Error> {
        let row = sqlx::query("SELECT role, email FROM members WHERE account_id = $1")
            .bind(account_id)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
    }
}
