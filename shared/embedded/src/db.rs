//! The SQLite file: connection settings, migrations, and the connections
//! queries run on.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use galley_shared::Error;
use galley_shared::calls::{self, traced};
use rusqlite::{Connection, ErrorCode, TransactionBehavior};
use tokio::sync::Semaphore;

use crate::blocking::{answers_one_request_at_a_time, run_blocking};
use crate::checkpoint::checkpoint_off_the_request_path;

/// How long a writer waits for another process's write lock before the
/// request fails as unavailable.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Schema versions, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    // 1: the catalog, with stock beside each product, and its search index
    // (term -> product, with what ranking and filtering need, so a lookup is
    // one clustered range read). Terms compare bytewise: a prefix is a range.
    "CREATE TABLE products (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        description TEXT NOT NULL,
        category TEXT NOT NULL,
        price_amount INTEGER NOT NULL,
        price_currency TEXT NOT NULL,
        image_url TEXT,
        stock INTEGER NOT NULL CHECK (stock >= 0),
        title_key TEXT NOT NULL
    ) STRICT;
    CREATE INDEX products_by_title ON products (title_key);
    CREATE TABLE search_terms (
        term TEXT NOT NULL,
        product_id TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
        in_title INTEGER NOT NULL,
        title_key TEXT NOT NULL,
        category TEXT NOT NULL,
        price_amount INTEGER NOT NULL,
        price_currency TEXT NOT NULL,
        PRIMARY KEY (term, product_id)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX search_terms_by_product ON search_terms (product_id);",
    // 2: accounts. Sessions carry the user's profile so authenticating is
    // one keyed read; times are Unix seconds.
    "CREATE TABLE users (
        email TEXT PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        password_hash TEXT NOT NULL
    ) STRICT;
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        email TEXT NOT NULL,
        name TEXT NOT NULL,
        refresh_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX sessions_by_expiry ON sessions (expires_at);
    CREATE TABLE login_attempts (
        email TEXT PRIMARY KEY,
        attempts INTEGER NOT NULL,
        window_start INTEGER NOT NULL
    ) STRICT;",
    // 3: orders (the order as JSON beside the columns queries need), the
    // idempotency records, and the receipt outbox.
    "CREATE TABLE orders (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        status TEXT NOT NULL,
        doc TEXT NOT NULL
    ) STRICT;
    CREATE INDEX orders_by_user ON orders (user_id, id);
    CREATE TABLE idempotency (
        user_id TEXT NOT NULL,
        key TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        complete INTEGER NOT NULL,
        claim TEXT,
        lease_until INTEGER NOT NULL,
        progress TEXT,
        status INTEGER,
        body BLOB,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (user_id, key)
    ) STRICT;
    CREATE TABLE outbox (
        order_id TEXT PRIMARY KEY,
        doc TEXT NOT NULL,
        sent_at INTEGER
    ) STRICT;
    CREATE INDEX outbox_unsent ON outbox (order_id) WHERE sent_at IS NULL;",
    // 4: upload records (the bytes live in `blobs/`).
    "CREATE TABLE uploads (
        owner TEXT NOT NULL,
        id TEXT NOT NULL,
        filename TEXT NOT NULL,
        content_type TEXT NOT NULL,
        size INTEGER NOT NULL,
        status TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (owner, id)
    ) STRICT;",
    // 5: how many times a session's refresh token was rotated, so a reused
    // token can be told from a made-up one (`auth::session`).
    "ALTER TABLE sessions ADD COLUMN rotations INTEGER NOT NULL DEFAULT 0;",
    // 6: login attempts keep their times (a JSON array), so the limit holds
    // over any span of the window, not per fixed window.
    "DROP TABLE login_attempts;
    CREATE TABLE login_attempts (
        email TEXT PRIMARY KEY,
        times TEXT NOT NULL
    ) STRICT;",
    // 7: the settler finds pending orders by age, and settles them with the
    // key their checkout ran under; a record pointing at a pending order
    // is pinned (never expires) and keeps its own expiry to return to.
    "ALTER TABLE orders ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE orders ADD COLUMN idempotency_key TEXT;
    UPDATE orders SET created_at = COALESCE(CAST(strftime('%s', json_extract(doc, '$.created_at')) AS INTEGER), 0);
    CREATE INDEX orders_pending ON orders (created_at) WHERE status = 'pending';
    ALTER TABLE idempotency ADD COLUMN keep_until INTEGER;
    UPDATE idempotency SET keep_until = expires_at;",
    // 8: the sandbox gateway's ledger: the first outcome per order.
    "CREATE TABLE charges (
        order_id TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        amount INTEGER,
        currency TEXT,
        reference TEXT
    ) STRICT;",
    // 9: who may send a receipt until when (a stream delivery or a sweep).
    "ALTER TABLE outbox ADD COLUMN sending_until INTEGER;",
    // 10: a category listing reads its own products only.
    "CREATE INDEX products_by_category ON products (category, title_key);",
    // 11: a common word's postings in title order, a stretch at a time.
    "CREATE INDEX search_terms_by_title ON search_terms (term, title_key);",
    // 12: roles (API.md Conventions): everyone is a customer until granted.
    "ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'customer';",
    // 13: the back office: archived products (kept, never sold or found),
    // a version per product for If-Match, and the audit log.
    "ALTER TABLE products ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE products ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE products ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE audit (id TEXT PRIMARY KEY, doc TEXT NOT NULL) STRICT;",
    // 14: each order's history (a JSON array, appended to as it moves), and
    // the back office's listing of one status across customers.
    "ALTER TABLE orders ADD COLUMN history TEXT NOT NULL DEFAULT '[]';
    CREATE INDEX orders_by_status ON orders (status, id);",
    // 15: the order lifecycle: each order's state after checkout (refunds,
    // fulfilment) and a version every move is conditioned on; orders with
    // a refund being asked, for the settler; one outbox row per event's
    // notice (the receipt and the later emails); the sandbox's refunds.
    "ALTER TABLE orders ADD COLUMN state TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE orders ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE orders ADD COLUMN refunding_since INTEGER;
    CREATE INDEX orders_refunding ON orders (refunding_since) WHERE refunding_since IS NOT NULL;
    CREATE TABLE notices (
        order_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        doc TEXT NOT NULL,
        sent_at INTEGER,
        sending_until INTEGER,
        PRIMARY KEY (order_id, kind)
    ) STRICT;
    INSERT INTO notices (order_id, kind, doc, sent_at, sending_until)
        SELECT order_id, 'RECEIPT', json_object('kind', 'RECEIPT', 'order', json(doc)), sent_at, sending_until
        FROM outbox;
    DROP TABLE outbox;
    CREATE INDEX notices_unsent ON notices (order_id, kind) WHERE sent_at IS NULL;
    CREATE TABLE refunds (
        refund_id TEXT PRIMARY KEY,
        order_id TEXT NOT NULL,
        amount INTEGER NOT NULL,
        currency TEXT NOT NULL
    ) STRICT;
    CREATE INDEX refunds_by_order ON refunds (order_id);",
    // 16: a gateway's payment id per order (a Stripe PaymentIntent),
    // recorded once before it is confirmed.
    "CREATE TABLE intents (order_id TEXT PRIMARY KEY, intent TEXT NOT NULL) STRICT;",
    // 17: a pending order whose payment waits on the customer (3-D Secure)
    // is left to the settler until that wait is over: the settler's clock
    // is the creation time, or the end of the wait (its index follows).
    "ALTER TABLE orders RENAME COLUMN created_at TO settle_from;",
    // 18: the gateway's webhook events applied, each once.
    "CREATE TABLE applied_events (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) STRICT;",
    // 19: promotions by their upper-case code, with the redemptions the
    // checkouts count (`redeemed`, held below `max_redemptions` by the
    // checkout's own transaction), and the customers holding a redemption
    // of a once-per-customer code.
    "CREATE TABLE promotions (
        code_key TEXT PRIMARY KEY,
        doc TEXT NOT NULL,
        redeemed INTEGER NOT NULL DEFAULT 0,
        max_redemptions INTEGER,
        version INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE promotion_uses (
        code_key TEXT NOT NULL,
        user_id TEXT NOT NULL,
        order_id TEXT NOT NULL,
        PRIMARY KEY (code_key, user_id)
    ) STRICT;",
    // 20: who holds a notice's send lease, so a sender that takes it again
    // (its first write applied, the answer lost) is known as the holder.
    "ALTER TABLE notices ADD COLUMN sending_by TEXT;",
    // 21: a word's postings in title order read from the index alone
    // (what a posting needs is in it), so a stretch is a sequential read,
    // not a seek into the table per posting; those in titles apart, so a
    // query's top level (every word in the title) reads only them.
    "DROP INDEX search_terms_by_title;
    CREATE INDEX search_terms_by_title
        ON search_terms (term, in_title, title_key, category, price_amount, price_currency);",
    // 22: the postings of every word sharing the first three letters in
    // title order, so a prefix spanning many words is one range read in
    // title order (as DynamoDB reads its PREFIX# partition), not a walk of
    // the catalog with a probe per product. Covering, as 21 is.
    "CREATE INDEX search_terms_by_prefix
        ON search_terms (substr(term, 1, 3), in_title, title_key, category, price_amount, price_currency);",
];

