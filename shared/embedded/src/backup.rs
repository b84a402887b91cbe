//! A data dir as one archive, and back: `galley backup` and `galley
//! restore`. The copy is consistent while `galley serve` runs and writes:
//! the database is copied by SQLite itself (`VACUUM INTO`, one read
//! transaction: every order with its stock and its unsent notices, as of
//! one instant), and the files beside it (`blobs/`, `outbox/`) are copied
//! before it and again after it, so a blob the copied database names is in
//! the archive whether it was written before the copy or during it. A blob
//! deleted during the backup (a rejected upload's, a replaced image's) may
//! be in it too; nothing refers to it, and nothing reads it.
//!
//! The archive is a tar file: `galley.db`, `signing.key` (so tokens and
//! signed links stay valid), `blobs/…`, `outbox/…` and `MANIFEST.json`
//! (the format, its version, when, and the counts). It is written beside
//! its name and renamed into place when whole, so an interrupted backup
//! leaves no file that looks like one.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::private_files;
use crate::signing_key_file::KEY_FILE;

const DATABASE: &str = "galley.db";
const MANIFEST: &str = "MANIFEST.json";
const FORMAT: &str = "galley-backup";
const VERSION: u32 = 1;
/// The folders of files beside the database.
const FOLDERS: [&str; 2] = ["blobs", "outbox"];

/// What an archive holds: written into it, and printed by both commands.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    /// Unix seconds when the database was copied.
    pub taken_at: i64,
    /// The schema version of the copied database (`PRAGMA user_version`).
    pub schema: i64,
    pub counts: Counts,
}

/// Rows and files, by kind.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Counts {
    pub products: u64,
    pub users: u64,
    pub orders: u64,
    pub confirmed_orders: u64,
    pub unsent_notices: u64,
    pub promotions: u64,
    pub uploads: u64,
    pub blobs: u64,
    pub mails: u64,
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} products, {} users, {} orders ({} confirmed), {} unsent notices, {} promotions, {} uploads, \
             {} blobs, {} mails",
            self.products,
            self.users,
            self.orders,
            self.confirmed_orders,
            self.unsent_notices,
            self.promotions,
            self.uploads,
            self.blobs,
            self.mails
        )
    }
}

