//! The data directory of an instance: checked before use, locked against a second `serve`, and
//! filled on first start with what the embedded default needs (PKI, master key, keyring).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use enshin_core::crypto::envelope::MasterKey;
use enshin_core::pki::{PkiError, ServiceCa};
use enshin_store::files::{create_private_dir, write_new_private, write_replace_private};
use enshin_store::keyring::{self, Keyring, KeyringError};
use time::OffsetDateTime;

use crate::config::Config;

const CA_VALID_DAYS: i64 = 3650;
// Below the 398 days browsers accept for a server certificate.
const SERVER_CERT_VALID_DAYS: i64 = 397;

/// Why the data directory cannot be used; each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    /// Writes fail with EROFS.
    #[error(
        "{0}: read-only file system; enshin must be able to write its data directory (data_dir)"
    )]
    ReadOnly(PathBuf),
    /// Writes fail with ENOSPC.
    #[error("{0}: no space left on device; free space or move data_dir to a larger disk")]
    Full(PathBuf),
    /// Less free space than configured.
    #[error(
        "{path}: only {free_mib} MiB free, at least {needed_mib} MiB required (min_free_space_mb)"
    )]
    LowSpace {
        /// The data directory.
        path: PathBuf,
        /// Free MiB.
        free_mib: u64,
        /// Required MiB.
        needed_mib: u64,
    },
    /// The operating system denied access.
    #[error("{0}: permission denied; the user running enshin must own its data directory")]
    Denied(PathBuf),
    /// Another `serve` holds the lock.
    #[error(
        "{path} is in use by another enshin serve (pid {pid}); stop it first or use another data_dir"
    )]
    InUse {
        /// The data directory.
        path: PathBuf,
        /// Process id written by the holder, if readable.
        pid: String,
    },
    /// The master key is gone while clinic keys wrapped by it remain.
    #[error(
        "master key file {master} is missing but the keyring {keyring} holds clinic keys; restore the master key from its safe copy (a new one would make every clinic unreadable)"
    )]
    MasterKeyMissing {
        /// Expected master key file.
        master: PathBuf,
        /// The keyring directory.
        keyring: PathBuf,
    },
    /// The master key does not exist yet.
    #[error("no master key at {0}: start `enshin serve` once to create the data directory")]
    NotInitialised(PathBuf),
    /// Half of the CA is missing.
    #[error("{0} is missing although the CA certificate exists; restore it from backup")]
    CaKeyMissing(PathBuf),
    /// A CA key without its certificate: an interrupted first start, or a lost certificate.
    #[error(
        "{0} exists without ca.crt beside it; restore ca.crt from backup, or delete the key if this data directory never served"
    )]
    CaCertMissing(PathBuf),
    /// Another file-system error.
    #[error("{path}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// Keyring failure.
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    /// Certificate failure.
    #[error("PKI")]
    Pki(#[from] PkiError),
}

/// Turns an I/O error on `path` into the clearest [`DataDirError`].
fn classify(path: &Path) -> impl FnOnce(io::Error) -> DataDirError + '_ {
    move |source| match source.kind() {
        io::ErrorKind::ReadOnlyFilesystem => DataDirError::ReadOnly(path.to_owned()),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => {
            DataDirError::Full(path.to_owned())
        }
        io::ErrorKind::PermissionDenied => DataDirError::Denied(path.to_owned()),
        _ => DataDirError::Io {
            path: path.to_owned(),
            source,
        },
    }
}

fn keyring_io(err: KeyringError) -> DataDirError {
    match err {
        KeyringError::Io { path, source } => classify(&path)(source),
        other => DataDirError::Keyring(other),
    }
}

/// Something first start created, for the start report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// What it is, in a few words.
    pub what: &'static str,
    /// Where it is.
    pub path: PathBuf,
}

/// TLS material read from the data directory.
#[derive(Debug, Clone)]
pub struct TlsMaterial {
    /// The service CA certificate (trusted for client certificates), PEM.
    pub ca_cert_pem: String,
    /// The listeners' server certificate chain, PEM.
    pub server_cert_pem: String,
    /// The server certificate's private key, PEM.
    pub server_key_pem: String,
    /// The service CA's private key, PEM: it signs client certificates and CRLs.
    pub ca_key_pem: zeroize::Zeroizing<String>,
}

/// The exclusive lock of a running `serve`, released when dropped.
#[derive(Debug)]
pub struct InstanceLock {
    _file: File,
}

