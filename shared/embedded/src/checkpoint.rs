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
//! from its start only once every frame is in the database. So the thread
//! copies in passes while each leaves less behind, then hands the rest to
//! the next commit, which copies it from inside its WAL hook as SQLite's
//! own auto-checkpoint would. Nothing appends meanwhile, since that commit
//! holds the writer, and the write after it restarts the WAL. When writers
//! append as fast as the thread copies, the rest is large and that commit
//! pays for it, as it would have without the thread: the writers slow
//! down and the WAL does not grow.
//!
//! An earlier version took the writer's mutex from the thread for the last
//! pass instead. A writer committing back to back always took the mutex
//! back first, so the WAL grew until the writes paused.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, AtomicU8, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::time::Duration;

use rusqlite::wal::CheckpointMode;
use rusqlite::{Connection, OpenFlags};

/// WAL pages that ask for a checkpoint: SQLite's own default.
const CHECKPOINT_PAGES: i32 = 1_000;

/// WAL pages at which a commit checkpoints itself, as SQLite would, because
/// the checkpointer is not keeping up (another process writing without a
/// pause, a reader holding an old snapshot) or could not start: the WAL
/// must not grow without bound, and every read walks its index.
const INLINE_CHECKPOINT_PAGES: i32 = 20 * CHECKPOINT_PAGES;

/// Frames the thread leaves to the next commit once it has caught up: on
/// this machine's disk, under a millisecond of copying and syncing.
const REMAINDER_PAGES: i32 = 64;

/// Passes after which the thread hands over the rest, however much it is.
const MAX_PASSES: usize = 8;

/// How long the rest waits for a commit to copy it before the thread, with
/// the writers evidently stopped, copies it itself.
const QUIET: Duration = Duration::from_millis(50);

/// Where a checkpoint is. The hook, which runs on the writer, moves it out
/// of `IDLE`, and out of `HANDED_OVER` unless the thread took the rest back
/// after `QUIET`; only the thread moves it out of `COPYING`. So the two
/// seldom checkpoint at once, and when they do, the hook's is skipped. The
/// stage is `COPYING` before the thread is woken, so the thread's hand-over
/// cannot be overwritten.
const IDLE: u8 = 0;
const COPYING: u8 = 1;
const HANDED_OVER: u8 = 2;

/// What the hook and the thread share.
#[derive(Default)]
struct Progress {
    /// Frames in the WAL after this process's latest commit.
    frames: AtomicI32,
    stage: AtomicU8,
}

/// Hands the checkpoints of `writer`, this process's writing connection to
/// the database at `path`, to a checkpointer thread.
pub(crate) fn checkpoint_off_the_request_path(writer: &mut Connection, path: &Path) -> rusqlite::Result<()> {
    let progress = Arc::new(Progress::default());
    let mut checkpointer = Checkpointer { path: path.to_path_buf(), progress: progress.clone(), wake: None };
    // Replaces SQLite's auto-checkpoint, which is itself a WAL hook. It runs
    // after the commit, with the write lock released.
    writer.wal_hook(Some(move |wal: &mut rusqlite::hooks::Wal, pages: i32| {
        progress.frames.store(pages, Ordering::Relaxed);
        let handed_over = progress.stage.compare_exchange(HANDED_OVER, IDLE, Ordering::AcqRel, Ordering::Acquire);
        if handed_over.is_ok() || pages >= INLINE_CHECKPOINT_PAGES {
            checkpoint_in_the_commit(wal);
        } else if pages >= CHECKPOINT_PAGES
            && progress.stage.compare_exchange(IDLE, COPYING, Ordering::AcqRel, Ordering::Acquire).is_ok()
            && !checkpointer.wake()
        {
            progress.stage.store(IDLE, Ordering::Release);
        }
        Ok(())
    }))
}

/// An error from the hook would fail a commit that has happened, so a
/// checkpoint that cannot run now is left to a later one, as SQLite's own
/// hook does.
fn checkpoint_in_the_commit(wal: &mut rusqlite::hooks::Wal) {
    if let Err(e) = wal.checkpoint_v2(CheckpointMode::PASSIVE) {
        tracing::debug!(error = %e, "wal checkpoint left for a later commit");
    }
}

struct Checkpointer {
    path: PathBuf,
    progress: Arc<Progress>,
    /// Started on the first wake, so a process whose commits never take
    /// the WAL past the mark (most function processes) never starts it.
    wake: Option<SyncSender<()>>,
}

impl Checkpointer {
    /// Whether the thread was woken.
    fn wake(&mut self) -> bool {
        if self.wake.is_none() {
            self.wake = self.start();
        }
        let woken = self.wake.as_ref().is_some_and(|wake| wake.try_send(()).is_ok());
        if !woken {
            // The thread has ended; the next commit past the mark starts another.
            self.wake = None;
        }
        woken
    }

    fn start(&self) -> Option<SyncSender<()>> {
        let (wake, woken) = mpsc::sync_channel(1);
        let (path, progress) = (self.path.clone(), self.progress.clone());
        let started = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .stack_size(256 * 1024)
            .spawn(move || run(&path, &progress, &woken));
        match started {
            Ok(_) => Some(wake),
            Err(e) => {
                tracing::warn!(error = %e, "could not start the checkpointer; commits will checkpoint past the limit");
                None
            }
        }
    }
}

