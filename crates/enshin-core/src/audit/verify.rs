//! `enshin audit verify` (LOG-4): replays one writer's entries in stored order, checking the index
//! sequence, each entry's own claims (writer, index), the hash chain and every signed checkpoint,
//! and names the first problem it meets.

use std::collections::BTreeMap;

use super::checkpoint::Checkpoint;
use super::entry::{NO_PREVIOUS, Sealed};
use super::merkle::{Frontier, Hash};

/// The first thing found wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Finding {
    /// The stored bytes at this index are not an entry.
    #[error("entry {index} is unreadable")]
    Unreadable {
        /// The index.
        index: u64,
    },
    /// The entry at this index was changed: the next entry's hash chain does not match it.
    #[error("entry {index} was edited (the hash chain breaks after it)")]
    Edited {
        /// The index.
        index: u64,
    },
    /// No entry is stored at this index, but later ones are.
    #[error("entry {index} was deleted")]
    Deleted {
        /// The index.
        index: u64,
    },
    /// The entry stored here says it belongs elsewhere: inserted before it, or reordered.
    #[error("entries were inserted or reordered at index {index}")]
    Misplaced {
        /// The first index out of place.
        index: u64,
    },
    /// Fewer entries are stored than a signed checkpoint covers.
    #[error("the log is truncated: {stored} entries stored, a signed checkpoint covers {signed}")]
    Truncated {
        /// Entries stored.
        stored: u64,
        /// Entries a checkpoint covers.
        signed: u64,
    },
    /// A checkpoint's signature is not the writer's.
    #[error("the checkpoint at size {size} is not signed by the writer's key")]
    ForgedCheckpoint {
        /// Its size.
        size: u64,
    },
    /// The entries up to `size` are not those the writer signed; the change lies at or after
    /// `from` (the last checkpoint that matched).
    #[error("entries {from}..{size} differ from what the writer signed at size {size}")]
    RootMismatch {
        /// Size of the last matching checkpoint (0 if none).
        from: u64,
        /// Size of the checkpoint that does not match.
        size: u64,
    },
}

impl Finding {
    /// The first index concerned.
    pub fn index(&self) -> u64 {
        match self {
            Self::Unreadable { index }
            | Self::Edited { index }
            | Self::Deleted { index }
            | Self::Misplaced { index } => *index,
            Self::Truncated { stored, .. } => *stored,
            Self::ForgedCheckpoint { size } => *size,
            Self::RootMismatch { from, .. } => *from,
        }
    }
}

/// What a verification established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Entries read.
    pub entries: u64,
    /// Signed checkpoints that matched.
    pub checkpoints: u64,
    /// The head at the last matching checkpoint (size, root).
    pub last_signed: Option<(u64, Hash)>,
    /// The first problem, if any.
    pub finding: Option<Finding>,
}

/// A verification of one writer's log, fed entry by entry in stored index order.
pub struct Verifier {
    writer: String,
    expected: u64,
    prev: Hash,
    frontier: Frontier,
    /// Checkpoints with valid signatures, by size (several may share a size).
    checkpoints: BTreeMap<u64, Vec<Hash>>,
    matched: u64,
    last_signed: Option<(u64, Hash)>,
    finding: Option<Finding>,
}

impl Verifier {
    /// Starts a verification; checkpoints whose signature fails are a finding at once.
    pub fn new(writer: &str, public_key: &[u8], checkpoints: &[(Checkpoint, Vec<u8>)]) -> Self {
        let mut finding = None;
        let mut by_size: BTreeMap<u64, Vec<Hash>> = BTreeMap::new();
        for (cp, signature) in checkpoints {
            if cp.writer != writer {
                continue;
            }
            if cp.verify(public_key, signature) {
                by_size.entry(cp.size).or_default().push(cp.root);
            } else if finding.is_none() {
                finding = Some(Finding::ForgedCheckpoint { size: cp.size });
            }
        }
        Self {
            writer: writer.to_owned(),
            expected: 0,
            prev: NO_PREVIOUS,
            frontier: Frontier::default(),
            checkpoints: by_size,
            matched: 0,
            last_signed: None,
            finding,
        }
    }

