//! The keyring: each clinic's data key, wrapped by the master key, one file per clinic, kept
//! apart from the database and its backups (DATA-3). Destroying a clinic's key leaves a tombstone,
//! so that its ciphertext anywhere answers "key destroyed" rather than "missing" (DATA-5).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use enshin_core::crypto::envelope::{CryptoError, DataKey, FieldContext, MasterKey};

use crate::files::{create_private_dir, is_exposed, write_new_private};

/// Why a keyring operation failed.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    /// The clinic id cannot name a key file (it must be 1–64 of `A-Za-z0-9_-`).
    #[error("clinic id is not a valid key name")]
    InvalidClinicId,
    /// The clinic never had a key here.
    #[error("no data key for clinic {0}")]
    NoKey(String),
    /// The clinic's key was destroyed; its data can no longer be read.
    #[error("the data key of clinic {0} was destroyed")]
    Destroyed(String),
    /// A key for the clinic exists already.
    #[error("a data key for clinic {0} exists already")]
    Exists(String),
    /// Encryption or decryption failed (including a wrong master key).
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The master key file is readable by group or others.
    #[error("{0} is readable by other users; run chmod 600 on it")]
    MasterKeyExposed(PathBuf),
    /// The file system refused.
    #[error("{path}")]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> KeyringError + '_ {
    move |source| KeyringError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Creates a new master key file (mode 0600); fails if one exists.
pub fn create_master_key(path: &Path) -> Result<MasterKey, KeyringError> {
    let key = MasterKey::generate()?;
    write_new_private(path, format!("{}\n", key.to_hex()).as_bytes()).map_err(io_err(path))?;
    Ok(key)
}

/// Loads the master key file, refusing one that other users can read.
pub fn load_master_key(path: &Path) -> Result<MasterKey, KeyringError> {
    if is_exposed(path).map_err(io_err(path))? {
        return Err(KeyringError::MasterKeyExposed(path.to_owned()));
    }
    let text = fs::read_to_string(path).map_err(io_err(path))?;
    Ok(MasterKey::from_hex(&text)?)
}

/// Keyring entry whose data key seals what patients keep in their own account: their profile
/// and their home readings (they belong to no clinic).
pub const PATIENT_KEY: &str = "patient-accounts";

/// The file-backed keyring of the embedded default.
pub struct Keyring {
    dir: PathBuf,
    master: MasterKey,
}

impl Keyring {
    /// Opens (creating if needed, mode 0700) the keyring directory.
    pub fn open(dir: &Path, master: MasterKey) -> Result<Self, KeyringError> {
        create_private_dir(dir).map_err(io_err(dir))?;
        Ok(Self {
            dir: dir.to_owned(),
            master,
        })
    }

    fn paths(&self, clinic_id: &str) -> Result<(PathBuf, PathBuf), KeyringError> {
        let valid = !clinic_id.is_empty()
            && clinic_id.len() <= 64
            && clinic_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Err(KeyringError::InvalidClinicId);
        }
        Ok((
            self.dir.join(format!("{clinic_id}.key")),
            self.dir.join(format!("{clinic_id}.destroyed")),
        ))
    }

    /// Generates and stores a new data key for a clinic.
    pub fn create(&self, clinic_id: &str) -> Result<(), KeyringError> {
        let (key_path, tombstone) = self.paths(clinic_id)?;
        if tombstone.exists() {
            return Err(KeyringError::Destroyed(clinic_id.to_owned()));
        }
        if key_path.exists() {
            return Err(KeyringError::Exists(clinic_id.to_owned()));
        }
        let wrapped = self.master.wrap(clinic_id, &DataKey::generate()?)?;
        write_new_private(&key_path, &wrapped).map_err(io_err(&key_path))
    }

    /// The clinic's data key, unwrapped.
    pub fn data_key(&self, clinic_id: &str) -> Result<DataKey, KeyringError> {
        let (key_path, tombstone) = self.paths(clinic_id)?;
        match fs::read(&key_path) {
            Ok(wrapped) => Ok(self.master.unwrap(clinic_id, &wrapped)?),
            Err(e) if e.kind() == io::ErrorKind::NotFound && tombstone.exists() => {
                Err(KeyringError::Destroyed(clinic_id.to_owned()))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Err(KeyringError::NoKey(clinic_id.to_owned()))
            }
            Err(e) => Err(io_err(&key_path)(e)),
        }
    }

    /// Destroys the clinic's data key: the wrapped key is overwritten and removed and a tombstone
    /// (mode 0600, holding no key material) records that it existed.
    pub fn destroy(&self, clinic_id: &str) -> Result<(), KeyringError> {
        let (key_path, tombstone) = self.paths(clinic_id)?;
        let len = match fs::metadata(&key_path) {
            Ok(meta) => meta.len() as usize,
            Err(e) if e.kind() == io::ErrorKind::NotFound && tombstone.exists() => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(KeyringError::NoKey(clinic_id.to_owned()));
            }
            Err(e) => return Err(io_err(&key_path)(e)),
        };
        write_new_private(&tombstone, b"destroyed\n").map_err(io_err(&tombstone))?;
        // Overwriting is best effort on flash and copy-on-write file systems; the real guarantee is
        // that no copy of the wrapped key outlives this file (keyring backups are rewritten).
        fs::write(&key_path, vec![0u8; len]).map_err(io_err(&key_path))?;
        fs::remove_file(&key_path).map_err(io_err(&key_path))?;
        fs::File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err(&self.dir))
    }

    /// Encrypts an A-class value with its clinic's data key, bound to its place.
    pub fn seal(&self, ctx: &FieldContext<'_>, plaintext: &[u8]) -> Result<Vec<u8>, KeyringError> {
        Ok(self.data_key(ctx.clinic_id)?.seal(ctx, plaintext)?)
    }

    /// Decrypts an A-class value sealed with [`Keyring::seal`] for the same place.
    pub fn open_field(
        &self,
        ctx: &FieldContext<'_>,
        sealed: &[u8],
    ) -> Result<Vec<u8>, KeyringError> {
        Ok(self.data_key(ctx.clinic_id)?.open(ctx, sealed)?)
    }
}