/// One writer connection per process, serialised by a mutex, and a pool of
/// read-only connections, so reads run in parallel with each other and with
/// the writer (WAL). SQLite's own locks (`BEGIN IMMEDIATE`, busy timeout)
/// serialise writers across processes. The connection `open` checked the
/// schema with is the writer. In a function process, which answers one
/// request at a time, a read runs on it whenever it is idle and no reader
/// is pooled, so the process opens one connection, not a reader and then a
/// writer for its first write (each open reads the WAL index and parses the
/// schema: 0.4 ms of checkout's cold start). The WAL is checkpointed by a
/// thread of its own, which leaves the last few frames to the next commit
/// (`checkpoint`).
///
/// Reads take a turn among `reader_limit()` before they take a thread, and
/// writes one turn of their own, so a burst of requests waits in an async
/// queue instead of growing the blocking pool: the surge run's step (450
/// new shoppers in a second) grew it to some 130 threads, each opening a
/// reader of its own (a file open, the schema parsed, a mapping faulted in
/// page by page), and that second's answers took up to 550 ms.
#[derive(Clone)]
pub struct Db {
    writer: Arc<Mutex<Connection>>,
    path: Arc<std::path::PathBuf>,
    readers: Arc<Mutex<Vec<Connection>>>,
    turns: Arc<Turns>,
}