    /// Whether verification has found a problem (then further entries are not needed).
    pub fn failed(&self) -> bool {
        self.finding.is_some()
    }

    /// Feeds the entry stored at `index`.
    pub fn push(&mut self, index: u64, bytes: &[u8]) {
        if self.finding.is_some() {
            return;
        }
        if index != self.expected {
            self.finding = Some(Finding::Deleted {
                index: self.expected,
            });
            return;
        }
        let Some(sealed) = Sealed::from_bytes(bytes) else {
            self.finding = Some(Finding::Unreadable { index });
            return;
        };
        if sealed.writer != self.writer || sealed.index != index {
            // An entry that claims a smaller index was pushed along by an insertion before it.
            let at = if sealed.writer == self.writer {
                sealed.index.min(index)
            } else {
                index
            };
            self.finding = Some(Finding::Misplaced { index: at });
            return;
        }
        if sealed.prev_hash() != Some(self.prev) {
            self.finding = Some(match index {
                0 => Finding::Edited { index: 0 },
                _ => Finding::Edited { index: index - 1 },
            });
            return;
        }
        let leaf = super::merkle::leaf_hash(bytes);
        self.frontier.push(leaf);
        self.prev = leaf;
        self.expected += 1;
        let size = self.frontier.size();
        if let Some(roots) = self.checkpoints.get(&size) {
            let root = self.frontier.root();
            if roots.iter().all(|r| *r == root) {
                self.matched += roots.len() as u64;
                self.last_signed = Some((size, root));
            } else {
                self.finding = Some(Finding::RootMismatch {
                    from: self.last_signed.map_or(0, |(s, _)| s),
                    size,
                });
            }
        }
    }

