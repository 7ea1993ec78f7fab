//! A clinic leaving the service (DATA-5, seed §12-②): the termination date rules and the signed
//! deletion certificate that proves what was deleted and what still holds ciphertext.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::audit::checkpoint::{WriterKey, verify_document};

/// The first line of every signed certificate: the format, and what kind of document it is.
pub const CERTIFICATE_FORMAT: &str = "enshin-deletion-certificate/v1";

/// Why a termination step is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExitError {
    /// The termination date is not a date (`YYYY-MM-DD`).
    #[error("the termination date must be a date YYYY-MM-DD")]
    BadDate,
    /// The termination date has passed.
    #[error("the termination date {0} has passed; give a date from today (Japan time)")]
    PastDate(Date),
    /// Deletion was asked for before the termination date.
    #[error(
        "the clinic's termination date is {0}: its data is deleted on or after that date (Japan time); until then the clinic can export"
    )]
    TooEarly(Date),
}

/// Today in Japan, the day the termination date is counted in.
pub fn japan_today(now_ms: i64) -> Date {
    let at = Timestamp::from_millisecond(now_ms).unwrap_or(Timestamp::UNIX_EPOCH);
    match TimeZone::get("Asia/Tokyo") {
        Ok(tz) => at.to_zoned(tz).date(),
        Err(_) => at.to_zoned(TimeZone::fixed(jiff::tz::offset(9))).date(),
    }
}

/// Parses a termination date; it may be today, never earlier.
pub fn termination_date(text: &str, now_ms: i64) -> Result<Date, ExitError> {
    let date: Date = text.trim().parse().map_err(|_| ExitError::BadDate)?;
    if date < japan_today(now_ms) {
        return Err(ExitError::PastDate(date));
    }
    Ok(date)
}

/// A clinic's data may be deleted from its termination date on.
pub fn may_delete(effective_on: Date, now_ms: i64) -> Result<(), ExitError> {
    if japan_today(now_ms) < effective_on {
        return Err(ExitError::TooEarly(effective_on));
    }
    Ok(())
}

/// What the certificate states. Field order is the signed order; unknown fields are refused, so
/// a certificate reads back to exactly the bytes that were signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateBody {
    /// [`CERTIFICATE_FORMAT`].
    pub format: String,
    /// The clinic's id.
    pub clinic_id: String,
    /// The clinic's name.
    pub clinic_name: String,
    /// When the termination notice was recorded, unix ms.
    pub noticed_at: i64,
    /// The termination date (Japan), `YYYY-MM-DD`.
    pub effective_on: String,
    /// When the rows were deleted, unix ms.
    pub deleted_at: i64,
    /// Rows deleted, per kind.
    pub deleted: BTreeMap<String, u64>,
    /// When the clinic's data key was destroyed in the live keyring, unix ms.
    pub key_destroyed_at: i64,
    /// Keyring backups in which the key was destroyed as well.
    pub keyring_copies_destroyed: Vec<String>,
    /// Data backups taken before the deletion: they still hold the clinic's rows, as ciphertext
    /// that no remaining key opens.
    pub backups_with_ciphertext: Vec<String>,
    /// When the last of those backups is removed by rotation, unix ms (none: no such backup).
    pub ciphertext_expires_by: Option<i64>,
    /// The database engine (`sqlite`, `postgres`); PostgreSQL backups follow pgBackRest's
    /// retention and are named by the operator's runbook, not here.
    pub database: String,
    /// The access-log writer whose key signed (its id).
    pub signer: String,
    /// That writer's Ed25519 public key, base64.
    pub public_key: String,
}

/// A signed deletion certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    /// What it states.
    pub body: CertificateBody,
    /// Ed25519 signature over [`CertificateBody::message`], base64.
    pub signature: String,
}

/// Why a certificate does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    /// Not a certificate of this format.
    #[error("not an enshin deletion certificate (format {0:?})")]
    Format(String),
    /// The key or signature is not base64 of the right size.
    #[error("the certificate's key or signature is malformed")]
    Malformed,
    /// The signature does not match the contents.
    #[error("the signature does not match: the certificate was altered or not signed by its key")]
    Signature,
}

impl CertificateBody {
    /// The signed bytes: the format line, then the body as compact JSON.
    pub fn message(&self) -> Vec<u8> {
        let mut out = format!("{CERTIFICATE_FORMAT}\n").into_bytes();
        out.extend(serde_json::to_vec(self).unwrap_or_default());
        out
    }
}

