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
use enshin_store::files::{create_private_dir, write_new_private, write_replace_private};
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
/// Written when a backup fails, removed by the next success: what `/healthz` and metrics report.
const FAILURE: &str = ".last-failure";
/// When the last drill restored a sound copy (unix ms).
const LAST_DRILL: &str = ".last-drill";
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

/// The backup key of this deployment, derived from its master key.
fn backup_key(config: &Config) -> Result<BackupKey, BackupError> {
    BackupKey::derive(&load_master_key(&config.master_key_file)?)
        .map_err(|e| BackupError::Stream(e.into()))
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

/// Destroys a clinic's wrapped data key in every keyring backup (DATA-5), as the live keyring
/// does: the file is overwritten and removed, a tombstone takes its place, and the manifest is
/// rewritten with a new MAC, so `backup verify` still passes and a restore keeps the clinic
/// destroyed. Returns the keyring backups that held the key.
pub fn destroy_in_keyring_backups(
    config: &Config,
    clinic_id: &str,
) -> Result<Vec<String>, BackupError> {
    let key = backup_key(config)?;
    let root = &config.keyring_backup_dir;
    let entries = match fs::read_dir(root) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err(root)(e)),
    };
    // `.partial` directories are unfinished backups and hold copies too.
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let (key_name, tomb_name) = (format!("{clinic_id}.key"), format!("{clinic_id}.destroyed"));
    let mut done = Vec::new();
    for dir in dirs {
        let key_path = dir.join(&key_name);
        let Ok(meta) = fs::metadata(&key_path) else {
            continue;
        };
        fs::write(&key_path, vec![0u8; meta.len() as usize]).map_err(io_err(&key_path))?;
        fs::remove_file(&key_path).map_err(io_err(&key_path))?;
        let tomb = dir.join(&tomb_name);
        write_replace_private(&tomb, b"destroyed\n").map_err(io_err(&tomb))?;
        if let Ok((_, mut manifest)) = read_manifest(&dir) {
            let (sha256, bytes) = sha256_of(&tomb)?;
            manifest
                .files
                .retain(|f| f.name != key_name && f.name != tomb_name);
            manifest.files.push(FileEntry {
                name: tomb_name.clone(),
                stored: tomb_name.clone(),
                bytes,
                sha256,
            });
            manifest.files.sort_by(|a, b| a.name.cmp(&b.name));
            let text = serde_json::to_vec_pretty(&manifest).map_err(|e| io_err(&dir)(e.into()))?;
            let (path, mac) = (dir.join(MANIFEST), dir.join(MAC));
            write_replace_private(&path, &text).map_err(io_err(&path))?;
            write_replace_private(&mac, key.mac(&text).as_bytes()).map_err(io_err(&mac))?;
        }
        sync_dir(&dir)?;
        done.push(
            dir.file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        );
    }
    Ok(done)
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
    let key = backup_key(config)?;
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
    let _ = fs::remove_file(root.join(FAILURE));
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
    let key = backup_key(config)?;
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

/// Which backup a restore takes.
#[derive(Debug, Clone, Copy)]
pub enum Pick<'a> {
    /// The one of this name.
    Named(&'a str),
    /// The newest.
    Latest,
    /// The newest taken before this time (unix ms).
    Before(i64),
}

/// The backup a pick names.
pub fn pick(config: &Config, pick: Pick<'_>) -> Result<Listed, BackupError> {
    let listed = list(config)?;
    let found = match pick {
        Pick::Named(id) => listed.into_iter().find(|l| l.id == id),
        Pick::Latest => listed.into_iter().next_back(),
        Pick::Before(ms) => listed.into_iter().rfind(|l| l.created_at < ms),
    };
    found.ok_or_else(|| {
        BackupError::NotFound(match pick {
            Pick::Named(id) => id.to_owned(),
            Pick::Latest => "(there are no backups)".into(),
            Pick::Before(_) => "(none taken before that time)".into(),
        })
    })
}

/// Opens one data file of a backup into `target`, calling `progress` with stored bytes read.
fn unseal_file(
    key: &BackupKey,
    dir: &Path,
    f: &FileEntry,
    target: &Path,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(), BackupError> {
    let path = dir.join(&f.stored);
    let file = File::open(&path).map_err(io_err(&path))?;
    let mut input = Counting {
        inner: BufReader::new(file),
        progress,
    };
    let out = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(target)
        .map_err(io_err(target))?;
    let mut gz = GzDecoder::new(io::BufWriter::new(out));
    stream::open(key, &f.name, &mut input, &mut gz)?;
    let out = gz
        .finish()
        .and_then(|w| w.into_inner().map_err(io::IntoInnerError::into_error))
        .map_err(io_err(target))?;
    out.sync_all().map_err(io_err(target))
}

/// Reads through to `inner`, reporting each read's size.
struct Counting<'a, R: Read> {
    inner: R,
    progress: &'a (dyn Fn(u64) + Sync),
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        (self.progress)(n as u64);
        Ok(n)
    }
}

