//! Encryption of backup files (AVAIL-1..3, DATA-3): a file is cut into chunks, each sealed with
//! AES-256-GCM under a key derived from the master key for backups only. Every chunk's associated
//! data names the file, the chunk's position and whether it is the last, so a chunk that was
//! altered, moved, swapped with another file's or dropped from the end fails to open. A manifest
//! lists the files with their SHA-256 and carries an HMAC under the same derived key.

use std::io::{self, Read, Write};

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hkdf::{HKDF_SHA256, KeyType, Salt};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::envelope::{CryptoError, KEY_LEN, MasterKey};

/// Plain bytes per chunk.
pub const CHUNK: usize = 1 << 20;
const MAGIC: &[u8; 8] = b"ENSHBK01";
const FILE_ID_LEN: usize = 8;
const TAG_LEN: usize = 16;
const DOMAIN: &[u8] = b"enshin/backup/v1";

/// Why a backup stream failed to seal or open.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// Reading or writing failed.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// The bytes are not a backup stream of this version.
    #[error("not an enshin backup file (or an unknown version)")]
    Format,
    /// A chunk does not authenticate: altered, moved, from another file, or another master key.
    #[error("chunk {0} does not authenticate (altered, reordered, or another master key)")]
    Chunk(u64),
    /// The stream ends before its last chunk.
    #[error("the file is cut short after chunk {0}")]
    Truncated(u64),
    /// Random numbers or keys failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// The key that seals backups: derived from the master key, used for nothing else.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct BackupKey([u8; KEY_LEN]);

struct Len;

impl KeyType for Len {
    fn len(&self) -> usize {
        KEY_LEN
    }
}

impl BackupKey {
    /// Derives the backup key (HKDF-SHA256) from the master key.
    pub fn derive(master: &MasterKey) -> Result<Self, CryptoError> {
        let mut out = [0u8; KEY_LEN];
        let prk = Salt::new(HKDF_SHA256, DOMAIN).extract(master.secret());
        prk.expand(&[b"backup files"], Len)
            .and_then(|okm| okm.fill(&mut out))
            .map_err(|_| CryptoError::Rng)?;
        Ok(Self(out))
    }

    fn aead(&self) -> Result<LessSafeKey, CryptoError> {
        Ok(LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, &self.0).map_err(|_| CryptoError::Rng)?,
        ))
    }

    /// HMAC-SHA256 of a manifest, hex.
    pub fn mac(&self, manifest: &[u8]) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &[&self.0[..], b"manifest"].concat());
        crate::encoding::to_hex(hmac::sign(&key, manifest).as_ref())
    }

    /// Whether `mac` is the manifest's HMAC (compared in constant time).
    pub fn mac_matches(&self, manifest: &[u8], mac: &str) -> bool {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &[&self.0[..], b"manifest"].concat());
        crate::encoding::from_hex(mac).is_some_and(|tag| hmac::verify(&key, manifest, &tag).is_ok())
    }
}

fn nonce(file_id: &[u8; FILE_ID_LEN], index: u64) -> Result<Nonce, StreamError> {
    let mut bytes = [0u8; NONCE_LEN];
    bytes[..FILE_ID_LEN].copy_from_slice(file_id);
    let index = u32::try_from(index).map_err(|_| StreamError::Format)?;
    bytes[FILE_ID_LEN..].copy_from_slice(&index.to_be_bytes());
    Ok(Nonce::assume_unique_for_key(bytes))
}

fn aad(name: &str, index: u64, last: bool) -> Vec<u8> {
    [
        DOMAIN,
        b"|",
        name.as_bytes(),
        b"|",
        &index.to_be_bytes(),
        &[u8::from(last)],
    ]
    .concat()
}

/// Fills `buf` from `r` as far as it goes; returns how much was read (less only at the end).
fn fill(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Seals everything `plain` gives into `out` as the backup file `name`; returns the plain length.
pub fn seal(
    key: &BackupKey,
    name: &str,
    plain: &mut impl Read,
    out: &mut impl Write,
) -> Result<u64, StreamError> {
    let aead = key.aead()?;
    let mut file_id = [0u8; FILE_ID_LEN];
    SystemRandom::new()
        .fill(&mut file_id)
        .map_err(|_| CryptoError::Rng)?;
    out.write_all(MAGIC)?;
    out.write_all(&file_id)?;
    let mut current = vec![0u8; CHUNK];
    let mut next = vec![0u8; CHUNK];
    let mut filled = fill(plain, &mut current)?;
    let mut total = 0u64;
    let mut index = 0u64;
    loop {
        // Looking one chunk ahead tells whether this one is the last.
        let ahead = if filled == CHUNK {
            fill(plain, &mut next)?
        } else {
            0
        };
        let last = ahead == 0;
        let mut body = current[..filled].to_vec();
        aead.seal_in_place_append_tag(
            nonce(&file_id, index)?,
            Aad::from(aad(name, index, last)),
            &mut body,
        )
        .map_err(|_| CryptoError::Rng)?;
        out.write_all(
            &u32::try_from(body.len())
                .map_err(|_| StreamError::Format)?
                .to_be_bytes(),
        )?;
        out.write_all(&body)?;
        total += filled as u64;
        if last {
            return Ok(total);
        }
        std::mem::swap(&mut current, &mut next);
        filled = ahead;
        index += 1;
    }
}

/// A reader with one byte pushed back (the byte read to learn whether the file goes on).
struct Pushback<'a, R: Read> {
    back: Option<u8>,
    inner: &'a mut R,
}