struct Turns {
    /// Sized on the first read: counting the cores reads the process's
    /// CPU affinity and cgroup files, which a function's cold start need
    /// not wait for.
    read: std::sync::OnceLock<Semaphore>,
    write: Semaphore,
}

/// Reads at once: SQLite reads from the page cache are CPU work, so more
/// than a few per core only queue in the kernel instead of here; twice the
/// cores leaves room for a read waiting on the disk.
fn reader_limit() -> usize {
    2 * std::thread::available_parallelism().map_or(1, usize::from).max(1)
}

/// SQLite's error as the domain's: another process's lock held past the
/// busy timeout, a full disk and a failed read or write of the file are the
/// disk's state, not a fault of the request, and pass (503, Retry-After);
/// the transaction they hit rolled back, so a retry is safe (the chaos run's
/// busy-lock and full-disk episodes, RELIABILITY.md).
pub(crate) fn store_error(e: rusqlite::Error) -> Error {
    match e.sqlite_error_code() {
        Some(
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked | ErrorCode::DiskFull | ErrorCode::SystemIoFailure,
        ) => Error::unavailable_from("sqlite", e),
        _ => Error::internal_from("sqlite", e),
    }
}

/// SQLite's memory set up front for each connection, made lazy before the
/// first one opens (`sqlite3_config` is refused once SQLite has started):
/// a connection opened for one request should not first write 20 cache
/// pages and 48 KB of lookaside slots it may never use.
fn configure_sqlite() {
    static CONFIGURED: std::sync::Once = std::sync::Once::new();
    CONFIGURED.call_once(|| {
        use std::ffi::{c_int, c_void};
        // SAFETY: called once, before any connection; the arguments are the
        // ones each option documents (pointer, int, int and int, int).
        unsafe {
            rusqlite::ffi::sqlite3_config(
                rusqlite::ffi::SQLITE_CONFIG_PAGECACHE,
                std::ptr::null_mut::<c_void>(),
                0 as c_int,
                0 as c_int,
            );
            rusqlite::ffi::sqlite3_config(rusqlite::ffi::SQLITE_CONFIG_LOOKASIDE, 1200 as c_int, 10 as c_int);
        }
    });
}

fn connect(path: &Path) -> rusqlite::Result<Connection> {
    configure_sqlite();
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Large index range reads (a common search word) run from mapped pages
    // instead of copying each page into SQLite's cache, so the cache holds
    // only pages read from the WAL and the writer's dirty pages. 1 MB (half
    // SQLite's default) holds a checkout's pages many times over; a larger
    // cache only grew a function's memory (bench-lambda's smaps).
    conn.pragma_update(None, "mmap_size", 1i64 << 30)?;
    conn.pragma_update(None, "cache_size", -1024)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(conn)
}

