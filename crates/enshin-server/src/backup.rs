//! Backups of the embedded default (AVAIL-1..3, DATA-3): the main database and the access log,
//! each copied with `VACUUM INTO` (a consistent snapshot while the service keeps writing; the
//! main store first, so every change in the copy has its access-log entry in the log's copy),
//! compressed, and sealed in chunks with a key derived from the master key. A manifest lists each
//! file with its SHA-256 and carries an HMAC, so damage and tampering both show in `verify`.
//!
//! The clinics' data keys never go into a data backup: the keyring is copied on its own into
//! `keyring_backup_dir`, so destroying a clinic's key (and its copies) makes that clinic
//! unreadable in every data backup (DATA-5). A backup is written under a `.partial` name and
//! renamed when complete: a crash never leaves something that looks whole.

use std::fs::{self, File};
use std::io::{self, BufReader, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use enshin_core::crypto::stream::{self, BackupKey, StreamError};
use enshin_core::encoding::to_hex;
use enshin_store::audit::AuditStore;
use enshin_store::files::{create_private_dir, write_new_private};
use enshin_store::keyring::{KeyringError, load_master_key};
use enshin_store::{Store, StoreError};
use flate2::Compression;
use flate2::read::GzEncoder;
use flate2::write::GzDecoder;
use ring::digest::{Context, SHA256};
use serde::{Deserialize, Serialize};

use crate::clock::now_ms;
use crate::config::Config;

const MANIFEST: &str = "manifest.json";
const MAC: &str = "manifest.mac";
const FORMAT: u32 = 1;

/// Why a backup could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// PostgreSQL is backed up by pgBackRest, not by enshin.
    #[error(
        "this deployment runs on PostgreSQL: back it up with pgBackRest (see deploy/), not with enshin backup"
    )]
    Postgres,
    /// No backup of that name.
    #[error("no backup named {0}")]
    NotFound(String),
    /// The master key could not be read.
    #[error("the master key: {0}")]
    Keyring(#[from] KeyringError),
    /// A database could not be copied.
    #[error("the database could not be copied")]
    Store(#[from] StoreError),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// Sealing failed.
    #[error(transparent)]
    Stream(#[from] StreamError),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_owned(),
        source,
    }
}

/// One file of a backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// What it holds (`enshin.db`, `audit.db`, or a keyring file's name).
    pub name: String,
    /// Its file name in the backup.
    pub stored: String,
    /// Bytes of the stored file.
    pub bytes: u64,
    /// SHA-256 of the stored file, hex.
    pub sha256: String,
}

/// What a backup holds; the HMAC in `manifest.mac` covers these bytes exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Format version.
    pub format: u32,
    /// The backup's name: its UTC time, sortable.
    pub id: String,
    /// `data` or `keyring`.
    pub kind: String,
    /// When it was taken, unix ms.
    pub created_at: i64,
    /// The files.
    pub files: Vec<FileEntry>,
}

/// A backup just made.
#[derive(Debug, Clone)]
pub struct Made {
    /// Its name.
    pub id: String,
    /// The data backup's directory.
    pub dir: PathBuf,
    /// The keyring backup's directory.
    pub keyring_dir: PathBuf,
    /// The data files.
    pub files: Vec<FileEntry>,
    /// How long it took, ms.
    pub took_ms: i64,
}

/// A backup as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Its name.
    pub id: String,
    /// When it was taken, unix ms.
    pub created_at: i64,
    /// Bytes of its files.
    pub bytes: u64,
    /// Whether the keyring backup of the same name exists.
    pub keyring: bool,
}

/// The name of a backup taken at `ms`: UTC, sortable, safe in a path.
fn backup_id(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y%m%dT%H%M%S%.3fZ").to_string())
        .unwrap_or_else(|_| ms.to_string())
}

/// Writes through to `inner`, hashing and counting.
struct Hashing<W: Write> {
    inner: W,
    digest: Context,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.digest.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn sha256_of(path: &Path) -> Result<(String, u64), BackupError> {
    let mut file = File::open(path).map_err(io_err(path))?;
    let mut digest = Context::new(&SHA256);
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(io_err(path))?;
        if n == 0 {
            return Ok((to_hex(digest.finish().as_ref()), bytes));
        }
        digest.update(&buf[..n]);
        bytes += n as u64;
    }
}

