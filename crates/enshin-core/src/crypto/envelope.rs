//! Envelope encryption for A-class columns (DATA-3).
//!
//! Each clinic has its own data key; the data key is stored only wrapped by the master key, so a
//! copy of the database (or of a backup) without the keyring reveals nothing, and destroying one
//! clinic's wrapped key makes that clinic's ciphertext unreadable everywhere (DATA-5).
//! Every ciphertext is bound to its place (clinic, table, column, row) through the AEAD's
//! associated data, so a value copied into another row or clinic fails to decrypt.

use std::fmt;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::encoding::{from_hex, to_hex};

/// Length in bytes of master and data keys (AES-256).
pub const KEY_LEN: usize = 32;

/// Leading byte of every ciphertext, so the format can change without guessing.
const FORMAT_V1: u8 = 1;
const TAG_LEN: usize = 16;
const FIELD_DOMAIN: &[u8] = b"enshin/field/v1";
const WRAP_DOMAIN: &[u8] = b"enshin/keywrap/v1";
const INDEX_DOMAIN: &[u8] = b"enshin/blind-index/v1/";

/// Why encryption or decryption failed; deliberately vague about the cause of a failed open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The bytes are too short or carry an unknown format version.
    #[error("ciphertext is malformed")]
    Malformed,
    /// Wrong key, wrong context, or altered bytes: AES-GCM cannot tell which, nor should we.
    #[error("ciphertext does not authenticate under this key and context")]
    Unauthentic,
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    Rng,
    /// A key in text form is not 64 hexadecimal characters.
    #[error("a key must be 64 hexadecimal characters")]
    KeyFormat,
}

/// Where an encrypted value lives; bound into the ciphertext as associated data.
#[derive(Debug, Clone, Copy)]
pub struct FieldContext<'a> {
    /// Clinic that owns the value.
    pub clinic_id: &'a str,
    /// Table of the value.
    pub table: &'a str,
    /// Column of the value.
    pub column: &'a str,
    /// Primary key of the row.
    pub row_id: &'a str,
}

impl FieldContext<'_> {
    /// Length-prefixed, so that ("ab", "c") and ("a", "bc") never give the same bytes.
    fn encode(&self) -> Vec<u8> {
        let parts = [self.clinic_id, self.table, self.column, self.row_id];
        let mut out = Vec::with_capacity(
            FIELD_DOMAIN.len() + parts.iter().map(|p| p.len() + 4).sum::<usize>(),
        );
        out.extend_from_slice(FIELD_DOMAIN);
        for part in parts {
            out.extend_from_slice(&(part.len() as u32).to_be_bytes());
            out.extend_from_slice(part.as_bytes());
        }
        out
    }
}

fn random_bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut bytes = [0u8; N];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| CryptoError::Rng)?;
    Ok(bytes)
}

fn seal_with(key: &[u8; KEY_LEN], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let sealing =
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).map_err(|_| CryptoError::Rng)?);
    // Random 96-bit nonces: safe for far more values per clinic key than a clinic will ever write
    // (the bound is about 2^32 encryptions per key).
    let nonce = random_bytes::<NONCE_LEN>()?;
    let mut out = Vec::with_capacity(1 + NONCE_LEN + plaintext.len() + TAG_LEN);
    out.push(FORMAT_V1);
    out.extend_from_slice(&nonce);
    let mut body = plaintext.to_vec();
    sealing
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut body,
        )
        .map_err(|_| CryptoError::Rng)?;
    out.extend_from_slice(&body);
    Ok(out)
}

fn open_with(key: &[u8; KEY_LEN], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if sealed.len() < 1 + NONCE_LEN + TAG_LEN || sealed[0] != FORMAT_V1 {
        return Err(CryptoError::Malformed);
    }
    let opening =
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).map_err(|_| CryptoError::Rng)?);
    let nonce = Nonce::try_assume_unique_for_key(&sealed[1..1 + NONCE_LEN])
        .map_err(|_| CryptoError::Malformed)?;
    let mut body = sealed[1 + NONCE_LEN..].to_vec();
    let plain_len = opening
        .open_in_place(nonce, Aad::from(aad), &mut body)
        .map_err(|_| CryptoError::Unauthentic)?
        .len();
    body.truncate(plain_len);
    Ok(body)
}

