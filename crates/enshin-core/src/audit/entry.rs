//! One access-log entry (LOG-1): who, when, what, the outcome, from where, with ids only (never an
//! A-class value), and its canonical bytes, which chain it to the entry before (LOG-4).

use serde::{Deserialize, Serialize};

use super::merkle::{Hash, leaf_hash};
use crate::encoding::{from_hex, to_hex};

/// How a request ended, for the reviewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Done (2xx, 3xx).
    Allowed,
    /// Refused: not logged in, not permitted, not found, throttled, refused certificate.
    Denied,
    /// Broken: bad input, or a failure of the service.
    Failed,
}

impl Outcome {
    /// The outcome an HTTP status stands for.
    pub fn of_status(status: u16) -> Self {
        match status {
            100..=399 => Self::Allowed,
            401 | 403 | 404 | 429 => Self::Denied,
            _ => Self::Failed,
        }
    }

    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Denied => "denied",
            Self::Failed => "failed",
        }
    }
}

/// What one entry records. Every field is an id, a code or a time: nothing a patient typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// When, unix ms UTC.
    pub at_ms: i64,
    /// `patient`, `clinic` or `operator`.
    pub listener: String,
    /// What was done: method and route pattern (`POST /api/v1/members/{id}/disable`), or an
    /// event (`tls_handshake`).
    pub action: String,
    /// The kind of thing acted on (`member`, `session`, …).
    pub target_type: Option<String>,
    /// Its id.
    pub target_id: Option<String>,
    /// How it ended.
    pub outcome: Outcome,
    /// The HTTP status (0 for events without one).
    pub status: u16,
    /// The principal's account id, once known.
    pub principal_id: Option<String>,
    /// `member`, `patient` or `operator`.
    pub principal_kind: Option<String>,
    /// The member's role.
    pub role: Option<String>,
    /// The member's clinic.
    pub clinic_id: Option<String>,
    /// Source IP address.
    pub source: Option<String>,
    /// The client certificate's serial (clinic listener).
    pub cert_serial: Option<String>,
    /// SHA-256 of the session token (as stored in `sessions`), never the token.
    pub session_hash: Option<String>,
    /// The request id sent back as `x-request-id`.
    pub request_id: Option<String>,
    /// Access beyond the principal's standing rights: `grant:<id>` or `break_glass:<id>` (an
    /// operator reading patient data, DATA-4), `emergency` (an emergency account, AVAIL-4).
    /// Absent otherwise, so entries written before it existed keep their bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<String>,
    /// The patient records a list answer showed (the registry, the worklist, a search, an
    /// export): each is a read (LOG-1). Absent otherwise, like `access`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<String>,
}

/// An entry as written: by which writer, at which index, after which leaf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    /// The writer (one per instance).
    pub writer: String,
    /// Position in the writer's log, from 0.
    pub index: u64,
    /// Leaf hash of the entry before (zeros for the first), hex: the hash chain.
    pub prev: String,
    /// The entry.
    pub entry: Entry,
}

/// The hash chain's start.
pub const NO_PREVIOUS: Hash = [0u8; 32];

impl Sealed {
    /// Seals `entry` as entry `index` of `writer`, after the leaf `prev`.
    pub fn new(writer: &str, index: u64, prev: &Hash, entry: Entry) -> Self {
        Self {
            writer: writer.to_owned(),
            index,
            prev: to_hex(prev),
            entry,
        }
    }

    /// The canonical bytes: compact JSON in field order. They are what is stored and hashed.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serialising plain strings, numbers and options cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Reads stored bytes back.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        serde_json::from_slice(bytes).ok()
    }

    /// The previous leaf as bytes.
    pub fn prev_hash(&self) -> Option<Hash> {
        from_hex(&self.prev)?.try_into().ok()
    }

    /// This entry's leaf hash.
    pub fn leaf(&self) -> Hash {
        leaf_hash(&self.to_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> Entry {
        Entry {
            at_ms: 1_795_790_000_000,
            listener: "clinic".into(),
            action: "POST /api/v1/members/{id}/disable".into(),
            target_type: Some("member".into()),
            target_id: Some("0190-aaaa".into()),
            outcome: Outcome::Allowed,
            status: 204,
            principal_id: Some("0190-bbbb".into()),
            principal_kind: Some("member".into()),
            role: Some("admin".into()),
            clinic_id: Some("0190-cccc".into()),
            source: Some("127.0.0.1".into()),
            cert_serial: Some("4a".into()),
            session_hash: Some("ab".repeat(32)),
            request_id: Some("0190-dddd".into()),
            access: None,
            subjects: Vec::new(),
        }
    }

    #[test]
    fn canonical_bytes_round_trip_and_bind_writer_index_and_chain() {
        let sealed = Sealed::new("w1", 7, &[9u8; 32], sample());
        let bytes = sealed.to_bytes();
        assert!(bytes.starts_with(br#"{"writer":"w1","index":7,"prev":"0909"#));
        assert_eq!(Sealed::from_bytes(&bytes).unwrap(), sealed);
        assert_eq!(sealed.prev_hash(), Some([9u8; 32]));
        let other_index = Sealed::new("w1", 8, &[9u8; 32], sample());
        assert_ne!(sealed.leaf(), other_index.leaf());
        assert!(Sealed::from_bytes(b"{not json").is_none());
    }

    #[test]
    fn statuses_map_to_outcomes() {
        assert_eq!(Outcome::of_status(204), Outcome::Allowed);
        assert_eq!(Outcome::of_status(303), Outcome::Allowed);
        assert_eq!(Outcome::of_status(403), Outcome::Denied);
        assert_eq!(Outcome::of_status(429), Outcome::Denied);
        assert_eq!(Outcome::of_status(422), Outcome::Failed);
        assert_eq!(Outcome::of_status(503), Outcome::Failed);
    }
}