/// Compresses and seals `source` into `dir/stored`.
fn seal_file(
    key: &BackupKey,
    name: &str,
    source: &Path,
    dir: &Path,
) -> Result<FileEntry, BackupError> {
    let stored = format!("{name}.gz.enc");
    let target = dir.join(&stored);
    let input = File::open(source).map_err(io_err(source))?;
    let mut gz = GzEncoder::new(BufReader::new(input), Compression::default());
    let out = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&target)
        .map_err(io_err(&target))?;
    let mut hashing = Hashing {
        inner: io::BufWriter::new(out),
        digest: Context::new(&SHA256),
        bytes: 0,
    };
    stream::seal(key, name, &mut gz, &mut hashing)?;
    let Hashing {
        inner,
        digest,
        bytes,
    } = hashing;
    let file = inner
        .into_inner()
        .map_err(|e| io_err(&target)(e.into_error()))?;
    file.sync_all().map_err(io_err(&target))?;
    Ok(FileEntry {
        name: name.to_owned(),
        stored,
        bytes,
        sha256: to_hex(digest.finish().as_ref()),
    })
}

fn write_manifest(key: &BackupKey, dir: &Path, manifest: &Manifest) -> Result<(), BackupError> {
    let bytes = serde_json::to_vec_pretty(manifest).map_err(|e| io_err(dir)(e.into()))?;
    let path = dir.join(MANIFEST);
    write_new_private(&path, &bytes).map_err(io_err(&path))?;
    let mac = dir.join(MAC);
    write_new_private(&mac, key.mac(&bytes).as_bytes()).map_err(io_err(&mac))
}

fn sync_dir(dir: &Path) -> Result<(), BackupError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

/// Moves a finished `.partial` directory to its name.
fn publish(partial: &Path, dir: &Path) -> Result<(), BackupError> {
    fs::rename(partial, dir).map_err(io_err(dir))?;
    sync_dir(dir.parent().unwrap_or(dir))
}