/// Until the writer, and with it the hook that wakes this thread, is closed.
fn run(path: &Path, progress: &Progress, woken: &Receiver<()>) {
    // A new connection takes the database for a rollback journal (and a
    // checkpoint for a no-op) until it has read the header.
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let opened = Connection::open_with_flags(path, flags)
        .and_then(|conn| conn.pragma_query_value(None, "journal_mode", |_| Ok(())).map(|()| conn));
    let conn = match opened {
        Ok(conn) => conn,
        Err(e) => {
            tracing::warn!(error = %e, "checkpointer could not open the database");
            progress.stage.store(IDLE, Ordering::Release);
            return;
        }
    };
    let mut woken_again = woken.recv().is_ok();
    while woken_again {
        catch_up(&conn, progress);
        progress.stage.store(HANDED_OVER, Ordering::Release);
        woken_again = match woken.recv_timeout(QUIET) {
            Ok(()) => true,
            Err(RecvTimeoutError::Disconnected) => false,
            Err(RecvTimeoutError::Timeout) => {
                copy_the_rest_if_no_commit_took_it(&conn, progress);
                woken.recv().is_ok()
            }
        };
    }
}

/// When the writes stopped before a commit could take the rest, so that
/// the WAL would keep it until the next write: with no writer appending,
/// one pass copies all of it.
fn copy_the_rest_if_no_commit_took_it(conn: &Connection, progress: &Progress) {
    if progress.stage.compare_exchange(HANDED_OVER, COPYING, Ordering::AcqRel, Ordering::Acquire).is_ok() {
        passive_pass(conn);
        progress.stage.store(IDLE, Ordering::Release);
    }
}

/// Passive passes, which take no lock a reader or writer waits for (frames
/// a reader still needs wait for a later pass), while each leaves at most
/// half as many frames behind as it copied: the passes then converge, and
/// when they do not, another pass would only postpone the commit that
/// copies the rest while the WAL grows.
fn catch_up(conn: &Connection, progress: &Progress) {
    let mut copied_before = 0;
    for _ in 0..MAX_PASSES {
        let Some(copied) = passive_pass(conn) else { return };
        let copied_now = copied - copied_before;
        copied_before = copied;
        let left = progress.frames.load(Ordering::Relaxed) - copied;
        if left <= REMAINDER_PAGES || left > copied_now / 2 {
            return;
        }
    }
}

/// One passive checkpoint: how many of the WAL's frames are in the
/// database after it, or `None` if it failed.
fn passive_pass(conn: &Connection) -> Option<i32> {
    match conn.wal_checkpoint_v2(None::<&str>, CheckpointMode::PASSIVE) {
        Ok((_frames, copied)) => Some(copied),
        Err(e) => {
            tracing::warn!(error = %e, "wal checkpoint failed");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::{Duration, Instant};

    use super::CHECKPOINT_PAGES;
    use crate::Db;
    use crate::db::store_error;

    /// About ten pages, the size of a few checkouts.
    const BLOB: u64 = 40 * 1024;
    /// About 18 000 pages of WAL: eighteen times the checkpoint mark, and
    /// under the inline limit, so only the checkpointer can restart it.
    const COMMITS: u64 = 1_500;
    const PAGE: u64 = 4096;

    /// The WAL header's checkpoint sequence number, which SQLite raises
    /// each time the WAL restarts from its start.
    fn wal_restarts(wal: &Path) -> u32 {
        let header = std::fs::read(wal).unwrap();
        u32::from_be_bytes(header[12..16].try_into().unwrap())
    }

    #[tokio::test]
    async fn the_checkpointer_keeps_up_with_a_writer_that_never_pauses_and_the_wal_is_reused() {
        let dir = tempfile::tempdir().unwrap();
        let (path, wal) = (dir.path().join("galley.db"), dir.path().join("galley.db-wal"));
        let db = Db::open(&path).unwrap();

        // Back to back, as a busy local server writes.
        for _ in 0..COMMITS {
            db.write(|tx| {
                tx.execute_batch("CREATE TABLE IF NOT EXISTS filler (b BLOB)").map_err(store_error)?;
                tx.execute("INSERT INTO filler VALUES (zeroblob(?1))", [BLOB as i64]).map_err(store_error)
            })
            .await
            .unwrap();
        }
        let written = COMMITS * BLOB;

        // The WAL file keeps the length of its longest run between restarts;
        // without them it would hold every page written.
        let wal_len = std::fs::metadata(&wal).unwrap().len();
        assert!(wal_restarts(&wal) >= 1, "the WAL never restarted while the writes went on");
        // Three quarters, not half: with the machine's two cores busy (the
        // full test run), the checkpointer fell behind for a while once and
        // the WAL reached 0.61 of what was written, still reused.
        assert!(wal_len < written * 3 / 4, "the WAL grew to {wal_len} bytes for {written} written");

        // Only a checkpoint moves pages into the database file, and no
        // commit here reaches the inline limit: the checkpointer and the
        // commits it handed the remainder to did it. Less than the mark may
        // stay in the WAL, as with SQLite's own auto-checkpoint.
        let in_the_database = written - CHECKPOINT_PAGES as u64 * PAGE;
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::fs::metadata(&path).unwrap().len() < in_the_database {
            assert!(Instant::now() < deadline, "the checkpointer left more than the mark in the WAL");
            std::thread::sleep(Duration::from_millis(10));
        }

        let rows = db
            .read(|c| c.query_row("SELECT count(*) FROM filler", [], |r| r.get::<_, i64>(0)).map_err(store_error))
            .await
            .unwrap();
        assert_eq!(rows, COMMITS as i64);
    }
}
