//! The local mail adapter: each message becomes an `.eml` file in the data
//! dir's `outbox/` folder, written aside and renamed into place so a reader
//! never sees half a message.

use std::path::PathBuf;

use async_trait::async_trait;
use galley_shared::Error;
use galley_shared::calls::{self, traced};
use galley_shared::mail::EmailMessage;
use galley_shared::ports::Mailer;

use crate::blocking::run_blocking;

#[derive(Clone, Debug)]
pub struct FileMailer {
    dir: PathBuf,
    from: String,
}

impl FileMailer {
    pub fn new(dir: impl Into<PathBuf>, from: impl Into<String>) -> Self {
        Self { dir: dir.into(), from: from.into() }
    }

    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }
}

/// A file name from the message id: only characters safe in any file system.
fn file_name(message: &EmailMessage) -> String {
    let safe: String =
        message.message_id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
    format!("{safe}.eml")
}

#[async_trait]
impl Mailer for FileMailer {
    async fn send(&self, message: &EmailMessage) -> Result<(), Error> {
        let mime = message.to_mime(&self.from)?;
        let (dir, name) = (self.dir.clone(), file_name(message));
        let written = run_blocking(move || {
            let write = || {
                crate::private_files::create_dir(&dir)?;
                let temp = dir.join(format!(".{name}.{}", ulid::Ulid::new()));
                crate::private_files::write_new(&temp, &mime)?;
                std::fs::rename(&temp, dir.join(name))
            };
            write().map_err(|e: std::io::Error| Error::unavailable(format!("write to the outbox folder: {e}")))
        });
        traced("mail", "send", calls::result, written).await
    }
}
