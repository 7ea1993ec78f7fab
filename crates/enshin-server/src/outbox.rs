//! Mail of the embedded default: each message is a file in `outbox/` (mode 0600) that a person
//! can read, and nothing is sent. Messages carry no A-class data (DATA-2). The e-mail issue
//! puts a persistent queue and real SMTP behind the same call.

use std::io;
use std::path::{Path, PathBuf};

use enshin_store::files::{create_private_dir, write_new_private};

use crate::clock::now_ms;

/// The outbox directory.
#[derive(Debug, Clone)]
pub struct Outbox {
    dir: PathBuf,
}

impl Outbox {
    /// Opens (creating, mode 0700) the outbox directory.
    pub fn open(dir: &Path) -> io::Result<Self> {
        create_private_dir(dir)?;
        Ok(Self {
            dir: dir.to_owned(),
        })
    }

    /// Writes one message; returns its file.
    pub fn send(&self, to: &str, subject: &str, body: &str) -> io::Result<PathBuf> {
        let now = now_ms();
        let path = self
            .dir
            .join(format!("{now}-{}.eml", uuid::Uuid::now_v7().simple()));
        let date = format!("{} JST", crate::clock::japan_time(now));
        let text = format!(
            "To: {to}\nSubject: {subject}\nDate: {date}\nContent-Type: text/plain; charset=utf-8\n\n{body}"
        );
        write_new_private(&path, text.as_bytes())?;
        Ok(path)
    }
}