/// The database files `names` of a backup, opened into `into` with `suffix`; each with its name.
fn unseal_all(
    key: &BackupKey,
    dir: &Path,
    names: &[&str],
    into: &Path,
    suffix: &str,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Vec<(String, PathBuf)>, BackupError> {
    let (_, manifest) = read_manifest(dir)?;
    let mut out = Vec::new();
    for f in manifest
        .files
        .iter()
        .filter(|f| names.contains(&f.name.as_str()))
    {
        let target = into.join(format!("{}{suffix}", f.name));
        let _ = fs::remove_file(&target);
        unseal_file(key, dir, f, &target, progress)?;
        out.push((f.name.clone(), target));
    }
    Ok(out)
}

/// What a restore did.
#[derive(Debug, Clone)]
pub struct Restored {
    /// The backup restored.
    pub id: String,
    /// When it was taken, unix ms.
    pub created_at: i64,
    /// How long the restore took, ms.
    pub took_ms: i64,
    /// Where the files it replaced were moved (nothing is deleted).
    pub replaced_dir: PathBuf,
    /// Clinic keys put back into the keyring from the keyring backup.
    pub keys_restored: Vec<String>,
    /// Clinic keys in the backup that stay destroyed (their tombstone is in the keyring).
    pub keys_kept_destroyed: Vec<String>,
    /// Whether the access log was restored too.
    pub access_log: bool,
}

/// Why a restore refused to start.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// A `serve` runs on this data directory.
    #[error(transparent)]
    InUse(#[from] crate::datadir::DataDirError),
    /// The backup is damaged.
    #[error("backup {id} is damaged: {problems}")]
    Damaged {
        /// The backup.
        id: String,
        /// What verify found.
        problems: String,
    },
    /// The keyring backup of the same name is missing.
    #[error(
        "the keyring backup {0} is missing: a restore needs the data backup, its keyring backup and the master key; put the keyring backup back (see docs/operations.md \"Backups\")"
    )]
    NoKeyring(PathBuf),
    /// Reading or writing failed.
    #[error(transparent)]
    Backup(#[from] BackupError),
}

/// Puts the keys of the keyring backup `dir` that the live keyring lacks back into it; a clinic
/// whose key was destroyed (a tombstone in either) stays destroyed (DATA-5).
fn merge_keyring(config: &Config, dir: &Path) -> Result<(Vec<String>, Vec<String>), BackupError> {
    let live = &config.keyring_dir;
    create_private_dir(live).map_err(io_err(live))?;
    let (_, manifest) = read_manifest(dir)?;
    let (mut restored, mut destroyed) = (Vec::new(), Vec::new());
    for f in &manifest.files {
        // A tombstone comes back too, so a destroyed key reads as destroyed, not as missing.
        if f.name.ends_with(".destroyed") {
            let target = live.join(&f.name);
            if !target.exists() {
                let bytes = fs::read(dir.join(&f.stored)).map_err(io_err(dir))?;
                write_new_private(&target, &bytes).map_err(io_err(&target))?;
            }
            continue;
        }
        let Some(clinic) = f.name.strip_suffix(".key") else {
            continue;
        };
        let tombstone = format!("{clinic}.destroyed");
        if live.join(&tombstone).exists() || dir.join(&tombstone).exists() {
            destroyed.push(clinic.to_owned());
            continue;
        }
        let target = live.join(&f.name);
        if target.exists() {
            continue;
        }
        let bytes = fs::read(dir.join(&f.stored)).map_err(io_err(dir))?;
        write_new_private(&target, &bytes).map_err(io_err(&target))?;
        restored.push(clinic.to_owned());
    }
    Ok((restored, destroyed))
}

const MAIN_FILES: [&str; 3] = ["enshin.db", "enshin.db-wal", "enshin.db-shm"];
const AUDIT_FILES: [&str; 3] = ["audit.db", "audit.db-wal", "audit.db-shm"];