/// Everything an instance needs from its data directory.
pub struct Prepared {
    /// Absolute data directory.
    pub root: PathBuf,
    /// What this start created.
    pub created: Vec<Created>,
    /// The lock, held while the instance runs.
    pub lock: InstanceLock,
    /// The keyring of clinic data keys.
    pub keyring: Keyring,
    /// Certificates and keys for the listeners.
    pub tls: TlsMaterial,
    /// The outbox directory (mail of the embedded default).
    pub outbox: crate::outbox::Outbox,
}

/// Free bytes available to this user on the file system of `path`.
#[allow(unsafe_code)]
fn free_space(path: &Path) -> io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    // SAFETY: `c_path` is a valid NUL-terminated string, and `stat` is a zeroed plain-data struct
    // that statvfs fills in; neither outlives the call.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c_path.as_ptr(), &mut stat) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(stat.f_bavail as u64 * stat.f_frsize as u64)
}

/// Creates the directory if needed and proves it is writable with enough free space.
fn preflight(root: &Path, min_free: u64, created: &mut Vec<Created>) -> Result<(), DataDirError> {
    if !root.exists() {
        create_private_dir(root).map_err(classify(root))?;
        created.push(Created {
            what: "data directory",
            path: root.to_owned(),
        });
    }
    let probe = root.join(".write-probe");
    let _ = fs::remove_file(&probe);
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&probe)
        .and_then(|mut f| f.write_all(b"probe").and_then(|()| f.sync_all()));
    let _ = fs::remove_file(&probe);
    written.map_err(classify(root))?;
    let free = free_space(root).map_err(classify(root))?;
    if free < min_free {
        return Err(DataDirError::LowSpace {
            path: root.to_owned(),
            free_mib: free / (1024 * 1024),
            needed_mib: min_free / (1024 * 1024),
        });
    }
    Ok(())
}

/// Takes the exclusive lock that keeps a second `serve` off this directory; CLI commands do
/// not take it, so they keep working beside a running server.
fn lock(root: &Path) -> Result<InstanceLock, DataDirError> {
    let path = root.join("serve.lock");
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(classify(&path))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            let mut pid = String::new();
            let _ = file.read_to_string(&mut pid);
            let pid = pid.trim().to_owned();
            return Err(DataDirError::InUse {
                path: root.to_owned(),
                pid: if pid.is_empty() {
                    "unknown".into()
                } else {
                    pid
                },
            });
        }
        Err(fs::TryLockError::Error(e)) => return Err(classify(&path)(e)),
    }
    file.set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| writeln!(file, "{}", std::process::id()))
        .map_err(classify(&path))?;
    Ok(InstanceLock { _file: file })
}

fn read(path: &Path) -> Result<String, DataDirError> {
    fs::read_to_string(path).map_err(classify(path))
}

fn write_new(path: &Path, text: &str) -> Result<(), DataDirError> {
    write_new_private(path, text.as_bytes()).map_err(classify(path))
}

/// The service CA and the server certificate, generated on first start.
fn pki(
    root: &Path,
    names: &[String],
    created: &mut Vec<Created>,
) -> Result<TlsMaterial, DataDirError> {
    let dir = root.join("pki");
    create_private_dir(&dir).map_err(classify(&dir))?;
    let (ca_cert, ca_key) = (dir.join("ca.crt"), dir.join("ca.key"));
    let (server_cert, server_key) = (dir.join("server.crt"), dir.join("server.key"));
    let now = OffsetDateTime::now_utc();
    let ca = if ca_cert.exists() {
        if !ca_key.exists() {
            return Err(DataDirError::CaKeyMissing(ca_key));
        }
        None
    } else if ca_key.exists() {
        return Err(DataDirError::CaCertMissing(ca_key));
    } else {
        let (ca, issued) = ServiceCa::generate("enshin service CA", now, CA_VALID_DAYS)?;
        write_new(&ca_key, &issued.key_pem)?;
        write_new(&ca_cert, &issued.cert_pem)?;
        created.push(Created {
            what: "service CA (issues clinic client certificates)",
            path: ca_cert.clone(),
        });
        Some(ca)
    };
    if !server_cert.exists() {
        let ca = match ca {
            Some(ca) => ca,
            None => ServiceCa::from_pem(&read(&ca_cert)?, &read(&ca_key)?)?,
        };
        let issued = ca.issue_server(names, now, SERVER_CERT_VALID_DAYS)?;
        // Replaced, not created: a key left by an interrupted start has no certificate and no use.
        write_replace_private(&server_key, issued.key_pem.as_bytes())
            .map_err(classify(&server_key))?;
        write_new(
            &server_cert,
            &format!("{}{}", issued.cert_pem, ca.cert_pem()),
        )?;
        created.push(Created {
            what: "server certificate signed by the service CA",
            path: server_cert.clone(),
        });
    }
    Ok(TlsMaterial {
        ca_cert_pem: read(&ca_cert)?,
        server_cert_pem: read(&server_cert)?,
        server_key_pem: read(&server_key)?,
        ca_key_pem: zeroize::Zeroizing::new(read(&ca_key)?),
    })
}

