//! Service announcements (AVAIL-5): published by operators, read by clinic admins.

use sqlx::Row;

use crate::Store;

/// An announcement as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    /// Its id.
    pub id: String,
    /// `change` or `security`.
    pub kind: String,
    /// Title.
    pub title: String,
    /// Text.
    pub body: String,
    /// When it takes effect, unix ms.
    pub effective_at: i64,
    /// When it was published, unix ms.
    pub published_at: i64,
    /// The operator who published it.
    pub published_by: String,
}

impl Store {
    /// Stores an announcement (already checked against the notice rule).
    pub async fn publish_announcement(&self, a: &Announcement) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO announcements (id, kind, title, body, effective_at, published_at, published_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&a.id)
        .bind(&a.kind)
        .bind(&a.title)
        .bind(&a.body)
        .bind(a.effective_at)
        .bind(a.published_at)
        .bind(&a.published_by)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Announcements published since `since`, newest first.
    pub async fn announcements_since(&self, since: i64) -> Result<Vec<Announcement>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, kind, title, body, effective_at, published_at, published_by FROM announcements \
             WHERE published_at >= $1 ORDER BY published_at DESC, id",
        )
        .bind(since)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Announcement {
                    id: r.try_get(0)?,
                    kind: r.try_get(1)?,
                    title: r.try_get(2)?,
                    body: r.try_get(3)?,
                    effective_at: r.try_get(4)?,
                    published_at: r.try_get(5)?,
                    published_by: r.try_get(6)?,
                })
            })
            .collect()
    }
}