/// Writes the archive of `data_dir` to `file`.
pub fn backup(data_dir: &Path, file: &Path) -> io::Result<Manifest> {
    let database = data_dir.join(DATABASE);
    if !database.is_file() {
        return Err(io::Error::new(io::ErrorKind::NotFound, format!("no store in {}", data_dir.display())));
    }
    let partial = sibling(file, "partial")?;
    let result = write_archive(data_dir, &database, &partial);
    match result {
        Ok(manifest) => {
            std::fs::rename(&partial, file)?;
            Ok(manifest)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

fn write_archive(data_dir: &Path, database: &Path, partial: &Path) -> io::Result<Manifest> {
    let mut archive = tar::Builder::new(BufWriter::new(private_files::create_new(partial)?));
    archive.follow_symlinks(false);
    let mut copied = BTreeSet::new();
    copy_folders(&mut archive, data_dir, &mut copied)?;

    let snapshot = sibling(partial, "db")?;
    let manifest = (|| {
        let taken_at = time::OffsetDateTime::now_utc().unix_timestamp();
        {
            let conn = Connection::open(database).map_err(io::Error::other)?;
            conn.busy_timeout(std::time::Duration::from_secs(30)).map_err(io::Error::other)?;
            conn.execute("VACUUM INTO ?1", [snapshot.to_string_lossy()]).map_err(io::Error::other)?;
        }
        archive.append_path_with_name(&snapshot, DATABASE)?;
        let (schema, rows) = count_rows(&snapshot)?;
        copy_folders(&mut archive, data_dir, &mut copied)?;
        let key = data_dir.join(KEY_FILE);
        if key.is_file() {
            archive.append_path_with_name(&key, KEY_FILE)?;
        }
        let counts = Counts {
            blobs: copied.iter().filter(|name| name.starts_with("blobs/")).count() as u64,
            mails: copied.iter().filter(|name| name.starts_with("outbox/")).count() as u64,
            ..rows
        };
        Ok::<_, io::Error>(Manifest { format: FORMAT.into(), version: VERSION, taken_at, schema, counts })
    })();
    let _ = std::fs::remove_file(&snapshot);
    let manifest = manifest?;
    let json = serde_json::to_vec_pretty(&manifest).map_err(io::Error::other)?;
    let mut header = tar::Header::new_gnu();
    header.set_size(json.len() as u64);
    header.set_mode(0o600);
    header.set_mtime(manifest.taken_at.max(0) as u64);
    archive.append_data(&mut header, MANIFEST, json.as_slice())?;
    let file = archive.into_inner()?.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(manifest)
}

/// Adds every file of `blobs/` and `outbox/` not yet in the archive. A file
/// that goes between the listing and its copy is skipped; a half-written
/// one (its name starts with a dot until it is renamed into place) is not
/// a file yet.
fn copy_folders<W: io::Write>(
    archive: &mut tar::Builder<W>,
    data_dir: &Path,
    copied: &mut BTreeSet<String>,
) -> io::Result<()> {
    for folder in FOLDERS {
        for path in files_under(&data_dir.join(folder))? {
            let Ok(relative) = path.strip_prefix(data_dir) else { continue };
            let name = relative.to_string_lossy().into_owned();
            if copied.contains(&name) {
                continue;
            }
            match archive.append_path_with_name(&path, &name) {
                Ok(()) => {
                    copied.insert(name);
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

fn files_under(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let kind = entry.file_type()?;
            if kind.is_dir() {
                pending.push(entry.path());
            } else if kind.is_file() {
                files.push(entry.path());
            }
        }
    }
    files.sort();
    Ok(files)
}

fn count_rows(database: &Path) -> io::Result<(i64, Counts)> {
    let conn =
        Connection::open_with_flags(database, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(io::Error::other)?;
    let count = |sql: &str| -> io::Result<u64> {
        conn.query_row(sql, [], |row| row.get::<_, i64>(0)).map(|n| n as u64).map_err(io::Error::other)
    };
    let schema = conn.query_row("PRAGMA user_version", [], |row| row.get(0)).map_err(io::Error::other)?;
    let counts = Counts {
        products: count("SELECT COUNT(*) FROM products")?,
        users: count("SELECT COUNT(*) FROM users")?,
        orders: count("SELECT COUNT(*) FROM orders")?,
        confirmed_orders: count("SELECT COUNT(*) FROM orders WHERE status = 'confirmed'")?,
        unsent_notices: count("SELECT COUNT(*) FROM notices WHERE sent_at IS NULL")?,
        promotions: count("SELECT COUNT(*) FROM promotions")?,
        uploads: count("SELECT COUNT(*) FROM uploads")?,
        blobs: 0,
        mails: 0,
    };
    Ok((schema, counts))
}

/// Restores the archive `file` as the data dir `data_dir`. A dir that holds
/// anything is refused unless `replace`; then it is kept, renamed beside
/// itself (`DIR.replaced-<time>`), not deleted. The archive is unpacked
/// beside the dir and checked (its manifest, SQLite's integrity check)
/// before it takes the dir's name, so a bad archive changes nothing.
pub fn restore(file: &Path, data_dir: &Path, replace: bool) -> io::Result<(Manifest, Option<PathBuf>)> {
    let occupied = std::fs::read_dir(data_dir).map(|mut entries| entries.next().is_some()).unwrap_or(false);
    if occupied && !replace {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!(
                "{} is not empty: restore into a new dir, or pass --force to replace it (stop galley serve first; \
                 the old dir is kept beside it)",
                data_dir.display()
            ),
        ));
    }
    let staging = sibling(data_dir, "restoring")?;
    let result = unpack_checked(file, &staging);
    let manifest = match result {
        Ok(manifest) => manifest,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    let kept = if occupied {
        let kept = sibling(data_dir, "replaced")?;
        std::fs::rename(data_dir, &kept)?;
        Some(kept)
    } else {
        if data_dir.exists() {
            std::fs::remove_dir(data_dir)?;
        }
        None
    };
    std::fs::rename(&staging, data_dir)?;
    Ok((manifest, kept))
}

fn unpack_checked(file: &Path, staging: &Path) -> io::Result<Manifest> {
    private_files::create_dir(staging)?;
    let mut archive = tar::Archive::new(File::open(file)?);
    archive.set_preserve_permissions(false);
    archive.set_overwrite(false);
    // `unpack` refuses entries that would land outside `staging` (`..`,
    // absolute paths, links out of it).
    archive.unpack(staging)?;
    let invalid = |why: String| io::Error::new(io::ErrorKind::InvalidData, format!("{}: {why}", file.display()));
    let manifest: Manifest = serde_json::from_slice(
        &std::fs::read(staging.join(MANIFEST)).map_err(|_| invalid("no MANIFEST.json: not a galley backup".into()))?,
    )
    .map_err(|e| invalid(format!("MANIFEST.json: {e}")))?;
    if manifest.format != FORMAT || manifest.version != VERSION {
        return Err(invalid(format!(
            "format {} version {}, not {FORMAT} {VERSION}",
            manifest.format, manifest.version
        )));
    }
    let conn = Connection::open(staging.join(DATABASE)).map_err(io::Error::other)?;
    let check: String = conn.query_row("PRAGMA integrity_check", [], |row| row.get(0)).map_err(io::Error::other)?;
    if check != "ok" {
        return Err(invalid(format!("the database fails SQLite's integrity check: {check}")));
    }
    drop(conn);
    std::fs::remove_file(staging.join(MANIFEST))?;
    make_private(staging)?;
    Ok(manifest)
}

/// Every restored dir 0700 and file 0600, as the data dir's own are.
fn make_private(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            make_private(&entry.path())?;
        } else {
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

/// `path` with `.what-<ulid>` appended: beside it, on the same file system
/// (so a rename is atomic), never an existing name.
fn sibling(path: &Path, what: &str) -> io::Result<PathBuf> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, format!("{} names no file", path.display())))?;
    let mut name = name.to_os_string();
    name.push(format!(".{what}-{}", ulid::Ulid::new().to_string().to_lowercase()));
    Ok(path.with_file_name(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with_files(dir: &Path) {
        drop(crate::db::Db::open(&dir.join(DATABASE)).unwrap());
        std::fs::create_dir_all(dir.join("blobs/uploads/u")).unwrap();
        std::fs::write(dir.join("blobs/uploads/u/a"), b"png").unwrap();
        std::fs::write(dir.join("blobs/.half-written.partial"), b"no").unwrap();
        std::fs::create_dir_all(dir.join("outbox")).unwrap();
        std::fs::write(dir.join("outbox/receipt-1galley.eml"), b"mail").unwrap();
        std::fs::write(dir.join(KEY_FILE), b"key").unwrap();
    }

    #[test]
    fn a_backup_restores_the_database_blobs_mail_and_key_and_nothing_half_written() {
        let from = tempfile::tempdir().unwrap();
        store_with_files(from.path());
        let out = tempfile::tempdir().unwrap();
        let archive = out.path().join("galley.backup");
        let taken = backup(from.path(), &archive).unwrap();
        let names: Vec<_> = std::fs::read_dir(out.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("galley.backup")], "nothing partial left beside it");
        assert_eq!((taken.counts.blobs, taken.counts.mails), (1, 1));

        let to = tempfile::tempdir().unwrap();
        let data = to.path().join("data");
        let (restored, kept) = restore(&archive, &data, false).unwrap();
        assert_eq!(restored, taken);
        assert_eq!(kept, None);
        assert_eq!(std::fs::read(data.join("blobs/uploads/u/a")).unwrap(), b"png");
        assert_eq!(std::fs::read(data.join("outbox/receipt-1galley.eml")).unwrap(), b"mail");
        assert_eq!(std::fs::read(data.join(KEY_FILE)).unwrap(), b"key");
        assert!(!data.join("blobs/.half-written.partial").exists());
        assert!(!data.join(MANIFEST).exists());
    }

    #[test]
    fn a_dir_in_use_is_replaced_only_when_asked_and_kept_beside() {
        let from = tempfile::tempdir().unwrap();
        store_with_files(from.path());
        let archive = tempfile::NamedTempFile::new().unwrap();
        backup(from.path(), archive.path()).unwrap();

        let to = tempfile::tempdir().unwrap();
        let data = to.path().join("data");
        std::fs::create_dir(&data).unwrap();
        std::fs::write(data.join(DATABASE), b"the live one").unwrap();
        let refused = restore(archive.path(), &data, false).unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(data.join(DATABASE)).unwrap(), b"the live one");

        let (_, kept) = restore(archive.path(), &data, true).unwrap();
        let kept = kept.expect("the replaced dir is kept");
        assert_eq!(std::fs::read(kept.join(DATABASE)).unwrap(), b"the live one");
        assert_ne!(std::fs::read(data.join(DATABASE)).unwrap(), b"the live one");
    }

    #[test]
    fn a_file_that_is_no_backup_changes_nothing() {
        let to = tempfile::tempdir().unwrap();
        let data = to.path().join("data");
        let bogus = to.path().join("bogus.tar");
        let mut builder = tar::Builder::new(File::create(&bogus).unwrap());
        let mut header = tar::Header::new_gnu();
        header.set_size(5);
        header.set_mode(0o600);
        builder.append_data(&mut header, "hello.txt", &b"hello"[..]).unwrap();
        builder.finish().unwrap();
        drop(builder);
        let refused = restore(&bogus, &data, false).unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::InvalidData, "{refused}");
        assert!(!data.exists());
        let left: Vec<_> = std::fs::read_dir(to.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, vec![std::ffi::OsString::from("bogus.tar")], "no staging dir left behind");
    }
}