impl<R: Read> Read for Pushback<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match (self.back.take(), buf.first_mut()) {
            (Some(b), Some(first)) => {
                *first = b;
                Ok(1)
            }
            (back, _) => {
                self.back = back;
                self.inner.read(buf)
            }
        }
    }
}

/// Opens the backup file `name` from `sealed` into `out`; returns the plain length.
pub fn open(
    key: &BackupKey,
    name: &str,
    sealed: &mut impl Read,
    out: &mut impl Write,
) -> Result<u64, StreamError> {
    let aead = key.aead()?;
    let mut head = [0u8; 8 + FILE_ID_LEN];
    if fill(sealed, &mut head)? != head.len() || &head[..8] != MAGIC {
        return Err(StreamError::Format);
    }
    let mut file_id = [0u8; FILE_ID_LEN];
    file_id.copy_from_slice(&head[8..]);
    let mut r = Pushback {
        back: None,
        inner: sealed,
    };
    let mut total = 0u64;
    let mut index = 0u64;
    loop {
        let mut len = [0u8; 4];
        if fill(&mut r, &mut len)? != len.len() {
            return Err(StreamError::Truncated(index));
        }
        let len = u32::from_be_bytes(len) as usize;
        if !(TAG_LEN..=CHUNK + TAG_LEN).contains(&len) {
            return Err(StreamError::Chunk(index));
        }
        let mut body = vec![0u8; len];
        if fill(&mut r, &mut body)? != len {
            return Err(StreamError::Truncated(index));
        }
        let mut probe = [0u8; 1];
        let at_end = fill(&mut r, &mut probe)? == 0;
        if !at_end {
            r.back = Some(probe[0]);
        }
        // A chunk sealed as "not last" that now ends the file was cut off after it.
        let plain = aead
            .open_in_place(
                nonce(&file_id, index)?,
                Aad::from(aad(name, index, at_end)),
                &mut body,
            )
            .map_err(|_| {
                if at_end {
                    StreamError::Truncated(index)
                } else {
                    StreamError::Chunk(index)
                }
            })?;
        out.write_all(plain)?;
        total += plain.len() as u64;
        if at_end {
            return Ok(total);
        }
        index += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> BackupKey {
        BackupKey::derive(&MasterKey::generate().unwrap()).unwrap()
    }

    fn sealed(key: &BackupKey, name: &str, plain: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        seal(key, name, &mut &plain[..], &mut out).unwrap();
        out
    }

    fn opened(key: &BackupKey, name: &str, sealed: &[u8]) -> Result<Vec<u8>, StreamError> {
        let mut out = Vec::new();
        open(key, name, &mut &sealed[..], &mut out)?;
        Ok(out)
    }

    #[test]
    fn files_of_every_size_round_trip() {
        let k = key();
        for size in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 7] {
            let plain: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            let s = sealed(&k, "enshin.db", &plain);
            assert_eq!(opened(&k, "enshin.db", &s).unwrap(), plain, "{size}");
        }
    }

    #[test]
    fn altered_cut_swapped_or_foreign_files_do_not_open() {
        let k = key();
        let plain: Vec<u8> = (0..2 * CHUNK + 100).map(|i| (i % 7) as u8).collect();
        let s = sealed(&k, "enshin.db", &plain);

        let mut flipped = s.clone();
        flipped[16 + (4 + CHUNK + TAG_LEN) + 10] ^= 1;
        assert!(matches!(
            opened(&k, "enshin.db", &flipped),
            Err(StreamError::Chunk(1))
        ));

        let cut = &s[..s.len() - (100 + TAG_LEN + 4)];
        assert!(matches!(
            opened(&k, "enshin.db", cut),
            Err(StreamError::Truncated(1))
        ));
        assert!(matches!(
            opened(&k, "enshin.db", &s[..s.len() - 1]),
            Err(StreamError::Truncated(2))
        ));

        assert!(
            opened(&k, "audit.db", &s).is_err(),
            "a file under another name"
        );
        assert!(
            opened(&key(), "enshin.db", &s).is_err(),
            "another master key"
        );
        assert!(matches!(
            opened(&k, "enshin.db", b"SQLite format 3"),
            Err(StreamError::Format)
        ));
    }

    #[test]
    fn the_manifest_mac_detects_any_change() {
        let k = key();
        let mac = k.mac(b"{\"files\":[]}");
        assert!(k.mac_matches(b"{\"files\":[]}", &mac));
        assert!(!k.mac_matches(b"{\"files\":[1]}", &mac));
        assert!(!key().mac_matches(b"{\"files\":[]}", &mac));
        assert!(!k.mac_matches(b"{\"files\":[]}", "zz"));
    }
}
