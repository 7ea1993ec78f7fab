//! Signed checkpoints (LOG-4): a writer's tree size and head at a time, signed with the writer's
//! Ed25519 key. Whoever edits the database without the key cannot make a matching checkpoint.

use ring::rand::SystemRandom;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};

use super::merkle::Hash;
use crate::encoding::to_hex;

/// A tree head of one writer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The writer.
    pub writer: String,
    /// Number of entries covered.
    pub size: u64,
    /// The tree head at that size.
    pub root: Hash,
    /// When it was made, unix ms.
    pub at_ms: i64,
}

impl Checkpoint {
    /// The bytes that are signed: a versioned text, one field per line.
    pub fn message(&self) -> Vec<u8> {
        format!(
            "enshin-audit-checkpoint/v1\n{}\n{}\n{}\n{}\n",
            self.writer,
            self.size,
            to_hex(&self.root),
            self.at_ms
        )
        .into_bytes()
    }

    /// The writer's signature over [`Checkpoint::message`].
    pub fn sign(&self, key: &WriterKey) -> Vec<u8> {
        key.pair.sign(&self.message()).as_ref().to_vec()
    }

    /// Whether `signature` is the signature of `public_key` over this checkpoint.
    pub fn verify(&self, public_key: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&ED25519, public_key)
            .verify(&self.message(), signature)
            .is_ok()
    }
}

/// A writer's Ed25519 signing key.
pub struct WriterKey {
    pair: Ed25519KeyPair,
}

/// The key could not be made or read.
#[derive(Debug, thiserror::Error)]
#[error("the audit writer key is not a valid Ed25519 PKCS#8 key")]
pub struct WriterKeyError;

impl WriterKey {
    /// A new key, as PKCS#8 bytes to keep (the writer's identity).
    pub fn generate() -> Result<Vec<u8>, WriterKeyError> {
        Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map(|doc| doc.as_ref().to_vec())
            .map_err(|_| WriterKeyError)
    }

    /// Loads a key from PKCS#8 bytes.
    pub fn from_pkcs8(bytes: &[u8]) -> Result<Self, WriterKeyError> {
        Ed25519KeyPair::from_pkcs8(bytes)
            .map(|pair| Self { pair })
            .map_err(|_| WriterKeyError)
    }

    /// The public key, registered in the audit store.
    pub fn public_key(&self) -> Vec<u8> {
        self.pair.public_key().as_ref().to_vec()
    }

    /// Signs a document of the service (a deletion certificate); `message` must begin with its
    /// own format line, so that it can never be taken for a checkpoint.
    pub fn sign_document(&self, message: &[u8]) -> Vec<u8> {
        self.pair.sign(message).as_ref().to_vec()
    }
}

/// Whether `signature` is `public_key`'s Ed25519 signature over `message`.
pub fn verify_document(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    UnparsedPublicKey::new(&ED25519, public_key)
        .verify(message, signature)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_verifies_with_its_writers_key_only() {
        let key = WriterKey::from_pkcs8(&WriterKey::generate().unwrap()).unwrap();
        let other = WriterKey::from_pkcs8(&WriterKey::generate().unwrap()).unwrap();
        let cp = Checkpoint {
            writer: "w1".into(),
            size: 10,
            root: [7u8; 32],
            at_ms: 5,
        };
        let sig = cp.sign(&key);
        assert!(cp.verify(&key.public_key(), &sig));
        assert!(!cp.verify(&other.public_key(), &sig));
        let bigger = Checkpoint {
            size: 11,
            ..cp.clone()
        };
        assert!(
            !bigger.verify(&key.public_key(), &sig),
            "the size is signed"
        );
        assert!(WriterKey::from_pkcs8(b"junk").is_err());
    }
}
