//! The manifest of a clinic's export (DATA-6): every file of the ZIP with its size and SHA-256,
//! signed by the service, so that whoever holds a copy can tell it is whole and unaltered.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::audit::checkpoint::{WriterKey, verify_document};

/// The manifest's format, first field and first line of the signed message.
pub const MANIFEST_FORMAT: &str = "enshin-export/v1";
/// The manifest's name inside the ZIP.
pub const MANIFEST: &str = "manifest.json";
/// The signature's name inside the ZIP: base64 of the Ed25519 signature over [`message`].
pub const SIGNATURE: &str = "manifest.sig";

/// One file of the export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestFile {
    /// Its path inside the ZIP.
    pub path: String,
    /// Its size.
    pub bytes: u64,
    /// Its SHA-256, hex.
    pub sha256: String,
}

/// Who made the export and on whose word.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requested {
    /// `clinic_admin` (from the clinic's own pages) or `operator` (on the clinic's written
    /// request).
    pub by: String,
    /// The account or operator that made it.
    pub principal: String,
    /// The reference of the clinic's written request, for an operator's export.
    pub reference: Option<String>,
}

/// What the export holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// [`MANIFEST_FORMAT`].
    pub format: String,
    /// The clinic.
    pub clinic_id: String,
    /// Its name.
    pub clinic_name: String,
    /// When it was made, unix ms.
    pub created_at: i64,
    /// Who asked for it.
    pub requested: Requested,
    /// The access-log writer whose key signed it.
    pub signer: String,
    /// That key, base64.
    pub public_key: String,
    /// Every other file, in the order written.
    pub files: Vec<ManifestFile>,
}

/// Why an export does not check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    /// No manifest, or not one of this format.
    #[error("not an enshin export: {0}")]
    Format(String),
    /// The key or signature is not base64 of the right size.
    #[error("the manifest's key or signature is malformed")]
    Malformed,
    /// The signature does not match the manifest.
    #[error("the manifest's signature does not match: it was altered or not signed by its key")]
    Signature,
    /// A listed file is missing.
    #[error("{0} is listed in the manifest but missing")]
    Missing(String),
    /// A file is not listed.
    #[error("{0} is not listed in the manifest")]
    Unlisted(String),
    /// A file's content differs from its listed hash or size.
    #[error("{0} differs from its SHA-256 in the manifest")]
    Altered(String),
    /// The written request's reference is not a short code.
    #[error(
        "the request reference must be 1–64 letters, digits, `-`, `_`, `.` or `/` (the number of the clinic's letter, never a name)"
    )]
    Reference,
}

/// The reference of a clinic's written request for an operator's export: a short code, since
/// it goes into the access log and the manifest, where no personal data may go.
pub fn request_reference(typed: &str) -> Result<String, ExportError> {
    let r = typed.trim();
    let fits = (1..=64).contains(&r.len())
        && r.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'));
    if fits {
        Ok(r.to_owned())
    } else {
        Err(ExportError::Reference)
    }
}

/// The signed bytes: the format line, then the manifest file exactly as stored.
pub fn message(manifest_bytes: &[u8]) -> Vec<u8> {
    let mut out = format!("{MANIFEST_FORMAT}\n").into_bytes();
    out.extend_from_slice(manifest_bytes);
    out
}

/// The signature file's content for the stored manifest bytes.
pub fn sign(manifest_bytes: &[u8], key: &WriterKey) -> String {
    STANDARD.encode(key.sign_document(&message(manifest_bytes)))
}

impl Manifest {
    /// Reads the stored manifest and checks its signature against the key it names. Whether
    /// that key is the service's is for the caller to check (the access log's writers).
    pub fn verify(manifest_bytes: &[u8], signature: &str) -> Result<Self, ExportError> {
        let manifest: Self = serde_json::from_slice(manifest_bytes)
            .map_err(|e| ExportError::Format(format!("{MANIFEST}: {e}")))?;
        if manifest.format != MANIFEST_FORMAT {
            return Err(ExportError::Format(format!("format {:?}", manifest.format)));
        }
        let key = STANDARD
            .decode(&manifest.public_key)
            .map_err(|_| ExportError::Malformed)?;
        let signature = STANDARD
            .decode(signature.trim())
            .map_err(|_| ExportError::Malformed)?;
        if key.len() != 32 || signature.len() != 64 {
            return Err(ExportError::Malformed);
        }
        if verify_document(&key, &message(manifest_bytes), &signature) {
            Ok(manifest)
        } else {
            Err(ExportError::Signature)
        }
    }

