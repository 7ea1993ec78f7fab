//! The access-log writer (LOG-4, LOG-7): one per instance, the only code that appends. Requests
//! hand it entries and wait; it seals a batch (index, hash chain), commits it in one transaction
//! (one fsync), then answers every waiting request. It signs a checkpoint of its Merkle tree at
//! least every `CHECKPOINT_EVERY`, into the store and into a file outside the database.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use enshin_core::audit::checkpoint::{Checkpoint, WriterKey};
use enshin_core::audit::entry::{Entry, NO_PREVIOUS, Sealed};
use enshin_core::audit::merkle::{Frontier, Hash};
use enshin_core::encoding::to_hex;
use enshin_store::audit::{AuditStore, EntryRow, StoredCheckpoint};
use enshin_store::files::{write_new_private, write_replace_private};
use ring::digest::{SHA256, digest};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::clock::now_ms;

/// A signed checkpoint is made at least this often while entries arrive (LOG-4: "every 10 s").
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(5);
/// Most entries in one transaction.
const BATCH_MAX: usize = 4096;
/// Waiting requests beyond this make new requests wait for room (back-pressure, not memory).
const QUEUE: usize = 16_384;
/// A request waits at most this long for its entry to be durable, then fails closed.
const ACK_TIMEOUT: Duration = Duration::from_secs(5);

/// Why an entry could not be made durable.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuditError {
    /// The store refused the batch (full disk, read-only, database down).
    #[error("the access log could not be written")]
    Unwritable,
    /// The writer is not running.
    #[error("the access log writer has stopped")]
    Stopped,
    /// The entry was not durable in time.
    #[error("the access log did not confirm the entry in time")]
    Timeout,
}

/// Why the writer could not start.
#[derive(Debug, thiserror::Error)]
pub enum AuditStartError {
    /// The key file could not be read or written.
    #[error("audit writer key {0}")]
    KeyFile(PathBuf, #[source] std::io::Error),
    /// The key file holds no valid key.
    #[error("audit writer key {0} is not a valid Ed25519 key")]
    Key(PathBuf),
    /// The store refused.
    #[error("audit store")]
    Store(#[from] sqlx::Error),
    /// This writer id is registered with another key.
    #[error("audit writer {0} is registered with another key: the key file was replaced")]
    KeyMismatch(String),
    /// The stored log of this writer is not consistent with itself.
    #[error("the stored access log of writer {0} cannot be resumed: run `enshin audit verify`")]
    Resume(String),
}

/// The writer's state of health, for `/healthz`.
#[derive(Debug, Default)]
pub struct AuditHealth {
    failing: AtomicBool,
    written: AtomicU64,
    batches: std::sync::Mutex<crate::metrics::Histogram>,
}

impl AuditHealth {
    /// Whether the last batch failed.
    pub fn failing(&self) -> bool {
        self.failing.load(Ordering::Relaxed)
    }

    /// Entries made durable since start.
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    /// How long batches took to become durable.
    pub fn batches(&self) -> crate::metrics::Histogram {
        self.batches.lock().map(|h| h.clone()).unwrap_or_default()
    }
}

struct Job {
    entry: Entry,
    done: Option<oneshot::Sender<Result<u64, AuditError>>>,
}

/// The handle requests record through.
#[derive(Clone)]
pub struct AuditLog {
    jobs: mpsc::Sender<Job>,
    health: Arc<AuditHealth>,
    writer: Arc<str>,
    key: Arc<WriterKey>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("writer", &self.writer)
            .finish()
    }
}

impl AuditLog {
    /// This instance's writer id.
    pub fn writer(&self) -> &str {
        &self.writer
    }

    /// This instance's writer key, which also signs the service's documents (an export's
    /// manifest), so that they verify against the access log's registered writers.
    pub fn signer(&self) -> &WriterKey {
        &self.key
    }

    /// The writer's health.
    pub fn health(&self) -> &AuditHealth {
        &self.health
    }

    /// Entries waiting in the queue for the writer.
    pub fn queued(&self) -> usize {
        self.jobs.max_capacity() - self.jobs.capacity()
    }

    /// Records an entry and waits until it is durable (LOG-7); returns its index.
    pub async fn record(&self, entry: Entry) -> Result<u64, AuditError> {
        let (done, durable) = oneshot::channel();
        let job = Job {
            entry,
            done: Some(done),
        };
        let wait = async {
            self.jobs.send(job).await.map_err(|_| AuditError::Stopped)?;
            durable.await.map_err(|_| AuditError::Stopped)?
        };
        tokio::time::timeout(ACK_TIMEOUT, wait)
            .await
            .unwrap_or(Err(AuditError::Timeout))
    }

