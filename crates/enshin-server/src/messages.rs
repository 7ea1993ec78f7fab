//! Outgoing e-mail and SMS. Requests only enqueue (one row in the database); a sender task on
//! every instance claims due messages and delivers them through SMTP, the SMS provider's HTTP
//! API, or the outbox directory of the embedded default, retrying with back-off. A restart or a
//! mail-server outage loses nothing, and no request waits for the mail server.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use enshin_store::Store;
use enshin_store::messages::{Channel, Message};
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::clock::now_ms;
use crate::config::{MailConfig, SmtpSecurity};
use crate::outbox::Outbox;

/// The first retry waits this long; each further one twice as long, up to an hour.
const FIRST_RETRY_MS: i64 = 5_000;
const LONGEST_RETRY_MS: i64 = 3_600_000;
/// After this many failed attempts (about a day of retries) a message is given up.
const ATTEMPTS: i64 = 30;
/// A claimed message is another instance's to retry if this one has not finished by then.
const LEASE_MS: i64 = 120_000;
/// The sender also looks for due retries this often.
const POLL: Duration = Duration::from_secs(1);

/// Why the senders could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// A secret file could not be read.
    #[error("{0}: {1}")]
    Secret(std::path::PathBuf, std::io::Error),
    /// A secret file is readable by others.
    #[error("{0} is readable by other users; run chmod 600 on it")]
    Exposed(std::path::PathBuf),
    /// The sender address is not an address.
    #[error("mail_from: {0}")]
    From(String),
    /// The SMTP relay could not be set up.
    #[error("smtp_url: {0}")]
    Smtp(String),
    /// The HTTP client could not be set up.
    #[error("sms_url: {0}")]
    Sms(String),
}

/// The queue, as request handlers see it.
#[derive(Clone, Debug)]
pub struct Messages {
    store: Store,
    wake: Arc<Notify>,
}

impl Messages {
    /// The queue of `store`.
    pub fn new(store: Store) -> Self {
        Self {
            store,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Queues an e-mail.
    pub async fn email(&self, to: &str, subject: &str, body: &str) -> Result<(), sqlx::Error> {
        self.enqueue(Channel::Email, to, subject, body).await
    }

    /// Queues an SMS.
    pub async fn sms(&self, to: &str, text: &str) -> Result<(), sqlx::Error> {
        self.enqueue(Channel::Sms, to, "", text).await
    }

    async fn enqueue(
        &self,
        channel: Channel,
        to: &str,
        subject: &str,
        body: &str,
    ) -> Result<(), sqlx::Error> {
        let message = Message {
            id: uuid::Uuid::now_v7().to_string(),
            channel,
            recipient: to.to_owned(),
            subject: subject.to_owned(),
            body: body.to_owned(),
            attempts: 0,
        };
        self.store.enqueue_message(&message, now_ms()).await?;
        self.wake.notify_one();
        Ok(())
    }
}

/// The trimmed content of a secret file, refused if other users can read it.
pub(crate) fn secret(path: &Path) -> Result<String, SetupError> {
    if enshin_store::files::is_exposed(path).map_err(|e| SetupError::Secret(path.into(), e))? {
        return Err(SetupError::Exposed(path.into()));
    }
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_owned())
        .map_err(|e| SetupError::Secret(path.into(), e))
}

struct Sms {
    client: reqwest::Client,
    url: String,
    token: Option<String>,
}

/// Where messages go: SMTP and the SMS provider when configured, else the outbox.
pub struct Senders {
    outbox: Outbox,
    from: Mailbox,
    sms_from: String,
    smtp: Option<AsyncSmtpTransport<Tokio1Executor>>,
    sms: Option<Sms>,
}

impl Senders {
    /// The senders of a configuration.
    pub fn new(config: &MailConfig, outbox: Outbox) -> Result<Self, SetupError> {
        let from = config
            .from
            .parse::<Mailbox>()
            .map_err(|e| SetupError::From(e.to_string()))?;
        let smtp = match &config.smtp {
            Some(c) => {
                let builder = match c.security {
                    SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&c.host),
                    SmtpSecurity::StartTls => {
                        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&c.host)
                    }
                    SmtpSecurity::LoopbackPlain => Ok(
                        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&c.host),
                    ),
                }
                .map_err(|e| SetupError::Smtp(e.to_string()))?
                .port(c.port)
                .timeout(Some(Duration::from_secs(20)));
                let builder = match (&c.username, &c.password_file) {
                    (Some(user), Some(file)) => {
                        builder.credentials(Credentials::new(user.clone(), secret(file)?))
                    }
                    _ => builder,
                };
                Some(builder.build())
            }
            None => None,
        };
        let sms = match &config.sms {
            Some(c) => {
                let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
                    rustls::crypto::ring::default_provider(),
                ))
                .with_safe_default_protocol_versions()
                .map_err(|e| SetupError::Sms(e.to_string()))?
                .with_root_certificates(rustls::RootCertStore {
                    roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
                })
                .with_no_client_auth();
                let client = reqwest::Client::builder()
                    .tls_backend_preconfigured(tls)
                    .timeout(Duration::from_secs(20))
                    .build()
                    .map_err(|e| SetupError::Sms(e.to_string()))?;
                let token = c.token_file.as_deref().map(secret).transpose()?;
                Some(Sms {
                    client,
                    url: c.url.clone(),
                    token,
                })
            }
            None => None,
        };
        Ok(Self {
            outbox,
            from,
            sms_from: config.sms_from.clone(),
            smtp,
            sms,
        })
    }

    async fn send(&self, m: &Message) -> Result<(), String> {
        match (m.channel, &self.smtp, &self.sms) {
            (Channel::Email, Some(smtp), _) => {
                let to = m.recipient.parse::<Mailbox>().map_err(|e| e.to_string())?;
                let mail = lettre::Message::builder()
                    .from(self.from.clone())
                    .to(to)
                    .subject(&m.subject)
                    .header(ContentType::TEXT_PLAIN)
                    .body(m.body.clone())
                    .map_err(|e| e.to_string())?;
                smtp.send(mail).await.map(|_| ()).map_err(|e| e.to_string())
            }
            (Channel::Sms, _, Some(sms)) => {
                let mut request = sms.client.post(&sms.url).json(&serde_json::json!({
                    "to": m.recipient, "from": self.sms_from, "text": m.body,
                }));
                if let Some(token) = &sms.token {
                    request = request.bearer_auth(token);
                }
                let response = request.send().await.map_err(|e| e.to_string())?;
                if response.status().is_success() {
                    Ok(())
                } else {
                    Err(format!("the SMS provider answered {}", response.status()))
                }
            }
            (Channel::Email, None, _) => self
                .outbox
                .send(&m.recipient, &m.subject, &m.body)
                .map(|_| ())
                .map_err(|e| e.to_string()),
            (Channel::Sms, _, None) => self
                .outbox
                .sms(&m.recipient, &m.body)
                .map(|_| ())
                .map_err(|e| e.to_string()),
        }
    }
}

