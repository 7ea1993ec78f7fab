//! The sender of the embedded default: each message is a file in `outbox/` (mode 0600) that a
//! person can read, and nothing is sent. Messages reach it through the queue (`messages`).

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

    /// Writes one e-mail; returns its file.
    pub fn send(&self, to: &str, subject: &str, body: &str) -> io::Result<PathBuf> {
        self.write("eml", &format!("To: {to}\nSubject: {subject}"), body)
    }

    /// Writes one SMS; returns its file.
    pub fn sms(&self, to: &str, text: &str) -> io::Result<PathBuf> {
        self.write("sms", &format!("SMS-To: {to}"), text)
    }

    fn write(&self, extension: &str, headers: &str, body: &str) -> io::Result<PathBuf> {
        let now = now_ms();
        let path = self.dir.join(format!(
            "{now}-{}.{extension}",
            uuid::Uuid::now_v7().simple()
        ));
        let text = format!(
            "{headers}\nDate: {} JST\nContent-Type: text/plain; charset=utf-8\n\n{body}",
            crate::clock::japan_time(now)
        );
        write_new_private(&path, text.as_bytes())?;
        Ok(path)
    }
}
