//! An inclusion proof that stands on its own (`enshin audit prove`): the entry, its audit path,
//! the signed checkpoint it leads to and the writer's public key. Anyone can check it offline.

use serde::{Deserialize, Serialize};

use super::checkpoint::Checkpoint;
use super::merkle::{Hash, leaf_hash, verify_inclusion};
use crate::encoding::{from_hex, to_hex};

/// A self-contained inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionProof {
    /// The writer.
    pub writer: String,
    /// The writer's Ed25519 public key, hex (its SHA-256 prefix is the writer id).
    pub public_key: String,
    /// The entry's index.
    pub index: u64,
    /// The entry's canonical bytes.
    pub entry: String,
    /// The audit path, hex, leaf side first.
    pub path: Vec<String>,
    /// Size of the signed tree.
    pub size: u64,
    /// Its head, hex.
    pub root: String,
    /// When the checkpoint was signed, unix ms.
    pub checkpoint_at_ms: i64,
    /// The writer's signature over the checkpoint, hex.
    pub signature: String,
}

/// Why a proof does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// A hex field is not hex of the right length.
    #[error("the proof is malformed ({0})")]
    Malformed(&'static str),
    /// The public key does not belong to the named writer.
    #[error("the public key is not writer {0}'s")]
    WrongKey(String),
    /// The checkpoint is not signed by the key.
    #[error("the checkpoint signature does not verify")]
    Signature,
    /// The path does not lead from the entry to the signed head.
    #[error("the entry is not in the signed tree at that index")]
    NotIncluded,
}

fn hash(hex: &str, what: &'static str) -> Result<Hash, ProofError> {
    from_hex(hex)
        .and_then(|b| b.try_into().ok())
        .ok_or(ProofError::Malformed(what))
}

impl InclusionProof {
    /// Builds a proof from its parts.
    pub fn new(
        checkpoint: &Checkpoint,
        signature: &[u8],
        public_key: &[u8],
        index: u64,
        entry: &[u8],
        path: &[Hash],
    ) -> Self {
        Self {
            writer: checkpoint.writer.clone(),
            public_key: to_hex(public_key),
            index,
            entry: String::from_utf8_lossy(entry).into_owned(),
            path: path.iter().map(|h| to_hex(h)).collect(),
            size: checkpoint.size,
            root: to_hex(&checkpoint.root),
            checkpoint_at_ms: checkpoint.at_ms,
            signature: to_hex(signature),
        }
    }

    /// Checks the proof. `writer_id` derives a writer id from a public key, so that a proof
    /// cannot bring a key of its own under another writer's name.
    pub fn check(&self, writer_id: impl Fn(&[u8]) -> String) -> Result<(), ProofError> {
        let public_key = from_hex(&self.public_key).ok_or(ProofError::Malformed("public_key"))?;
        if writer_id(&public_key) != self.writer {
            return Err(ProofError::WrongKey(self.writer.clone()));
        }
        let checkpoint = Checkpoint {
            writer: self.writer.clone(),
            size: self.size,
            root: hash(&self.root, "root")?,
            at_ms: self.checkpoint_at_ms,
        };
        let signature = from_hex(&self.signature).ok_or(ProofError::Malformed("signature"))?;
        if !checkpoint.verify(&public_key, &signature) {
            return Err(ProofError::Signature);
        }
        let path = self
            .path
            .iter()
            .map(|p| hash(p, "path"))
            .collect::<Result<Vec<_>, _>>()?;
        let leaf = leaf_hash(self.entry.as_bytes());
        if verify_inclusion(&leaf, self.index, self.size, &path, &checkpoint.root) {
            Ok(())
        } else {
            Err(ProofError::NotIncluded)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::checkpoint::WriterKey;
    use super::super::merkle::{inclusion_proof, root};
    use super::*;

    fn id(key: &[u8]) -> String {
        to_hex(&key[..4])
    }

    #[test]
    fn a_proof_checks_offline_and_any_change_fails() {
        let key = WriterKey::from_pkcs8(&WriterKey::generate().unwrap()).unwrap();
        let bodies: Vec<Vec<u8>> = (0..13).map(|i| format!("entry {i}").into_bytes()).collect();
        let leaves: Vec<Hash> = bodies.iter().map(|b| leaf_hash(b)).collect();
        let cp = Checkpoint {
            writer: id(&key.public_key()),
            size: 13,
            root: root(&leaves),
            at_ms: 9,
        };
        let path = inclusion_proof(&leaves, 6).unwrap();
        let proof =
            InclusionProof::new(&cp, &cp.sign(&key), &key.public_key(), 6, &bodies[6], &path);
        assert_eq!(proof.check(id), Ok(()));
        let json = serde_json::to_string(&proof).unwrap();
        let back: InclusionProof = serde_json::from_str(&json).unwrap();
        assert_eq!(back.check(id), Ok(()));

        let edited = InclusionProof {
            entry: "entry 7".into(),
            ..proof.clone()
        };
        assert_eq!(edited.check(id), Err(ProofError::NotIncluded));
        let moved = InclusionProof {
            index: 7,
            ..proof.clone()
        };
        assert_eq!(moved.check(id), Err(ProofError::NotIncluded));
        let resized = InclusionProof {
            size: 14,
            ..proof.clone()
        };
        assert_eq!(resized.check(id), Err(ProofError::Signature));
        let other = WriterKey::from_pkcs8(&WriterKey::generate().unwrap()).unwrap();
        let rekeyed = InclusionProof {
            public_key: to_hex(&other.public_key()),
            ..proof.clone()
        };
        assert!(matches!(rekeyed.check(id), Err(ProofError::WrongKey(_))));
        let junk = InclusionProof {
            root: "zz".into(),
            ..proof
        };
        assert_eq!(junk.check(id), Err(ProofError::Malformed("root")));
    }
}