fn master_key(config: &Config, created: &mut Vec<Created>) -> Result<MasterKey, DataDirError> {
    let path = &config.master_key_file;
    if path.exists() {
        return keyring::load_master_key(path).map_err(keyring_io);
    }
    let has_keys = fs::read_dir(&config.keyring_dir)
        .map(|entries| {
            entries
                .flatten()
                .any(|e| e.path().extension().is_some_and(|x| x == "key"))
        })
        .unwrap_or(false);
    if has_keys {
        return Err(DataDirError::MasterKeyMissing {
            master: path.clone(),
            keyring: config.keyring_dir.clone(),
        });
    }
    let key = keyring::create_master_key(path).map_err(keyring_io)?;
    created.push(Created {
        what: "master key (mode 0600; keep a copy apart from backups)",
        path: path.clone(),
    });
    Ok(key)
}

/// Takes the data directory's `serve` lock for a command that must run alone (a restore): it
/// fails with `InUse` while a `serve` runs there. A missing data directory is created (mode 0700).
pub fn lock_for_restore(config: &Config) -> Result<InstanceLock, DataDirError> {
    // Restoring onto a new host (the old disk lost) starts from no data directory at all.
    if !config.data_dir.exists() {
        create_private_dir(&config.data_dir).map_err(classify(&config.data_dir))?;
    }
    let root = config
        .data_dir
        .canonicalize()
        .map_err(classify(&config.data_dir))?;
    lock(&root)
}

/// Checks, locks and (on first start) fills the data directory of a `serve`.
pub fn prepare(config: &Config) -> Result<Prepared, DataDirError> {
    let mut created = Vec::new();
    preflight(&config.data_dir, config.min_free_space, &mut created)?;
    let root = config
        .data_dir
        .canonicalize()
        .map_err(classify(&config.data_dir))?;
    let lock = lock(&root)?;
    let tls = pki(&root, &config.server_names, &mut created)?;
    let master = master_key(config, &mut created)?;
    let keyring_existed = config.keyring_dir.exists();
    let keyring = Keyring::open(&config.keyring_dir, master).map_err(keyring_io)?;
    if !keyring_existed {
        created.push(Created {
            what: "keyring of per-clinic data keys",
            path: config.keyring_dir.clone(),
        });
    }
    let outbox_dir = root.join("outbox");
    if !outbox_dir.exists() {
        created.push(Created {
            what: "outbox (mail that would have been sent)",
            path: outbox_dir.clone(),
        });
    }
    let outbox = crate::outbox::Outbox::open(&outbox_dir).map_err(classify(&outbox_dir))?;
    if config.database_url.is_none() && !root.join("enshin.db").exists() {
        created.push(Created {
            what: "database (SQLite, WAL)",
            path: root.join("enshin.db"),
        });
    }
    Ok(Prepared {
        root,
        created,
        lock,
        keyring,
        tls,
        outbox,
    })
}

/// Makes sure the directory of the embedded database exists, for CLI commands run before `serve`.
pub fn ensure_database_dir(config: &Config) -> Result<(), DataDirError> {
    if config.database_url.is_none() && !config.data_dir.exists() {
        create_private_dir(&config.data_dir).map_err(classify(&config.data_dir))?;
    }
    Ok(())
}

/// Opens the keyring of an existing data directory, for CLI commands beside a running serve.
pub fn open_keyring(config: &Config) -> Result<Keyring, DataDirError> {
    if !config.master_key_file.exists() {
        return Err(DataDirError::NotInitialised(config.master_key_file.clone()));
    }
    let master = keyring::load_master_key(&config.master_key_file).map_err(keyring_io)?;
    Keyring::open(&config.keyring_dir, master).map_err(keyring_io)
}

/// Opens the service CA of an existing data directory, for CLI commands beside a running serve.
pub fn open_ca(config: &Config) -> Result<ServiceCa, DataDirError> {
    let dir = config.data_dir.join("pki");
    let (cert, key) = (dir.join("ca.crt"), dir.join("ca.key"));
    if !cert.exists() {
        return Err(DataDirError::NotInitialised(cert));
    }
    Ok(ServiceCa::from_pem(&read(&cert)?, &read(&key)?)?)
}
