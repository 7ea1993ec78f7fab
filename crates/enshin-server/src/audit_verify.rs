//! `enshin audit verify` and `enshin audit prove` (LOG-4): every writer's log replayed against
//! its signed checkpoints, from the store and from this instance's checkpoint file.

use std::path::Path;

use enshin_core::audit::checkpoint::Checkpoint;
use enshin_core::audit::merkle::{Hash, inclusion_proof, leaf_hash};
use enshin_core::audit::proof::InclusionProof;
use enshin_core::audit::verify::{Report, Verifier};
use enshin_core::encoding::from_hex;
use enshin_store::audit::AuditStore;
use serde::Deserialize;

/// Entries read per query while verifying.
const PAGE: u32 = 50_000;

/// A checkpoint as one line of the checkpoint file.
#[derive(Deserialize)]
struct FileCheckpoint {
    writer: String,
    size: u64,
    root: String,
    at_ms: i64,
    signature: String,
}

/// The result of a verification of the whole log.
#[derive(Debug)]
pub struct LogReport {
    /// One report per writer.
    pub writers: Vec<(String, Report)>,
    /// Lines of the checkpoint file that are not checkpoints.
    pub unreadable_file_lines: Vec<usize>,
}

impl LogReport {
    /// Whether nothing was found wrong.
    pub fn ok(&self) -> bool {
        self.unreadable_file_lines.is_empty()
            && self.writers.iter().all(|(_, r)| r.finding.is_none())
    }
}

/// Why verification could not run.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The store failed.
    #[error("reading the access log")]
    Store(#[from] sqlx::Error),
    /// No such writer or index.
    #[error("{0}")]
    NotFound(String),
}

fn stored_checkpoint(
    writer: &str,
    size: u64,
    root: &str,
    at_ms: i64,
    signature: Vec<u8>,
) -> Option<(Checkpoint, Vec<u8>)> {
    let root: Hash = from_hex(root)?.try_into().ok()?;
    Some((
        Checkpoint {
            writer: writer.to_owned(),
            size,
            root,
            at_ms,
        },
        signature,
    ))
}

/// Reads the checkpoint file (missing is empty); returns the checkpoints and the bad lines.
fn file_checkpoints(path: &Path) -> (Vec<(Checkpoint, Vec<u8>)>, Vec<usize>) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut found = Vec::new();
    let mut bad = Vec::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let parsed = serde_json::from_str::<FileCheckpoint>(line)
            .ok()
            .and_then(|c| {
                let signature = from_hex(&c.signature)?;
                stored_checkpoint(&c.writer, c.size, &c.root, c.at_ms, signature)
            });
        match parsed {
            Some(cp) => found.push(cp),
            None => bad.push(n + 1),
        }
    }
    (found, bad)
}

async fn checkpoints_of(
    store: &AuditStore,
    writer: &str,
    from_file: &[(Checkpoint, Vec<u8>)],
) -> Result<Vec<(Checkpoint, Vec<u8>)>, sqlx::Error> {
    let mut all: Vec<(Checkpoint, Vec<u8>)> = store
        .checkpoints(writer)
        .await?
        .into_iter()
        .filter_map(|c| stored_checkpoint(&c.writer, c.size, &c.root, c.at_ms, c.signature))
        .collect();
    for cp in from_file.iter().filter(|(c, _)| c.writer == writer) {
        if !all.contains(cp) {
            all.push(cp.clone());
        }
    }
    Ok(all)
}

/// Verifies every writer's log.
pub async fn verify(store: &AuditStore, checkpoint_file: &Path) -> Result<LogReport, VerifyError> {
    let (from_file, unreadable_file_lines) = file_checkpoints(checkpoint_file);
    let mut writers = Vec::new();
    for (writer, public_key) in store.writers().await? {
        let checkpoints = checkpoints_of(store, &writer, &from_file).await?;
        let mut verifier = Verifier::new(&writer, &public_key, &checkpoints);
        let mut from = 0;
        while !verifier.failed() {
            let page = store.entries_page(&writer, from, PAGE).await?;
            let Some((last, _)) = page.last() else { break };
            from = last + 1;
            for (index, body) in &page {
                verifier.push(*index, body.as_bytes());
            }
        }
        writers.push((writer, verifier.finish()));
    }
    Ok(LogReport {
        writers,
        unreadable_file_lines,
    })
}

/// An inclusion proof of entry `index` of `writer` (the only writer if `None`) under the
/// writer's latest checkpoint that covers it.
pub async fn prove(
    store: &AuditStore,
    writer: Option<&str>,
    index: u64,
) -> Result<InclusionProof, VerifyError> {
    let writers = store.writers().await?;
    let (writer, public_key) = match writer {
        Some(id) => writers.into_iter().find(|(w, _)| w == id),
        None if writers.len() == 1 => writers.into_iter().next(),
        None => {
            return Err(VerifyError::NotFound(
                "several writers exist; name one with --writer".into(),
            ));
        }
    }
    .ok_or_else(|| VerifyError::NotFound("no such writer".into()))?;
    let checkpoints = checkpoints_of(store, &writer, &[]).await?;
    let (checkpoint, signature) = checkpoints
        .into_iter()
        .filter(|(c, _)| c.size > index)
        .max_by_key(|(c, _)| (c.size, c.at_ms))
        .ok_or_else(|| {
            VerifyError::NotFound(format!(
                "no signed checkpoint covers entry {index} yet (checkpoints come every few seconds)"
            ))
        })?;
    let mut leaves = Vec::new();
    let mut entry = None;
    let mut from = 0;
    while from < checkpoint.size {
        let page = store.entries_page(&writer, from, PAGE).await?;
        if page.is_empty() {
            break;
        }
        for (i, body) in page {
            if i >= checkpoint.size {
                break;
            }
            if i == index {
                entry = Some(body.clone());
            }
            leaves.push(leaf_hash(body.as_bytes()));
            from = i + 1;
        }
    }
    let entry = entry.ok_or_else(|| VerifyError::NotFound(format!("no entry {index}")))?;
    let index_usize = usize::try_from(index).unwrap_or(usize::MAX);
    let path = inclusion_proof(&leaves, index_usize)
        .ok_or_else(|| VerifyError::NotFound(format!("no entry {index}")))?;
    Ok(InclusionProof::new(
        &checkpoint,
        &signature,
        &public_key,
        index,
        entry.as_bytes(),
        &path,
    ))
}