fn connect_reader(path: &Path) -> rusqlite::Result<Connection> {
    let conn = connect(path)?;
    conn.pragma_update(None, "query_only", "ON")?;
    Ok(conn)
}

impl Db {
    pub fn open(path: &Path) -> Result<Self, Error> {
        let mut conn = connect(path).map_err(store_error)?;
        migrate(&mut conn).map_err(store_error)?;
        checkpoint_off_the_request_path(&mut conn, path).map_err(store_error)?;
        let writer = Arc::new(Mutex::new(conn));
        let turns = Arc::new(Turns { read: std::sync::OnceLock::new(), write: Semaphore::new(1) });
        Ok(Self { writer, path: Arc::new(path.to_path_buf()), readers: Arc::new(Mutex::new(Vec::new())), turns })
    }

    /// Runs `work` read-only (see `run_blocking`): on a pooled reader, else
    /// on the writer if it is idle and this process answers one request at a
    /// time, else on a new reader. Where requests run side by side (the
    /// local server) a read never borrows the writer, as a write would then
    /// queue behind it: with 50 buyers `bench-checkout` sold 1 680 orders/s
    /// when reads did, 2 010 when they did not (interleaved runs; 10 buyers:
    /// 2 160 and 2 250).
    pub async fn read<T, F>(&self, work: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, Error> + Send + 'static,
    {
        let (path, readers, writer) = (self.path.clone(), self.readers.clone(), self.writer.clone());
        let may_borrow_the_writer = answers_one_request_at_a_time();
        let reads = self.turns.read.get_or_init(|| Semaphore::new(reader_limit()));
        let read = async move {
            let _turn = reads.acquire().await.map_err(|_| Error::internal("sqlite turns closed"))?;
            run_blocking(move || {
                let pooled = readers.lock().map_err(|_| Error::internal("sqlite pool poisoned"))?.pop();
                let conn = match pooled {
                    Some(conn) => conn,
                    None if may_borrow_the_writer => match writer.try_lock() {
                        Ok(writer) => return read_on_writer(&writer, work),
                        Err(_) => connect_reader(&path).map_err(store_error)?,
                    },
                    None => connect_reader(&path).map_err(store_error)?,
                };
                let result = work(&conn);
                if let Ok(mut pool) = readers.lock() {
                    pool.push(conn);
                }
                result
            })
            .await
        };
        traced(SQLITE, operation::<F>(), calls::result, read).await
    }

    /// Runs `work` in a write transaction taken up front (`BEGIN IMMEDIATE`),
    /// so concurrent writers queue instead of failing halfway. `work` returning
    /// an error rolls everything back.
    pub async fn write<T, F>(&self, work: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T, Error> + Send + 'static,
    {
        let writer = self.writer.clone();
        let write = async {
            let _turn = self.turns.write.acquire().await.map_err(|_| Error::internal("sqlite turns closed"))?;
            run_blocking(move || {
                let mut conn = writer.lock().map_err(|_| Error::internal("sqlite connection poisoned"))?;
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(store_error)?;
                let value = work(&tx)?;
                tx.commit().map_err(store_error)?;
                Ok(value)
            })
            .await
        };
        traced(SQLITE, operation::<F>(), calls::result, write).await
    }
}

/// The dependency's name in call lines.
const SQLITE: &str = "sqlite";

/// A call line's operation: the adapter method whose closure `F` is
/// (`galley_embedded::orders::…::place::{{closure}}` → `place`), free and
/// bounded, with no name to keep at each of the many call sites.
fn operation<F>() -> &'static str {
    let name = std::any::type_name::<F>();
    let path = name.split("::{{closure}}").next().unwrap_or(name);
    let last = path.rsplit("::").next().unwrap_or(path);
    Some(last.split('<').next().unwrap_or(last)).filter(|op| !op.is_empty()).unwrap_or("call")
}

/// `work` on the writer, query-only for its duration as a reader is, so a
/// read never writes whichever connection it lands on.
fn read_on_writer<T>(writer: &Connection, work: impl FnOnce(&Connection) -> Result<T, Error>) -> Result<T, Error> {
    set_query_only(writer, true)?;
    let result = work(writer);
    set_query_only(writer, false)?;
    result
}

fn set_query_only(conn: &Connection, on: bool) -> Result<(), Error> {
    let sql = if on { "PRAGMA query_only = ON" } else { "PRAGMA query_only = OFF" };
    conn.prepare_cached(sql).and_then(|mut pragma| pragma.execute([])).map(drop).map_err(store_error)
}

fn schema_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
}

fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    // The common case, a current schema, takes no write lock.
    if schema_version(conn)? >= MIGRATIONS.len() as i64 {
        return Ok(());
    }
    // IMMEDIATE: two processes opening a new data dir at once must not both migrate.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let applied = schema_version(&tx)?;
    for (version, sql) in (1_i64..).zip(MIGRATIONS) {
        if version > applied {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", version)?;
        }
    }
    tx.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_run_once_and_reopen_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("galley.db");
        Db::open(&path).unwrap();
        let db = Db::open(&path).unwrap();
        let conn = db.writer.lock().unwrap();
        assert_eq!(schema_version(&conn).unwrap(), MIGRATIONS.len() as i64);
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn a_call_line_names_the_adapter_method_that_asked() {
        fn closure_of<F>(_: &F) -> &'static str {
            operation::<F>()
        }
        fn place_order() -> &'static str {
            closure_of(&|| ())
        }
        assert_eq!(place_order(), "place_order");
    }

    fn count_products(db: &Db) -> impl Future<Output = Result<i64, Error>> {
        db.read(|c| c.query_row("SELECT count(*) FROM products", [], |r| r.get::<_, i64>(0)).map_err(store_error))
    }

    #[tokio::test]
    async fn a_cold_start_opens_one_connection_for_reads_and_writes_and_reads_never_write() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("galley.db")).unwrap();
        assert_eq!(count_products(&db).await.unwrap(), 0);
        let refused = db.read(|c| c.execute("DELETE FROM products", []).map_err(store_error)).await;
        assert!(refused.is_err(), "a read on the writer is query-only");

        db.write(|tx| {
            tx.execute(
                "INSERT INTO products (id, title, description, category, price_amount, price_currency, image_url, \
                 stock, title_key) VALUES ('p', 'P', '', 'c', 100, 'USD', NULL, 1, 'p')",
                [],
            )
            .map_err(store_error)
        })
        .await
        .expect("the writer writes again after serving reads");
        assert_eq!(count_products(&db).await.unwrap(), 1);
        assert!(db.readers.lock().unwrap().is_empty(), "no reader opened while the writer was idle");
    }

    // As a function process runs it, should a read come while the writer is busy.
    #[tokio::test]
    #[allow(clippy::await_holding_lock, reason = "holding the writer is the busy writer this test needs")]
    async fn a_read_while_the_writer_is_busy_opens_a_query_only_reader() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("galley.db")).unwrap();
        let busy = db.writer.lock().unwrap();
        assert_eq!(count_products(&db).await.unwrap(), 0);
        drop(busy);
        assert_eq!(db.readers.lock().unwrap().len(), 1, "the reader is pooled for the next read");
        let refused = db.read(|c| c.execute("DELETE FROM products", []).map_err(store_error)).await;
        assert!(refused.is_err(), "readers are query-only");
    }

    // On the blocking pool, as the local server runs it: a write must not
    // queue behind a read that borrowed the writer.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn where_requests_run_side_by_side_reads_never_borrow_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("galley.db")).unwrap();
        assert_eq!(count_products(&db).await.unwrap(), 0);
        assert_eq!(db.readers.lock().unwrap().len(), 1, "the read ran on a pooled reader, not on the idle writer");
    }

    // A burst of reads waits for a turn instead of opening a reader each.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_of_reads_opens_no_more_readers_than_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("galley.db")).unwrap();
        let reads: Vec<_> = (0..64)
            .map(|_| {
                let db = db.clone();
                tokio::spawn(async move {
                    db.read(|c| {
                        std::thread::sleep(Duration::from_millis(5));
                        c.query_row("SELECT COUNT(*) FROM products", [], |row| row.get::<_, i64>(0))
                            .map_err(store_error)
                    })
                    .await
                })
            })
            .collect();
        for read in reads {
            assert_eq!(read.await.unwrap().unwrap(), 0);
        }
        let opened = db.readers.lock().unwrap().len();
        assert!((1..=reader_limit()).contains(&opened), "{opened} readers opened for 64 reads at once");
    }
}
