//! Published revisions of the conformance disclosure (DISC-1), and the counts its live checks
//! read that no other part of the store answers.

use sqlx::Row;

use crate::Store;

/// A revision to publish.
pub struct NewDisclosure<'a> {
    /// Operator account id, or `cli:<user>`.
    pub published_by: &'a str,
    /// No non-conformance in it.
    pub conformant: bool,
    /// The exact JSON bytes that were signed.
    pub document: &'a str,
    /// The signing writer's id.
    pub signer: &'a str,
    /// Its public key, base64.
    pub public_key: &'a str,
    /// The signature, base64.
    pub signature: &'a str,
}

/// A stored revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDisclosure {
    /// Revision number, from 1.
    pub revision: u64,
    /// When, unix ms.
    pub published_at: i64,
    /// By whom.
    pub published_by: String,
    /// No non-conformance in it.
    pub conformant: bool,
    /// The JSON document.
    pub document: String,
    /// The signing writer's id.
    pub signer: String,
    /// Its public key, base64.
    pub public_key: String,
    /// The signature, base64.
    pub signature: String,
}

fn stored(r: &sqlx::any::AnyRow) -> Result<StoredDisclosure, sqlx::Error> {
    Ok(StoredDisclosure {
        revision: u64::try_from(r.try_get::<i64, _>(0)?).unwrap_or(0),
        published_at: r.try_get(1)?,
        published_by: r.try_get(2)?,
        conformant: r.try_get::<i64, _>(3)? != 0,
        document: r.try_get(4)?,
        signer: r.try_get(5)?,
        public_key: r.try_get(6)?,
        signature: r.try_get(7)?,
    })
}

/// The columns [`stored`] reads, in its order.
macro_rules! columns {
    () => {
        "revision, published_at, published_by, conformant, document, signer, public_key, signature"
    };
}

impl Store {
    /// The number the next published revision gets.
    pub async fn next_disclosure_revision(&self) -> Result<u64, sqlx::Error> {
        let row = sqlx::query("SELECT COALESCE(MAX(revision), 0) + 1 FROM disclosures")
            .fetch_one(self.pool())
            .await?;
        Ok(u64::try_from(row.try_get::<i64, _>(0)?).unwrap_or(1))
    }

    /// Stores revision `revision`; false when that number was taken meanwhile.
    pub async fn publish_disclosure(
        &self,
        revision: u64,
        d: &NewDisclosure<'_>,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let result = sqlx::query(concat!(
            "INSERT INTO disclosures (",
            columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(i64::try_from(revision).unwrap_or(i64::MAX))
        .bind(now)
        .bind(d.published_by)
        .bind(i64::from(d.conformant))
        .bind(d.document)
        .bind(d.signer)
        .bind(d.public_key)
        .bind(d.signature)
        .execute(self.pool())
        .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if crate::db::is_unique_violation(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Every revision, newest first.
    pub async fn disclosures(&self) -> Result<Vec<StoredDisclosure>, sqlx::Error> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM disclosures ORDER BY revision DESC"
        ))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(stored).collect()
    }

    /// One revision.
    pub async fn disclosure(&self, revision: u64) -> Result<Option<StoredDisclosure>, sqlx::Error> {
        let Ok(revision) = i64::try_from(revision) else {
            return Ok(None);
        };
        let row = sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM disclosures WHERE revision = $1"
        ))
        .bind(revision)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(stored).transpose()
    }

    /// The newest revision.
    pub async fn latest_disclosure(&self) -> Result<Option<StoredDisclosure>, sqlx::Error> {
        let row = sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM disclosures ORDER BY revision DESC LIMIT 1"
        ))
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(stored).transpose()
    }

    /// Operator accounts not disabled, and how many of them hold a TOTP secret.
    pub async fn operator_counts(&self) -> Result<(u64, u64), sqlx::Error> {
        let row = sqlx::query(
            "SELECT COUNT(*), COUNT(o.totp_secret) FROM operators o \
             JOIN accounts a ON a.id = o.account_id WHERE a.disabled_at IS NULL",
        )
        .fetch_one(self.pool())
        .await?;
        let count = |i: usize| -> Result<u64, sqlx::Error> {
            Ok(u64::try_from(row.try_get::<i64, _>(i)?).unwrap_or(0))
        };
        Ok((count(0)?, count(1)?))
    }
}