impl Certificate {
    /// Signs `body` with an access-log writer key; the body must already name that key.
    pub fn sign(body: CertificateBody, key: &WriterKey) -> Self {
        let signature = STANDARD.encode(key.sign_document(&body.message()));
        Self { body, signature }
    }

    /// Checks the format and the signature against the public key the certificate names.
    /// Whether that key is the service's is for the caller to check (the access log's writers).
    pub fn verify(&self) -> Result<(), CertificateError> {
        if self.body.format != CERTIFICATE_FORMAT {
            return Err(CertificateError::Format(self.body.format.clone()));
        }
        let key = STANDARD
            .decode(&self.body.public_key)
            .map_err(|_| CertificateError::Malformed)?;
        let signature = STANDARD
            .decode(&self.signature)
            .map_err(|_| CertificateError::Malformed)?;
        if key.len() != 32 || signature.len() != 64 {
            return Err(CertificateError::Malformed);
        }
        if verify_document(&key, &self.body.message(), &signature) {
            Ok(())
        } else {
            Err(CertificateError::Signature)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;
    // 2026-11-27 15:30 UTC = 2026-11-28 00:30 in Japan.
    const NOW: i64 = 1_795_793_400_000;

    fn body(key: &WriterKey) -> CertificateBody {
        CertificateBody {
            format: CERTIFICATE_FORMAT.into(),
            clinic_id: "c1".into(),
            clinic_name: "みなと内科".into(),
            noticed_at: NOW - 30 * DAY,
            effective_on: "2026-11-28".into(),
            deleted_at: NOW,
            deleted: BTreeMap::from([("clinic_patients".into(), 3), ("visit_notes".into(), 2)]),
            key_destroyed_at: NOW,
            keyring_copies_destroyed: vec!["20261127T000000Z".into()],
            backups_with_ciphertext: vec!["20261127T000000Z".into()],
            ciphertext_expires_by: Some(NOW + 2 * DAY),
            database: "sqlite".into(),
            signer: "w".into(),
            public_key: STANDARD.encode(key.public_key()),
        }
    }

    #[test]
    fn the_japan_date_decides_the_termination_day() {
        assert_eq!(japan_today(NOW).to_string(), "2026-11-28");
        assert_eq!(
            termination_date("2026-11-28", NOW).unwrap().to_string(),
            "2026-11-28"
        );
        // 2026-11-27 is still today in UTC, but already yesterday in Japan.
        assert!(matches!(
            termination_date("2026-11-27", NOW),
            Err(ExitError::PastDate(_))
        ));
        assert_eq!(termination_date("28/11/2026", NOW), Err(ExitError::BadDate));
        let later = termination_date("2026-12-01", NOW).unwrap();
        assert_eq!(may_delete(later, NOW), Err(ExitError::TooEarly(later)));
        assert!(may_delete(later, NOW + 3 * DAY).is_ok());
        assert!(may_delete(japan_today(NOW), NOW).is_ok());
    }

    #[test]
    fn a_certificate_verifies_and_any_change_breaks_it() {
        let key = WriterKey::from_pkcs8(&WriterKey::generate().unwrap()).unwrap();
        let cert = Certificate::sign(body(&key), &key);
        assert_eq!(cert.verify(), Ok(()));
        let text = serde_json::to_string_pretty(&cert).unwrap();
        let read: Certificate = serde_json::from_str(&text).unwrap();
        assert_eq!(read.verify(), Ok(()), "pretty-printed files still verify");

        let mut fewer = cert.clone();
        fewer.body.deleted.insert("visit_notes".into(), 1);
        assert_eq!(fewer.verify(), Err(CertificateError::Signature));
        let mut later = cert.clone();
        later.body.ciphertext_expires_by = Some(NOW + 400 * DAY);
        assert_eq!(later.verify(), Err(CertificateError::Signature));

        // Re-signed by another key that it then names: the signature holds, so the caller must
        // check the key against the service's writers.
        let other = WriterKey::from_pkcs8(&WriterKey::generate().unwrap()).unwrap();
        let mut forged = cert.clone();
        forged.body.public_key = STANDARD.encode(other.public_key());
        assert_eq!(forged.verify(), Err(CertificateError::Signature));

        let mut wrong = cert.clone();
        wrong.body.format = "something-else".into();
        assert!(matches!(wrong.verify(), Err(CertificateError::Format(_))));
        let mut junk = cert;
        junk.signature = "not base64!".into();
        assert_eq!(junk.verify(), Err(CertificateError::Malformed));
        assert!(
            serde_json::from_str::<Certificate>(&text.replace("\"body\"", "\"extra\":1,\"body\""))
                .is_err()
        );
    }
}