    /// Records an event nobody waits for (a refused TLS handshake); dropped, and counted as a
    /// failure, only if the queue is full.
    pub fn record_detached(&self, entry: Entry) {
        if self.jobs.try_send(Job { entry, done: None }).is_err() {
            self.health.failing.store(true, Ordering::Relaxed);
            tracing::error!("access log queue full: an event entry was dropped");
        }
    }
}

/// An entry for an event that is no request: a refused TLS handshake, a review on the command
/// line. Refused by default; set the fields the event knows.
pub fn event_entry(listener: &str, action: &str) -> Entry {
    Entry {
        at_ms: now_ms(),
        listener: listener.to_owned(),
        action: action.to_owned(),
        target_type: None,
        target_id: None,
        outcome: enshin_core::audit::entry::Outcome::Denied,
        status: 0,
        principal_id: None,
        principal_kind: None,
        role: None,
        clinic_id: None,
        source: None,
        cert_serial: None,
        session_hash: None,
        request_id: None,
        access: None,
        subjects: Vec::new(),
    }
}

/// The writer id of a public key: the first 16 bytes of its SHA-256, hex.
pub fn writer_id(public_key: &[u8]) -> String {
    to_hex(&digest(&SHA256, public_key).as_ref()[..16])
}

/// Loads the instance's writer key, making one on first start.
pub fn load_or_create_key(path: &Path) -> Result<WriterKey, AuditStartError> {
    if !path.exists() {
        let pkcs8 = WriterKey::generate().map_err(|_| AuditStartError::Key(path.into()))?;
        write_new_private(path, &pkcs8).map_err(|e| AuditStartError::KeyFile(path.into(), e))?;
    }
    let bytes = std::fs::read(path).map_err(|e| AuditStartError::KeyFile(path.into(), e))?;
    WriterKey::from_pkcs8(&bytes).map_err(|_| AuditStartError::Key(path.into()))
}

struct Writer {
    store: AuditStore,
    key: Arc<WriterKey>,
    id: String,
    next: u64,
    prev: Hash,
    frontier: Frontier,
    checkpointed: u64,
    checkpoint_file: PathBuf,
    health: Arc<AuditHealth>,
    stale: bool,
}

impl Writer {
    /// Picks up where this writer's log ends: its last checkpoint's frontier, then the entries
    /// written after it.
    async fn resume(&mut self) -> Result<(), AuditStartError> {
        self.frontier = Frontier::default();
        self.prev = NO_PREVIOUS;
        self.checkpointed = 0;
        let last = self.store.checkpoints(&self.id).await?.into_iter().last();
        if let Some(cp) = &last {
            self.frontier = Frontier::decode(&cp.frontier)
                .filter(|f| f.size() == cp.size)
                .ok_or_else(|| AuditStartError::Resume(self.id.clone()))?;
            self.checkpointed = cp.size;
        }
        let mut from = self.frontier.size();
        if from > 0 {
            let before = self.store.entries_page(&self.id, from - 1, 1).await?;
            let (_, body) = before
                .first()
                .filter(|(i, _)| *i == from - 1)
                .ok_or_else(|| AuditStartError::Resume(self.id.clone()))?;
            self.prev = enshin_core::audit::merkle::leaf_hash(body.as_bytes());
        }
        loop {
            let page = self.store.entries_page(&self.id, from, 10_000).await?;
            if page.is_empty() {
                break;
            }
            for (idx, body) in &page {
                if *idx != from {
                    return Err(AuditStartError::Resume(self.id.clone()));
                }
                let leaf = enshin_core::audit::merkle::leaf_hash(body.as_bytes());
                self.frontier.push(leaf);
                self.prev = leaf;
                from += 1;
            }
        }
        self.next = from;
        Ok(())
    }

