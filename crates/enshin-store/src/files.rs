//! Writing secret files so that a crash never leaves a half-written key and nobody else can read it.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

fn write_temp(path: &Path, bytes: &[u8]) -> io::Result<(PathBuf, PathBuf)> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_owned();
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(
        ".{name}.tmp-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    match written {
        Ok(()) => Ok((tmp, dir)),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Writes `bytes` to a new file at `path` with mode 0600, durably and all or nothing. Fails with
/// `AlreadyExists` rather than replace a file, also when two processes race (the final step is a
/// hard link, which never overwrites).
pub fn write_new_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let (tmp, dir) = write_temp(path, bytes)?;
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    linked?;
    File::open(dir)?.sync_all()
}

/// Writes `bytes` to `path` with mode 0600, durably and all or nothing, replacing any old file.
pub fn write_replace_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let (tmp, dir) = write_temp(path, bytes)?;
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    File::open(dir)?.sync_all()
}

/// Creates a directory (and parents) that only the service's user may enter.
pub fn create_private_dir(path: &Path) -> io::Result<()> {
    fs::create_dir_all(path)?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o700))
}

/// True when group or others may read or write the file: a secret kept like that is exposed.
pub fn is_exposed(path: &Path) -> io::Result<bool> {
    Ok(fs::metadata(path)?.permissions().mode() & 0o077 != 0)
}
