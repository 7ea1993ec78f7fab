//! Group commit of readings. SQLite makes every commit durable with an fsync, so one
//! transaction per device batch would cap the service at the disk's fsync rate. Batches arriving
//! together are written by one task in one transaction instead, each request still waiting
//! until its readings are durable; the access log does the same for its entries.

use std::sync::Arc;

use enshin_store::Store;
use enshin_store::keyring::Keyring;
use enshin_store::monitoring::{Batch, Ingested};
use tokio::sync::{mpsc, oneshot};

use crate::error::ApiError;

/// Most batches written in one transaction.
const GROUP_MAX: usize = 64;
/// Batches waiting to be written before senders wait for room.
const QUEUE: usize = 1024;

struct Job {
    batch: Batch,
    done: oneshot::Sender<Result<Ingested, ()>>,
}

/// The handle requests give their batches to.
#[derive(Clone)]
pub struct Ingest {
    jobs: mpsc::Sender<Job>,
}

impl Ingest {
    /// Starts the writer; it ends when the last handle is dropped.
    pub fn start(store: Store, keyring: Arc<Keyring>) -> Self {
        let (jobs, mut queue) = mpsc::channel::<Job>(QUEUE);
        tokio::spawn(async move {
            while let Some(first) = queue.recv().await {
                let mut group = vec![first];
                while group.len() < GROUP_MAX {
                    match queue.try_recv() {
                        Ok(job) => group.push(job),
                        Err(_) => break,
                    }
                }
                let batches: Vec<Batch> = group.iter().map(|j| j.batch.clone()).collect();
                match store.add_reading_batches(&keyring, &batches).await {
                    Ok(results) => {
                        for (job, result) in group.into_iter().zip(results) {
                            let _ = job.done.send(Ok(result));
                        }
                    }
                    Err(error) => {
                        tracing::error!(%error, batches = group.len(), "readings not stored");
                        for job in group {
                            let _ = job.done.send(Err(()));
                        }
                    }
                }
            }
        });
        Self { jobs }
    }

    /// Stores a batch; answers once it is durable.
    pub async fn add(&self, batch: Batch) -> Result<Ingested, ApiError> {
        let (done, stored) = oneshot::channel();
        let unavailable = || ApiError::unavailable(&"the readings writer stopped");
        self.jobs
            .send(Job { batch, done })
            .await
            .map_err(|_| unavailable())?;
        match stored.await {
            Ok(Ok(ingested)) => Ok(ingested),
            Ok(Err(())) => Err(ApiError::unavailable(&"readings not stored")),
            Err(_) => Err(unavailable()),
        }
    }
}
