//! Incident mode (AVAIL-4): suspensions of the service or of one clinic, with their message.

use sqlx::Row;

use crate::Store;

/// The scope name of a service-wide suspension.
pub const SERVICE: &str = "service";

impl Store {
    /// Suspends `scope` (`service` or a clinic id) with `message`; replaces an earlier message.
    pub async fn suspend(
        &self,
        scope: &str,
        message: &str,
        by: &str,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO suspensions (scope, message, since, by_account) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (scope) DO UPDATE SET message = $2, since = $3, by_account = $4",
        )
        .bind(scope)
        .bind(message)
        .bind(now)
        .bind(by)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Lifts a suspension; false if there was none.
    pub async fn lift_suspension(&self, scope: &str) -> Result<bool, sqlx::Error> {
        let done = sqlx::query("DELETE FROM suspensions WHERE scope = $1")
            .bind(scope)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Every suspension in force: (scope, message, since).
    pub async fn suspensions(&self) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
        let rows =
            sqlx::query("SELECT scope, message, since FROM suspensions ORDER BY since, scope")
                .fetch_all(self.pool())
                .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    }
}