/// When to try again after `attempts` failed attempts, or `None` to give up.
pub fn retry_at(attempts: i64, now: i64) -> Option<i64> {
    (attempts < ATTEMPTS).then(|| {
        let doubled = FIRST_RETRY_MS.saturating_mul(1_i64 << attempts.clamp(0, 20));
        now + doubled.min(LONGEST_RETRY_MS)
    })
}

async fn deliver_due(store: &Store, senders: &Senders) {
    let due = match store.claim_messages(now_ms(), LEASE_MS, 20).await {
        Ok(due) => due,
        Err(error) => {
            tracing::warn!(%error, "the message queue could not be read; retrying");
            return;
        }
    };
    for m in due {
        // Ids and channels only: the recipient and the text stay out of the logs (DATA-2).
        let outcome = match senders.send(&m).await {
            Ok(()) => {
                tracing::info!(message = %m.id, channel = m.channel.as_str(), "message sent");
                store.message_sent(&m.id, now_ms()).await
            }
            Err(error) => {
                let next = retry_at(m.attempts, now_ms());
                tracing::warn!(message = %m.id, channel = m.channel.as_str(), attempt = m.attempts + 1, given_up = next.is_none(), %error, "message not sent");
                store.message_failed(&m.id, &error, next, now_ms()).await
            }
        };
        if let Err(error) = outcome {
            tracing::warn!(%error, message = %m.id, "the outcome of a message could not be recorded; its lease will run out and it is retried");
        }
    }
}

/// Starts the sender task; it ends when `stop` turns true.
pub fn spawn_sender(
    messages: &Messages,
    senders: Senders,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    let (store, wake) = (messages.store.clone(), messages.wake.clone());
    tokio::spawn(async move {
        loop {
            deliver_due(&store, &senders).await;
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(POLL) => {}
                _ = stop.changed() => break,
            }
            if *stop.borrow() {
                break;
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_an_hour_and_give_up_after_thirty_attempts() {
        assert_eq!(retry_at(0, 0), Some(5_000));
        assert_eq!(retry_at(1, 0), Some(10_000));
        assert_eq!(retry_at(9, 0), Some(2_560_000));
        assert_eq!(retry_at(10, 0), Some(3_600_000));
        assert_eq!(retry_at(29, 0), Some(3_600_000));
        assert_eq!(retry_at(30, 0), None);
    }
}