    /// Compares the files found (path → size and SHA-256, hex) with the list, the manifest and
    /// its signature left out; every difference is named.
    pub fn check(&self, found: &BTreeMap<String, (u64, String)>) -> Vec<ExportError> {
        let mut problems = Vec::new();
        let mut listed = BTreeMap::new();
        for f in &self.files {
            listed.insert(f.path.as_str(), f);
            match found.get(&f.path) {
                None => problems.push(ExportError::Missing(f.path.clone())),
                Some((bytes, sha)) if *bytes != f.bytes || *sha != f.sha256 => {
                    problems.push(ExportError::Altered(f.path.clone()))
                }
                Some(_) => {}
            }
        }
        for path in found.keys() {
            if !listed.contains_key(path.as_str()) && path != MANIFEST && path != SIGNATURE {
                problems.push(ExportError::Unlisted(path.clone()));
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(key: &WriterKey) -> (Vec<u8>, String) {
        let manifest = Manifest {
            format: MANIFEST_FORMAT.into(),
            clinic_id: "c1".into(),
            clinic_name: "みなと内科".into(),
            created_at: 5,
            requested: Requested {
                by: "operator".into(),
                principal: "ops".into(),
                reference: Some("REQ-1".into()),
            },
            signer: "w".into(),
            public_key: STANDARD.encode(key.public_key()),
            files: vec![ManifestFile {
                path: "registry.csv".into(),
                bytes: 3,
                sha256: "ab".into(),
            }],
        };
        let bytes = serde_json::to_vec_pretty(&manifest).unwrap();
        let sig = sign(&bytes, key);
        (bytes, sig)
    }

    #[test]
    fn a_request_reference_is_a_short_code() {
        assert_eq!(request_reference(" 2026-REQ/17 ").unwrap(), "2026-REQ/17");
        for bad in ["", "山田花子", "a b", &"x".repeat(65), "x\ny"] {
            assert_eq!(
                request_reference(bad),
                Err(ExportError::Reference),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_signed_manifest_verifies_and_an_edited_one_does_not() {
        let key = WriterKey::from_pkcs8(&WriterKey::generate().unwrap()).unwrap();
        let (bytes, sig) = signed(&key);
        let manifest = Manifest::verify(&bytes, &sig).unwrap();
        let edited = String::from_utf8(bytes.clone())
            .unwrap()
            .replace("\"bytes\": 3", "\"bytes\": 4");
        assert_eq!(
            Manifest::verify(edited.as_bytes(), &sig),
            Err(ExportError::Signature)
        );
        assert_eq!(
            Manifest::verify(&bytes, "AAAA"),
            Err(ExportError::Malformed)
        );
        assert!(matches!(
            Manifest::verify(b"{}", &sig),
            Err(ExportError::Format(_))
        ));

        let mut found = BTreeMap::new();
        found.insert("registry.csv".to_owned(), (3, "ab".to_owned()));
        found.insert(MANIFEST.to_owned(), (1, String::new()));
        assert!(manifest.check(&found).is_empty());
        found.insert("registry.csv".to_owned(), (3, "ac".to_owned()));
        found.insert("extra.txt".to_owned(), (1, String::new()));
        assert_eq!(
            manifest.check(&found),
            vec![
                ExportError::Altered("registry.csv".into()),
                ExportError::Unlisted("extra.txt".into())
            ]
        );
        assert_eq!(
            manifest.check(&BTreeMap::new()),
            vec![ExportError::Missing("registry.csv".into())]
        );
    }
}
