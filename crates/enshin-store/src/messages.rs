//! The outgoing-message queue: enqueue, claim (compare-and-set, so two instances never send one
//! message twice at once), and record the outcome with back-off.

use sqlx::Row;

use crate::Store;

/// How a message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// E-mail.
    Email,
    /// SMS.
    Sms,
}

impl Channel {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Sms => "sms",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "email" => Some(Self::Email),
            "sms" => Some(Self::Sms),
            _ => None,
        }
    }
}

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Message id.
    pub id: String,
    /// E-mail or SMS.
    pub channel: Channel,
    /// Address or phone number.
    pub recipient: String,
    /// Subject (e-mail).
    pub subject: String,
    /// Text.
    pub body: String,
    /// Attempts made so far.
    pub attempts: i64,
}

/// A queued message's state, for operators and tests (no body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageState {
    /// Message id.
    pub id: String,
    /// E-mail or SMS.
    pub channel: Channel,
    /// Address or phone number.
    pub recipient: String,
    /// Attempts made.
    pub attempts: i64,
    /// Delivered, unix ms.
    pub sent_at: Option<i64>,
    /// Given up, unix ms.
    pub given_up_at: Option<i64>,
    /// The last failure.
    pub last_error: Option<String>,
}

impl Store {
    /// Queues a message, due at once.
    pub async fn enqueue_message(&self, m: &Message, now: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO outgoing_messages (id, channel, recipient, subject, body, created_at, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(&m.id)
        .bind(m.channel.as_str())
        .bind(&m.recipient)
        .bind(&m.subject)
        .bind(&m.body)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Claims up to `limit` due messages for `lease_ms`; a message claimed by another instance
    /// whose lease has not run out is skipped.
    pub async fn claim_messages(
        &self,
        now: i64,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<Message>, sqlx::Error> {
        let candidates: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM outgoing_messages WHERE sent_at IS NULL AND given_up_at IS NULL \
             AND next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until < $1) \
             ORDER BY next_attempt_at, id LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        let mut claimed = Vec::new();
        for id in candidates {
            let won = sqlx::query(
                "UPDATE outgoing_messages SET claimed_until = $1 WHERE id = $2 AND sent_at IS NULL \
                 AND given_up_at IS NULL AND (claimed_until IS NULL OR claimed_until < $3)",
            )
            .bind(now + lease_ms)
            .bind(&id)
            .bind(now)
            .execute(self.pool())
            .await?
            .rows_affected()
                == 1;
            if !won {
                continue;
            }
            let row = sqlx::query(
                "SELECT id, channel, recipient, subject, body, attempts FROM outgoing_messages WHERE id = $1",
            )
            .bind(&id)
            .fetch_one(self.pool())
            .await?;
            let channel: String = row.try_get(1)?;
            claimed.push(Message {
                id: row.try_get(0)?,
                channel: Channel::parse(&channel)
                    .ok_or_else(|| sqlx::Error::Decode("outgoing_messages.channel".into()))?,
                recipient: row.try_get(2)?,
                subject: row.try_get(3)?,
                body: row.try_get(4)?,
                attempts: row.try_get(5)?,
            });
        }
        Ok(claimed)
    }

    /// Records delivery and wipes the body.
    pub async fn message_sent(&self, id: &str, now: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE outgoing_messages SET sent_at = $1, body = '', claimed_until = NULL, attempts = attempts + 1 \
             WHERE id = $2",
        )
        .bind(now)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Records a failed attempt: retry at `retry_at`, or give up (and wipe the body) when `None`.
    pub async fn message_failed(
        &self,
        id: &str,
        error: &str,
        retry_at: Option<i64>,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let error: String = error.chars().take(500).collect();
        let query = match retry_at {
            Some(at) => sqlx::query(
                "UPDATE outgoing_messages SET attempts = attempts + 1, next_attempt_at = $1, claimed_until = NULL, \
                 last_error = $2 WHERE id = $3",
            )
            .bind(at),
            None => sqlx::query(
                "UPDATE outgoing_messages SET attempts = attempts + 1, given_up_at = $1, body = '', claimed_until = NULL, \
                 last_error = $2 WHERE id = $3",
            )
            .bind(now),
        };
        query.bind(error).bind(id).execute(self.pool()).await?;
        Ok(())
    }

    /// The queue's messages, newest first (no bodies).
    pub async fn message_states(&self, limit: i64) -> Result<Vec<MessageState>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, channel, recipient, attempts, sent_at, given_up_at, last_error FROM outgoing_messages \
             ORDER BY created_at DESC, id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let channel: String = r.try_get(1)?;
                Ok(MessageState {
                    id: r.try_get(0)?,
                    channel: Channel::parse(&channel)
                        .ok_or_else(|| sqlx::Error::Decode("outgoing_messages.channel".into()))?,
                    recipient: r.try_get(2)?,
                    attempts: r.try_get(3)?,
                    sent_at: r.try_get(4)?,
                    given_up_at: r.try_get(5)?,
                    last_error: r.try_get(6)?,
                })
            })
            .collect()
    }
}