/// The service's master key: wraps every clinic's data key and is kept outside the database.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct MasterKey([u8; KEY_LEN]);

impl MasterKey {
    /// A fresh random master key.
    pub fn generate() -> Result<Self, CryptoError> {
        Ok(Self(random_bytes()?))
    }

    /// Parses the hexadecimal text form kept in the master key file.
    pub fn from_hex(text: &str) -> Result<Self, CryptoError> {
        let bytes = from_hex(text.trim()).ok_or(CryptoError::KeyFormat)?;
        let key: [u8; KEY_LEN] = bytes.try_into().map_err(|_| CryptoError::KeyFormat)?;
        Ok(Self(key))
    }

    /// The hexadecimal text form, for the master key file only.
    pub fn to_hex(&self) -> String {
        to_hex(&self.0)
    }

    /// The key's bytes, for deriving keys of other purposes (see [`super::stream::BackupKey`]).
    pub(crate) fn secret(&self) -> &[u8] {
        &self.0
    }

    /// Wraps a clinic's data key; the wrapping is bound to that clinic id.
    pub fn wrap(&self, clinic_id: &str, data_key: &DataKey) -> Result<Vec<u8>, CryptoError> {
        seal_with(&self.0, &wrap_aad(clinic_id), &data_key.0)
    }

    /// Unwraps a clinic's data key; fails for another clinic's wrapping or another master key.
    pub fn unwrap(&self, clinic_id: &str, wrapped: &[u8]) -> Result<DataKey, CryptoError> {
        let mut bytes = open_with(&self.0, &wrap_aad(clinic_id), wrapped)?;
        let key = <[u8; KEY_LEN]>::try_from(bytes.as_slice()).map_err(|_| CryptoError::Malformed);
        bytes.zeroize();
        Ok(DataKey(key?))
    }
}

