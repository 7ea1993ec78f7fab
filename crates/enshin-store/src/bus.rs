//! A message bus between the instances of one deployment: on PostgreSQL, `LISTEN`/`NOTIFY` on
//! one channel, so a browser connected to one instance reaches one connected to another; on
//! SQLite (one instance by construction: the data directory is locked) an in-process channel.
//! Every message goes through the database on PostgreSQL, even between two sockets of one
//! instance, so every instance sees one order. Delivery is at most once: a subscriber that falls
//! behind, or an instance whose listening connection drops, loses messages, and the users of the
//! bus are built to recover (a browser reconnects and the room starts again).

use std::sync::Arc;

use sqlx::postgres::PgListener;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use crate::{Backend, Store, StoreError};

/// The PostgreSQL channel.
const CHANNEL: &str = "enshin_bus";
/// Longest payload sent inline; PostgreSQL refuses notifications of 8000 bytes and more.
const INLINE_MAX: usize = 7000;
/// Marks a payload that names a parked message instead of carrying it.
const PARKED: char = '@';
/// Messages a slow subscriber may fall behind by before it loses some.
const BACKLOG: usize = 1024;

/// The bus of one instance. Cloning shares it.
#[derive(Clone)]
pub struct Bus {
    inner: Arc<Inner>,
}

struct Inner {
    local: broadcast::Sender<Arc<str>>,
    store: Store,
    listener: Option<JoinHandle<()>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(task) = &self.listener {
            task.abort();
        }
    }
}

impl Bus {
    /// Starts the bus; on PostgreSQL it listens on its own connection to `url` before it
    /// returns, so nothing published after this returns is missed.
    pub async fn start(store: Store, url: &str) -> Result<Self, StoreError> {
        let (local, _) = broadcast::channel(BACKLOG);
        let listener = match store.backend() {
            Backend::Sqlite => None,
            Backend::Postgres => {
                let mut pg = PgListener::connect(url).await?;
                pg.listen(CHANNEL).await?;
                Some(tokio::spawn(relay(pg, store.clone(), local.clone())))
            }
        };
        Ok(Self {
            inner: Arc::new(Inner {
                local,
                store,
                listener,
            }),
        })
    }

    /// A receiver of every message published from now on, by any instance.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<str>> {
        self.inner.local.subscribe()
    }

    /// Publishes a message to every subscriber of every instance. `id` names it if it has to be
    /// parked in the database (too large for a notification).
    pub async fn publish(&self, id: &str, message: &str, now: i64) -> Result<(), sqlx::Error> {
        let store = &self.inner.store;
        match store.backend() {
            Backend::Sqlite => {
                // No subscriber is not an error: nobody is in the room.
                let _ = self.inner.local.send(message.into());
            }
            Backend::Postgres => {
                let payload = if message.len() > INLINE_MAX || message.starts_with(PARKED) {
                    store.park_signal(id, message, now).await?;
                    format!("{PARKED}{id}")
                } else {
                    message.to_owned()
                };
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(CHANNEL)
                    .bind(payload)
                    .execute(store.pool())
                    .await?;
            }
        }
        Ok(())
    }
}

/// Hands every notification to this instance's subscribers. `PgListener` reconnects by itself
/// after a lost connection; what was published meanwhile is lost (see the module comment).
async fn relay(mut pg: PgListener, store: Store, local: broadcast::Sender<Arc<str>>) {
    loop {
        match pg.recv().await {
            Ok(note) => {
                let payload = note.payload();
                let message: Option<Arc<str>> = match payload.strip_prefix(PARKED) {
                    Some(id) => match store.parked_signal(id).await {
                        Ok(Some(body)) => Some(body.into()),
                        Ok(None) => None,
                        Err(error) => {
                            tracing::warn!(%error, "bus: a parked message could not be read");
                            None
                        }
                    },
                    None => Some(payload.into()),
                };
                if let Some(message) = message {
                    let _ = local.send(message);
                }
            }
            Err(error) => {
                tracing::warn!(%error, "bus: listening connection failed; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
    }
}
