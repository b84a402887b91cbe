//! Checkpoints the WAL off the request path.
//!
//! SQLite's automatic checkpoint runs inside the commit that takes the WAL
//! past 1 000 pages: that one write copies the WAL into the database and
//! syncs it. A checkout commits about a dozen pages, so one checkout in
//! seventy paid for it, and checkout's warm p99 was that checkpoint
//! (`bench-lambda`: 5.35 ms against a p50 of 0.39 ms). Here the commit only
//! wakes a checkpointer thread with its own connection.
//!
//! A checkpoint that runs beside writers cannot finish the WAL: frames
//! committed while it copies are left over, and SQLite restarts the WAL
//! from its start only once every frame is in the database. So the
//! checkpointer copies in two passes: the bulk while writers go on, then
//! what they appended meanwhile with this process's writer held, a pass of
//! a few frames (0.6 ms against 14 ms for 1 000 fresh pages, measured with
//! `wal_checkpoint` on this machine's disk).

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, Weak};

use rusqlite::wal::CheckpointMode;
use rusqlite::{Connection, OpenFlags};

/// WAL pages that ask for a checkpoint: SQLite's own default.
const CHECKPOINT_PAGES: i32 = 1_000;

/// WAL pages at which a commit checkpoints itself, as SQLite would, because
/// the checkpointer is not keeping up (another process writing without a
/// pause, a reader holding an old snapshot) or could not start: the WAL
/// must not grow without bound, and every read walks its index.
const INLINE_CHECKPOINT_PAGES: i32 = 20 * CHECKPOINT_PAGES;

/// Hands the checkpoints of `writer`, this process's writing connection to
/// the database at `path`, to a checkpointer thread.
pub(crate) fn checkpoint_off_the_request_path(writer: &Arc<Mutex<Connection>>, path: &Path) -> rusqlite::Result<()> {
    let mut checkpointer = Checkpointer { path: path.to_path_buf(), writer: Arc::downgrade(writer), wake: None };
    let mut conn = writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    // Replaces SQLite's auto-checkpoint, which is itself a WAL hook.
    conn.wal_hook(Some(move |wal: &mut rusqlite::hooks::Wal, pages: i32| {
        if pages >= INLINE_CHECKPOINT_PAGES {
            return wal.checkpoint_v2(CheckpointMode::PASSIVE).map(drop);
        }
        if pages >= CHECKPOINT_PAGES {
            checkpointer.request();
        }
        Ok(())
    }))
}

struct Checkpointer {
    path: PathBuf,
    /// Weak: the hook holding this lives inside the writer.
    writer: Weak<Mutex<Connection>>,
    /// Started on the first request, so a process whose commits never take
    /// the WAL past the mark (most function processes) never starts it.
    wake: Option<SyncSender<()>>,
}

impl Checkpointer {
    fn request(&mut self) {
        let wake = match &self.wake {
            Some(wake) => wake,
            None => match self.start() {
                Some(wake) => self.wake.insert(wake),
                None => return,
            },
        };
        match wake.try_send(()) {
            // Full: a checkpoint is already pending, which covers this commit too.
            Ok(()) | Err(TrySendError::Full(())) => {}
            Err(TrySendError::Disconnected(())) => self.wake = None,
        }
    }

    fn start(&self) -> Option<SyncSender<()>> {
        let (wake, woken) = mpsc::sync_channel(1);
        let (path, writer) = (self.path.clone(), self.writer.clone());
        let started = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .stack_size(256 * 1024)
            .spawn(move || run(&path, &writer, &woken));
        match started {
            Ok(_) => Some(wake),
            Err(e) => {
                tracing::warn!(error = %e, "could not start the checkpointer; commits will checkpoint past the limit");
                None
            }
        }
    }
}

/// Until the writer (and with it the hook that wakes this thread) is dropped.
fn run(path: &Path, writer: &Weak<Mutex<Connection>>, woken: &Receiver<()>) {
    // A new connection takes the database for a rollback journal (and a
    // checkpoint for a no-op) until it has read the header.
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let opened = Connection::open_with_flags(path, flags)
        .and_then(|conn| conn.pragma_query_value(None, "journal_mode", |_| Ok(())).map(|()| conn));
    let conn = match opened {
        Ok(conn) => conn,
        Err(e) => {
            tracing::warn!(error = %e, "checkpointer could not open the database");
            return;
        }
    };
    while woken.recv().is_ok() {
        // Passive: it takes no lock a reader or writer waits for; frames a
        // reader still needs wait for the next round.
        checkpoint(&conn);
        let Some(writer) = writer.upgrade() else { return };
        let _paused = writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        checkpoint(&conn);
    }
}

fn checkpoint(conn: &Connection) {
    if let Err(e) = conn.wal_checkpoint_v2(None::<&str>, CheckpointMode::PASSIVE) {
        tracing::warn!(error = %e, "wal checkpoint failed");
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use crate::Db;
    use crate::db::store_error;

    const BLOB: usize = 40 * 1024;
    const COMMITS: usize = 150;

    /// About 1 500 pages of WAL in commits the size of a few checkouts.
    async fn write_six_megabytes(db: &Db) {
        for _ in 0..COMMITS {
            db.write(|tx| {
                tx.execute_batch("CREATE TABLE IF NOT EXISTS filler (b BLOB)").map_err(store_error)?;
                tx.execute("INSERT INTO filler VALUES (zeroblob(?1))", [BLOB as i64]).map_err(store_error)
            })
            .await
            .unwrap();
        }
    }

    fn wait_for_the_database_file_to_reach(path: &std::path::Path, len: u64) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::fs::metadata(path).unwrap().len() < len {
            assert!(Instant::now() < deadline, "no checkpoint copied the WAL into {}", path.display());
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[tokio::test]
    async fn the_wal_is_checkpointed_by_the_checkpointer_and_then_reused_instead_of_growing() {
        let dir = tempfile::tempdir().unwrap();
        let (path, wal) = (dir.path().join("galley.db"), dir.path().join("galley.db-wal"));
        let db = Db::open(&path).unwrap();
        let batch = (COMMITS * BLOB) as u64;

        write_six_megabytes(&db).await;
        // Only a checkpoint moves pages into the database file, and no
        // commit here reaches the inline limit: the checkpointer did it.
        wait_for_the_database_file_to_reach(&path, batch);

        write_six_megabytes(&db).await;
        wait_for_the_database_file_to_reach(&path, 2 * batch);
        let wal_len = std::fs::metadata(&wal).unwrap().len();
        assert!(wal_len < 3 * batch / 2, "the WAL grew to {wal_len} bytes instead of restarting after the checkpoint");

        let rows = db
            .read(|c| c.query_row("SELECT count(*) FROM filler", [], |r| r.get::<_, i64>(0)).map_err(store_error))
            .await
            .unwrap();
        assert_eq!(rows, 2 * COMMITS as i64);
    }
}