fn wrap_aad(clinic_id: &str) -> Vec<u8> {
    [WRAP_DOMAIN, b"|", clinic_id.as_bytes()].concat()
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

/// One clinic's data key: encrypts that clinic's A-class values.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct DataKey([u8; KEY_LEN]);

impl DataKey {
    /// A fresh random data key.
    pub fn generate() -> Result<Self, CryptoError> {
        Ok(Self(random_bytes()?))
    }

    /// Encrypts a value for the given place.
    pub fn seal(&self, ctx: &FieldContext<'_>, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        seal_with(&self.0, &ctx.encode(), plaintext)
    }

    /// Decrypts a value; fails unless key and place are exactly those it was sealed with.
    pub fn open(&self, ctx: &FieldContext<'_>, sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        open_with(&self.0, &ctx.encode(), sealed)
    }

    /// A blind index of `value`: HMAC-SHA256 under a key derived from this data key for
    /// `purpose`, hex. Equal values give equal indexes, so the database can find and keep
    /// unique a value it never sees; destroying the data key makes the index meaningless too.
    pub fn blind_index(&self, purpose: &str, value: &[u8]) -> String {
        let derive = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &self.0);
        let mut label = INDEX_DOMAIN.to_vec();
        label.extend_from_slice(purpose.as_bytes());
        let derived = ring::hmac::sign(&derive, &label);
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, derived.as_ref());
        to_hex(ring::hmac::sign(&key, value).as_ref())
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blind_indexes_match_equal_values_only_under_one_key_and_purpose() {
        let key = DataKey::generate().unwrap();
        let other = DataKey::generate().unwrap();
        let a = key.blind_index("card", b"A0123");
        assert_eq!(a, key.blind_index("card", b"A0123"));
        assert_eq!(a.len(), 64);
        assert_ne!(a, key.blind_index("card", b"A0124"));
        assert_ne!(a, key.blind_index("phone", b"A0123"));
        assert_ne!(a, other.blind_index("card", b"A0123"));
    }

    const CTX: FieldContext<'static> = FieldContext {
        clinic_id: "c1",
        table: "patients",
        column: "family_name",
        row_id: "p1",
    };

    #[test]
    fn seal_then_open_round_trips_and_hides_plaintext() {
        let key = DataKey::generate().unwrap();
        let sealed = key.seal(&CTX, "山田 太郎".as_bytes()).unwrap();
        assert!(!sealed.windows(3).any(|w| w == &"山".as_bytes()[..3]));
        assert_eq!(key.open(&CTX, &sealed).unwrap(), "山田 太郎".as_bytes());
    }

    #[test]
    fn same_plaintext_seals_differently_each_time() {
        let key = DataKey::generate().unwrap();
        assert_ne!(key.seal(&CTX, b"x").unwrap(), key.seal(&CTX, b"x").unwrap());
    }

    #[test]
    fn wrong_key_fails() {
        let sealed = DataKey::generate().unwrap().seal(&CTX, b"secret").unwrap();
        let other = DataKey::generate().unwrap();
        assert_eq!(other.open(&CTX, &sealed), Err(CryptoError::Unauthentic));
    }

    #[test]
    fn any_other_place_fails() {
        let key = DataKey::generate().unwrap();
        let sealed = key.seal(&CTX, b"secret").unwrap();
        for moved in [
            FieldContext {
                clinic_id: "c2",
                ..CTX
            },
            FieldContext {
                table: "notes",
                ..CTX
            },
            FieldContext {
                column: "given_name",
                ..CTX
            },
            FieldContext {
                row_id: "p2",
                ..CTX
            },
            // The length prefix keeps a shifted boundary from matching.
            FieldContext {
                clinic_id: "c1p",
                table: "atients",
                ..CTX
            },
        ] {
            assert_eq!(
                key.open(&moved, &sealed),
                Err(CryptoError::Unauthentic),
                "{moved:?}"
            );
        }
    }

    #[test]
    fn every_flipped_byte_fails_and_short_input_is_malformed() {
        let key = DataKey::generate().unwrap();
        let sealed = key.seal(&CTX, b"secret").unwrap();
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert!(key.open(&CTX, &bad).is_err(), "flip at {i} went unnoticed");
        }
        assert_eq!(key.open(&CTX, &sealed[..10]), Err(CryptoError::Malformed));
        assert_eq!(key.open(&CTX, &[]), Err(CryptoError::Malformed));
    }

    #[test]
    fn wrapped_key_is_bound_to_master_and_clinic() {
        let master = MasterKey::generate().unwrap();
        let data = DataKey::generate().unwrap();
        let wrapped = master.wrap("c1", &data).unwrap();
        let unwrapped = master.unwrap("c1", &wrapped).unwrap();
        let sealed = data.seal(&CTX, b"v").unwrap();
        assert_eq!(unwrapped.open(&CTX, &sealed).unwrap(), b"v");
        assert_eq!(
            master.unwrap("c2", &wrapped).unwrap_err(),
            CryptoError::Unauthentic
        );
        let other = MasterKey::generate().unwrap();
        assert_eq!(
            other.unwrap("c1", &wrapped).unwrap_err(),
            CryptoError::Unauthentic
        );
    }

    #[test]
    fn master_key_text_form_round_trips_and_rejects_junk() {
        let master = MasterKey::generate().unwrap();
        let again = MasterKey::from_hex(&format!("{}\n", master.to_hex())).unwrap();
        assert_eq!(again.to_hex(), master.to_hex());
        assert_eq!(
            MasterKey::from_hex("abcd").unwrap_err(),
            CryptoError::KeyFormat
        );
        assert_eq!(
            MasterKey::from_hex(&"zz".repeat(32)).unwrap_err(),
            CryptoError::KeyFormat
        );
        assert_eq!(format!("{master:?}"), "MasterKey(<redacted>)");
    }
}