    /// Ends the verification.
    pub fn finish(mut self) -> Report {
        let stored = self.expected;
        if self.finding.is_none()
            && let Some((&signed, _)) = self.checkpoints.range(stored + 1..).next_back()
        {
            self.finding = Some(Finding::Truncated { stored, signed });
        }
        Report {
            entries: stored,
            checkpoints: self.matched,
            last_signed: self.last_signed,
            finding: self.finding,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::checkpoint::WriterKey;
    use super::super::entry::{Entry, Outcome};
    use super::super::merkle::Frontier;
    use super::*;

    fn entry(i: u64) -> Entry {
        Entry {
            at_ms: 1_000 + i as i64,
            listener: "clinic".into(),
            action: "GET /api/v1/me".into(),
            target_type: None,
            target_id: None,
            outcome: Outcome::Allowed,
            status: 200,
            principal_id: Some(format!("p{i}")),
            principal_kind: Some("member".into()),
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

    /// Signed checkpoints as stored: the checkpoint and its signature.
    type Signed = Vec<(Checkpoint, Vec<u8>)>;

    /// A log of `n` entries with checkpoints every `every` entries and at the end, and the
    /// writer's public key.
    fn log(n: u64, every: u64) -> (Vec<Vec<u8>>, Signed, Vec<u8>) {
        let key = WriterKey::from_pkcs8(&WriterKey::generate().unwrap()).unwrap();
        let mut prev = NO_PREVIOUS;
        let mut frontier = Frontier::default();
        let mut rows = Vec::new();
        let mut cps = Vec::new();
        for i in 0..n {
            let sealed = Sealed::new("w", i, &prev, entry(i));
            prev = sealed.leaf();
            frontier.push(prev);
            rows.push(sealed.to_bytes());
            if (i + 1) % every == 0 || i + 1 == n {
                let cp = Checkpoint {
                    writer: "w".into(),
                    size: i + 1,
                    root: frontier.root(),
                    at_ms: i as i64,
                };
                let sig = cp.sign(&key);
                cps.push((cp, sig));
            }
        }
        (rows, cps, key.public_key())
    }

    fn run(rows: &[(u64, Vec<u8>)], cps: &[(Checkpoint, Vec<u8>)], public: &[u8]) -> Report {
        let mut v = Verifier::new("w", public, cps);
        for (i, bytes) in rows {
            v.push(*i, bytes);
        }
        v.finish()
    }

    fn indexed(rows: &[Vec<u8>]) -> Vec<(u64, Vec<u8>)> {
        rows.iter()
            .cloned()
            .enumerate()
            .map(|(i, r)| (i as u64, r))
            .collect()
    }

    #[test]
    fn an_untouched_log_verifies() {
        let (rows, cps, public) = log(100, 10);
        let report = run(&indexed(&rows), &cps, &public);
        assert_eq!(report.finding, None);
        assert_eq!((report.entries, report.checkpoints), (100, 10));
    }

    #[test]
    fn each_kind_of_tampering_is_named_with_its_index() {
        let (rows, cps, public) = log(100, 10);
        // Edit entry 42's body (the stored bytes change, nothing else).
        let mut edited = indexed(&rows);
        edited[42].1 = String::from_utf8(edited[42].1.clone())
            .unwrap()
            .replace("\"p42\"", "\"p99\"")
            .into_bytes();
        assert_eq!(
            run(&edited, &cps, &public).finding,
            Some(Finding::Edited { index: 42 })
        );
        // Delete entry 42.
        let mut deleted = indexed(&rows);
        deleted.remove(42);
        assert_eq!(
            run(&deleted, &cps, &public).finding,
            Some(Finding::Deleted { index: 42 })
        );
        // Insert a forged entry at 42, pushing the rest along.
        let forged = Sealed::new(
            "w",
            42,
            &Sealed::from_bytes(&rows[41]).unwrap().leaf(),
            entry(7),
        );
        let mut shifted: Vec<Vec<u8>> = rows.clone();
        shifted.insert(42, forged.to_bytes());
        assert_eq!(
            run(&indexed(&shifted), &cps, &public).finding,
            Some(Finding::Misplaced { index: 42 })
        );
        // Swap entries 42 and 43.
        let mut swapped = rows.clone();
        swapped.swap(42, 43);
        assert_eq!(
            run(&indexed(&swapped), &cps, &public).finding,
            Some(Finding::Misplaced { index: 42 })
        );
        // Drop the last 15 entries.
        let truncated = indexed(&rows[..85]);
        assert_eq!(
            run(&truncated, &cps, &public).finding,
            Some(Finding::Truncated {
                stored: 85,
                signed: 100
            })
        );
    }

    #[test]
    fn a_consistent_rewrite_is_caught_by_the_signed_checkpoints() {
        let (rows, cps, public) = log(100, 10);
        // Rewrite everything from entry 55 on, chain and all: only the signatures can tell.
        let mut prev = Sealed::from_bytes(&rows[54]).unwrap().leaf();
        let mut rewritten = rows[..55].to_vec();
        for i in 55..100 {
            let sealed = Sealed::new("w", i, &prev, entry(i + 1000));
            prev = sealed.leaf();
            rewritten.push(sealed.to_bytes());
        }
        assert_eq!(
            run(&indexed(&rewritten), &cps, &public).finding,
            Some(Finding::RootMismatch { from: 50, size: 60 })
        );
        // A checkpoint re-signed with another key is refused.
        let thief = WriterKey::from_pkcs8(&WriterKey::generate().unwrap()).unwrap();
        let mut forged = cps.clone();
        forged[9].1 = forged[9].0.sign(&thief);
        assert_eq!(
            run(&indexed(&rows), &forged, &public).finding,
            Some(Finding::ForgedCheckpoint { size: 100 })
        );
    }
}