/// Restores a backup over the embedded default's database (and, with `access_log`, the access
/// log): verified first; refused while a `serve` runs; the replaced files are moved aside.
pub async fn restore(
    config: &Config,
    which: Pick<'_>,
    access_log: bool,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<Restored, RestoreError> {
    if config.database_url.is_some() {
        return Err(BackupError::Postgres.into());
    }
    let started = now_ms();
    let _lock = crate::datadir::lock_for_restore(config)?;
    let chosen = pick(config, which)?;
    let checked = verify(config, Some(&chosen.id)).await?;
    let problems: Vec<String> = checked
        .into_iter()
        .flat_map(|(_, p)| p)
        .filter(|p| !p.starts_with("keyring backup missing"))
        .collect();
    if !problems.is_empty() {
        return Err(RestoreError::Damaged {
            id: chosen.id,
            problems: problems.join("; "),
        });
    }
    let keyring_dir = config.keyring_backup_dir.join(&chosen.id);
    if !keyring_dir.is_dir() {
        return Err(RestoreError::NoKeyring(keyring_dir));
    }
    let key = backup_key(config)?;
    let dir = config.backup_dir.join(&chosen.id);
    let mut names = vec!["enshin.db"];
    if access_log {
        names.push("audit.db");
    }
    let data_dir = config.data_dir.clone();
    let total = chosen.bytes;
    let done = std::sync::atomic::AtomicU64::new(0);
    let report = |n: u64| {
        let sum = done.fetch_add(n, std::sync::atomic::Ordering::Relaxed) + n;
        progress(sum, total);
    };
    let restoring = tokio::task::block_in_place(|| {
        unseal_all(&key, &dir, &names, &data_dir, ".restoring", &report)
    })?;
    let replaced_dir = data_dir.join(format!("replaced-{}", backup_id(now_ms())));
    create_private_dir(&replaced_dir).map_err(|e| io_err(&replaced_dir)(e))?;
    let mut moving: Vec<&str> = MAIN_FILES.to_vec();
    if access_log {
        moving.extend(AUDIT_FILES);
    }
    for name in moving {
        let from = data_dir.join(name);
        if from.exists() {
            fs::rename(&from, replaced_dir.join(name)).map_err(|e| io_err(&from)(e))?;
        }
    }
    for (name, path) in &restoring {
        fs::rename(path, data_dir.join(name)).map_err(|e| io_err(path)(e))?;
    }
    sync_dir(&data_dir)?;
    let (keys_restored, keys_kept_destroyed) = merge_keyring(config, &keyring_dir)?;
    let store = Store::connect(&config.effective_database_url())
        .await
        .map_err(BackupError::from)?;
    let migrated = store.migrate().await;
    store.close().await;
    migrated.map_err(BackupError::from)?;
    Ok(Restored {
        id: chosen.id,
        created_at: chosen.created_at,
        took_ms: now_ms() - started,
        replaced_dir,
        keys_restored,
        keys_kept_destroyed,
        access_log,
    })
}

/// What a drill found.
#[derive(Debug, Clone)]
pub struct Drill {
    /// The backup restored.
    pub id: String,
    /// Its age when the drill began (the recovery point), ms.
    pub age_ms: i64,
    /// Time to restore it and make it usable (the recovery time), ms.
    pub restore_ms: i64,
    /// SQLite's integrity check of the restored database.
    pub integrity: String,
    /// The schema version after migrations.
    pub schema_version: i64,
    /// Whether the restored access log verifies.
    pub access_log_ok: bool,
    /// Entries in the restored access log.
    pub access_log_entries: u64,
    /// Rows per clinic.
    pub clinics: Vec<enshin_store::people::ClinicRows>,
}

/// Restores the newest backup into a scratch directory, migrates it, verifies the access log,
/// counts rows per clinic and reports the recovery time and point; the live data is untouched.
pub async fn drill(config: &Config) -> Result<Drill, RestoreError> {
    if config.database_url.is_some() {
        return Err(BackupError::Postgres.into());
    }
    let started = now_ms();
    let chosen = pick(config, Pick::Latest)?;
    let problems: Vec<String> = verify(config, Some(&chosen.id))
        .await?
        .into_iter()
        .flat_map(|(_, p)| p)
        .collect();
    if !problems.is_empty() {
        return Err(RestoreError::Damaged {
            id: chosen.id,
            problems: problems.join("; "),
        });
    }
    let key = backup_key(config)?;
    let scratch = std::env::temp_dir().join(format!("enshin-drill-{}", backup_id(started)));
    create_private_dir(&scratch).map_err(|e| io_err(&scratch)(e))?;
    let dir = config.backup_dir.join(&chosen.id);
    let result = async {
        tokio::task::block_in_place(|| {
            unseal_all(
                &key,
                &dir,
                &["enshin.db", "audit.db"],
                &scratch,
                "",
                &|_| {},
            )
        })?;
        let url = |name: &str| format!("sqlite://{}", scratch.join(name).display());
        let store = Store::connect(&url("enshin.db"))
            .await
            .map_err(BackupError::from)?;
        let applied = store.migrate().await.map_err(BackupError::from)?;
        let integrity = store
            .integrity_check()
            .await
            .map_err(BackupError::from)?
            .unwrap_or_default();
        let restore_ms = now_ms() - started;
        let clinics = store
            .clinic_row_counts()
            .await
            .map_err(|e| BackupError::from(StoreError::from(e)))?;
        store.close().await;
        let audit = AuditStore::connect(&url("audit.db"))
            .await
            .map_err(BackupError::from)?;
        audit.migrate().await.map_err(BackupError::from)?;
        // The checkpoint file belongs to the live log, which has gone on since: the restored log
        // is checked against the signed checkpoints inside it.
        let report = crate::audit_verify::verify(&audit, &scratch.join("no-checkpoint-file")).await;
        audit.close().await;
        let (access_log_ok, access_log_entries) = match report {
            Ok(r) => (r.ok(), r.writers.iter().map(|(_, w)| w.entries).sum()),
            Err(_) => (false, 0),
        };
        Ok::<_, RestoreError>(Drill {
            id: chosen.id.clone(),
            age_ms: started - chosen.created_at,
            restore_ms,
            integrity,
            schema_version: applied.last().map_or(0, |m| m.version),
            access_log_ok,
            access_log_entries,
            clinics,
        })
    }
    .await;
    let _ = fs::remove_dir_all(&scratch);
    // A drill that restored a sound copy is the evidence the disclosure shows (AVAIL-1).
    if let Ok(d) = &result
        && d.integrity == "ok"
        && d.access_log_ok
    {
        let _ = enshin_store::files::write_replace_private(
            &config.backup_dir.join(LAST_DRILL),
            now_ms().to_string().as_bytes(),
        );
    }
    result
}

/// Notes that a backup failed (the time only; the reason goes to the operator's terminal), so
/// `/healthz` and metrics show it until the next success.
pub fn record_failure(config: &Config) {
    let root = &config.backup_dir;
    if create_private_dir(root).is_ok() {
        let _ = enshin_store::files::write_replace_private(
            &root.join(FAILURE),
            now_ms().to_string().as_bytes(),
        );
    }
}

/// The backup state `/healthz` and metrics show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupState {
    /// The newest backup's name.
    pub last: Option<String>,
    /// When it was taken, unix ms.
    pub last_at: Option<i64>,
    /// When the last backup failed, if none succeeded since.
    pub failed_at: Option<i64>,
    /// When the last restore drill succeeded.
    pub drilled_at: Option<i64>,
}