    async fn write_batch(&mut self, jobs: Vec<Job>) {
        // After a failed batch the store may hold more than we know (a commit whose answer was
        // lost): pick up from the store again before appending, or indices would collide forever.
        if self.stale {
            match self.resume().await {
                Ok(()) => self.stale = false,
                Err(error) => {
                    tracing::error!(%error, "access log not resumed; the requests fail closed");
                    for job in jobs {
                        if let Some(done) = job.done {
                            let _ = done.send(Err(AuditError::Unwritable));
                        }
                    }
                    return;
                }
            }
        }
        let mut rows = Vec::with_capacity(jobs.len());
        let mut leaves = Vec::with_capacity(jobs.len());
        let mut prev = self.prev;
        for (i, job) in jobs.iter().enumerate() {
            let index = self.next + i as u64;
            let sealed = Sealed::new(&self.id, index, &prev, job.entry.clone());
            let body = sealed.to_bytes();
            prev = enshin_core::audit::merkle::leaf_hash(&body);
            leaves.push(prev);
            rows.push(EntryRow {
                idx: index,
                // Canonical JSON is UTF-8 by construction.
                body: String::from_utf8(body).unwrap_or_default(),
                at_ms: job.entry.at_ms,
                clinic_id: job.entry.clinic_id.clone(),
                principal_id: job.entry.principal_id.clone(),
                outcome: job.entry.outcome.as_str(),
            });
        }
        let started = std::time::Instant::now();
        let appended = self.store.append(&self.id, &rows).await;
        if let Ok(mut batches) = self.health.batches.lock() {
            batches.observe(started.elapsed().as_secs_f64());
        }
        match appended {
            Ok(()) => {
                for leaf in leaves {
                    self.frontier.push(leaf);
                }
                let first = self.next;
                self.next += rows.len() as u64;
                self.prev = prev;
                self.health.failing.store(false, Ordering::Relaxed);
                self.health
                    .written
                    .fetch_add(rows.len() as u64, Ordering::Relaxed);
                for (i, job) in jobs.into_iter().enumerate() {
                    if let Some(done) = job.done {
                        let _ = done.send(Ok(first + i as u64));
                    }
                }
            }
            Err(error) => {
                self.stale = true;
                self.health.failing.store(true, Ordering::Relaxed);
                tracing::error!(%error, entries = rows.len(), "access log batch not written; the requests fail closed");
                for job in jobs {
                    if let Some(done) = job.done {
                        let _ = done.send(Err(AuditError::Unwritable));
                    }
                }
            }
        }
    }

    /// Signs and stores a checkpoint if entries arrived since the last one.
    async fn checkpoint(&mut self) {
        let size = self.frontier.size();
        if size == self.checkpointed {
            return;
        }
        let cp = Checkpoint {
            writer: self.id.clone(),
            size,
            root: self.frontier.root(),
            at_ms: now_ms(),
        };
        let signature = cp.sign(&self.key);
        let line = serde_json::json!({
            "writer": cp.writer,
            "size": cp.size,
            "root": to_hex(&cp.root),
            "at_ms": cp.at_ms,
            "signature": to_hex(&signature),
        });
        let stored = StoredCheckpoint {
            writer: cp.writer.clone(),
            size,
            root: to_hex(&cp.root),
            at_ms: cp.at_ms,
            signature,
            frontier: self.frontier.encode(),
        };
        if let Err(error) = append_line(&self.checkpoint_file, &line.to_string()) {
            tracing::error!(%error, file = %self.checkpoint_file.display(), "checkpoint file not written");
        }
        match self.store.add_checkpoint(&stored).await {
            Ok(()) => self.checkpointed = size,
            Err(error) => tracing::error!(%error, "checkpoint not stored"),
        }
    }
}

/// Appends one line and waits until it is on disk.
fn append_line(path: &Path, line: &str) -> std::io::Result<()> {
    if !path.exists() {
        write_replace_private(path, b"")?;
    }
    let mut file = std::fs::OpenOptions::new().append(true).open(path)?;
    file.write_all(format!("{line}\n").as_bytes())?;
    file.sync_data()
}

/// Starts the writer of this instance. It runs until every [`AuditLog`] handle is dropped (the
/// listeners have drained), so no request of the shutdown grace period goes unrecorded; then it
/// writes a last checkpoint.
pub async fn start(
    store: AuditStore,
    key: WriterKey,
    checkpoint_file: PathBuf,
) -> Result<(AuditLog, JoinHandle<()>), AuditStartError> {
    let public = key.public_key();
    let id = writer_id(&public);
    if !store.register_writer(&id, &public, now_ms()).await? {
        return Err(AuditStartError::KeyMismatch(id));
    }
    let health = Arc::new(AuditHealth::default());
    let key = Arc::new(key);
    let mut writer = Writer {
        store,
        key: key.clone(),
        id: id.clone(),
        next: 0,
        prev: NO_PREVIOUS,
        frontier: Frontier::default(),
        checkpointed: 0,
        checkpoint_file,
        health: health.clone(),
        stale: false,
    };
    writer.resume().await?;
    let (jobs, mut queue) = mpsc::channel::<Job>(QUEUE);
    let task = tokio::spawn(async move {
        let mut ticks = tokio::time::interval(CHECKPOINT_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                job = queue.recv() => {
                    let Some(job) = job else { break };
                    let mut batch = vec![job];
                    while batch.len() < BATCH_MAX {
                        match queue.try_recv() {
                            Ok(job) => batch.push(job),
                            Err(_) => break,
                        }
                    }
                    writer.write_batch(batch).await;
                }
                _ = ticks.tick() => writer.checkpoint().await,
            }
        }
        writer.checkpoint().await;
        writer.store.close().await;
    });
    Ok((
        AuditLog {
            jobs,
            health,
            writer: id.into(),
            key,
        },
        task,
    ))
}