/// Copies the keyring's files (wrapped keys and tombstones) into the keyring backup `id`.
fn copy_keyring(
    config: &Config,
    key: &BackupKey,
    id: &str,
    at: i64,
) -> Result<PathBuf, BackupError> {
    let root = &config.keyring_backup_dir;
    create_private_dir(root).map_err(io_err(root))?;
    let partial = root.join(format!(".{id}.partial"));
    create_private_dir(&partial).map_err(io_err(&partial))?;
    let mut files = Vec::new();
    let mut names: Vec<PathBuf> = fs::read_dir(&config.keyring_dir)
        .map_err(io_err(&config.keyring_dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    names.sort();
    for path in names {
        let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
            continue;
        };
        let bytes = fs::read(&path).map_err(io_err(&path))?;
        let target = partial.join(&name);
        write_new_private(&target, &bytes).map_err(io_err(&target))?;
        let (sha256, size) = sha256_of(&target)?;
        files.push(FileEntry {
            stored: name.clone(),
            name,
            bytes: size,
            sha256,
        });
    }
    let manifest = Manifest {
        format: FORMAT,
        id: id.to_owned(),
        kind: "keyring".into(),
        created_at: at,
        files,
    };
    write_manifest(key, &partial, &manifest)?;
    let dir = root.join(id);
    publish(&partial, &dir)?;
    Ok(dir)
}

/// Takes a backup now: both databases, then the keyring apart from them.
pub async fn backup_now(config: &Config) -> Result<Made, BackupError> {
    if config.database_url.is_some() {
        return Err(BackupError::Postgres);
    }
    let started = now_ms();
    let key = BackupKey::derive(&load_master_key(&config.master_key_file)?)
        .map_err(|e| BackupError::Stream(e.into()))?;
    let id = backup_id(started);
    let root = &config.backup_dir;
    create_private_dir(root).map_err(io_err(root))?;
    let partial = root.join(format!(".{id}.partial"));
    create_private_dir(&partial).map_err(io_err(&partial))?;
    let main = Store::connect(&config.effective_database_url()).await?;
    let main_copy = partial.join("enshin.db.snapshot");
    let copied = main.snapshot_into(&main_copy).await;
    main.close().await;
    copied?;
    let audit = AuditStore::connect(&config.audit_database_url()).await?;
    let audit_copy = partial.join("audit.db.snapshot");
    let copied = audit.snapshot_into(&audit_copy).await;
    audit.close().await;
    copied?;
    let sealed = {
        let key = key.clone();
        let into = partial.clone();
        tokio::task::spawn_blocking(move || {
            let mut files = Vec::new();
            for (name, copy) in [("enshin.db", &main_copy), ("audit.db", &audit_copy)] {
                files.push(seal_file(&key, name, copy, &into)?);
                fs::remove_file(copy).map_err(io_err(copy))?;
            }
            Ok::<_, BackupError>(files)
        })
        .await
        .map_err(|e| io_err(&partial)(io::Error::other(e)))??
    };
    let manifest = Manifest {
        format: FORMAT,
        id: id.clone(),
        kind: "data".into(),
        created_at: started,
        files: sealed.clone(),
    };
    write_manifest(&key, &partial, &manifest)?;
    let dir = root.join(&id);
    publish(&partial, &dir)?;
    let keyring_dir = copy_keyring(config, &key, &id, started)?;
    Ok(Made {
        id,
        dir,
        keyring_dir,
        files: sealed,
        took_ms: now_ms() - started,
    })
}

fn read_manifest(dir: &Path) -> Result<(Vec<u8>, Manifest), BackupError> {
    let path = dir.join(MANIFEST);
    let bytes = fs::read(&path).map_err(io_err(&path))?;
    let manifest = serde_json::from_slice(&bytes).map_err(|e| io_err(&path)(e.into()))?;
    Ok((bytes, manifest))
}

/// The data backups, oldest first (unfinished `.partial` ones are not backups).
pub fn list(config: &Config) -> Result<Vec<Listed>, BackupError> {
    let root = &config.backup_dir;
    let entries = match fs::read_dir(root) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err(root)(e)),
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !entry.path().is_dir() {
            continue;
        }
        let (created_at, bytes) = match read_manifest(&entry.path()) {
            Ok((_, m)) => (m.created_at, m.files.iter().map(|f| f.bytes).sum()),
            Err(_) => (0, 0),
        };
        out.push(Listed {
            keyring: config
                .keyring_backup_dir
                .join(&name)
                .join(MANIFEST)
                .is_file(),
            id: name,
            created_at,
            bytes,
        });
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// Checks one data file completely: its hash, then every chunk and the compressed stream.
fn check_data_file(key: &BackupKey, dir: &Path, f: &FileEntry) -> Result<(), String> {
    let path = dir.join(&f.stored);
    let (sha256, bytes) = sha256_of(&path).map_err(|e| e.to_string())?;
    if bytes != f.bytes || sha256 != f.sha256 {
        return Err(format!(
            "{}: damaged (its SHA-256 differs from the manifest)",
            f.stored
        ));
    }
    let mut input = BufReader::new(File::open(&path).map_err(|e| format!("{}: {e}", f.stored))?);
    let mut gz = GzDecoder::new(io::sink());
    stream::open(key, &f.name, &mut input, &mut gz).map_err(|e| format!("{}: {e}", f.stored))?;
    gz.try_finish()
        .map_err(|e| format!("{}: the compressed data is damaged ({e})", f.stored))
}

fn check_dir(key: &BackupKey, dir: &Path, kind: &str) -> Vec<String> {
    let (bytes, manifest) = match read_manifest(dir) {
        Ok(m) => m,
        Err(e) => return vec![format!("{kind} manifest unreadable: {e}")],
    };
    let mac = fs::read_to_string(dir.join(MAC)).unwrap_or_default();
    if !key.mac_matches(&bytes, mac.trim()) {
        return vec![format!(
            "{kind} manifest altered, or the backup was made with another master key"
        )];
    }
    let mut problems = Vec::new();
    for f in &manifest.files {
        let checked = if kind == "data" {
            check_data_file(key, dir, f)
        } else {
            match sha256_of(&dir.join(&f.stored)) {
                Ok((sha, n)) if sha == f.sha256 && n == f.bytes => Ok(()),
                Ok(_) => Err(format!("{}: damaged", f.stored)),
                Err(e) => Err(e.to_string()),
            }
        };
        if let Err(problem) = checked {
            problems.push(format!("{kind} {problem}"));
        }
    }
    problems
}

/// Verifies the backup `id`, or every backup: each with its problems (none: intact).
pub async fn verify(
    config: &Config,
    id: Option<&str>,
) -> Result<Vec<(String, Vec<String>)>, BackupError> {
    let key = BackupKey::derive(&load_master_key(&config.master_key_file)?)
        .map_err(|e| BackupError::Stream(e.into()))?;
    let ids: Vec<String> = match id {
        Some(id) => {
            if !list(config)?.iter().any(|l| l.id == id) {
                return Err(BackupError::NotFound(id.to_owned()));
            }
            vec![id.to_owned()]
        }
        None => list(config)?.into_iter().map(|l| l.id).collect(),
    };
    let data_root = config.backup_dir.clone();
    let keyring_root = config.keyring_backup_dir.clone();
    tokio::task::spawn_blocking(move || {
        ids.into_iter()
            .map(|id| {
                let mut problems = check_dir(&key, &data_root.join(&id), "data");
                let keyring = keyring_root.join(&id);
                if keyring.is_dir() {
                    problems.extend(check_dir(&key, &keyring, "keyring"));
                } else {
                    problems.push(
                        "keyring backup missing: restoring this backup will need the keyring from elsewhere"
                            .into(),
                    );
                }
                (id, problems)
            })
            .collect()
    })
    .await
    .map_err(|e| io_err(&config.backup_dir)(io::Error::other(e)))
}