/// The newest backup in `dir` and the last failure since it.
pub fn state(dir: &Path) -> BackupState {
    let mut newest: Option<String> = None;
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.starts_with('.') && entry.path().join(MANIFEST).is_file() {
                newest = newest.max(Some(name));
            }
        }
    }
    let last_at = newest
        .as_ref()
        .and_then(|id| read_manifest(&dir.join(id)).ok())
        .map(|(_, m)| m.created_at);
    let read_ms = |name: &str| {
        fs::read_to_string(dir.join(name))
            .ok()
            .and_then(|t| t.trim().parse().ok())
    };
    BackupState {
        last: newest,
        last_at,
        failed_at: read_ms(FAILURE),
        drilled_at: read_ms(LAST_DRILL),
    }
}

/// Deletes the oldest backups beyond `keep`, each with its keyring backup; returns their names.
pub fn prune(config: &Config, keep: usize) -> Result<Vec<String>, BackupError> {
    let listed = list(config)?;
    let excess = listed.len().saturating_sub(keep);
    let mut removed = Vec::new();
    for old in listed.into_iter().take(excess) {
        let dir = config.backup_dir.join(&old.id);
        fs::remove_dir_all(&dir).map_err(io_err(&dir))?;
        let keys = config.keyring_backup_dir.join(&old.id);
        if keys.is_dir() {
            fs::remove_dir_all(&keys).map_err(io_err(&keys))?;
        }
        removed.push(old.id);
    }
    Ok(removed)
}

/// The scheduled backups of a `serve` on the embedded default: one every `backup_interval`,
/// then the oldest beyond `backup_keep` are deleted; a failure is logged and shows in `/healthz`.
pub fn spawn_schedule(
    config: Config,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Option<tokio::task::JoinHandle<()>> {
    let interval = config.backup_interval?;
    if config.database_url.is_some() {
        return None;
    }
    Some(tokio::spawn(async move {
        loop {
            tokio::select! {
                () = tokio::time::sleep(interval) => {}
                _ = stop.changed() => break,
            }
            if *stop.borrow() {
                break;
            }
            match backup_now(&config).await {
                Ok(made) => {
                    tracing::info!(backup = %made.id, took_ms = made.took_ms, "backup taken");
                    if let Err(error) = prune(&config, config.backup_keep) {
                        tracing::error!(%error, "old backups could not be deleted");
                    }
                }
                Err(error) => {
                    record_failure(&config);
                    tracing::error!(%error, "backup failed");
                }
            }
        }
    }))
}
