//! Moving a shop from one store to another (`galley migrate`: the data dir
//! to DynamoDB and S3): every kind of data as a record the source reads and
//! the target writes, copied a batch at a time by `run`, whose checkpoint
//! makes an interrupted run resumable and whose writes are keyed by the
//! records' own ids, so a batch written twice is written once.
//!
//! What is not moved, and why: sessions (the access and refresh tokens are
//! keyed by the box's signing secret, which the stack does not share, so a
//! moved session could never be used: everyone logs in again, with the
//! same password); login attempts (a 15-minute window of a shop that is
//! stopped for the move); upload quotas (rebuilt by the next ticket from
//! the uploads themselves); notice send leases (minutes long).
//!
//! | module   | what it is for                                           |
//! |----------|----------------------------------------------------------|
//! | `record` | the kinds of data and one record of each                 |
//! | `run`    | the copy, its checkpoint, and the counts compared after  |
//! | `rehost` | product images' URLs, from the box's origin to the CDN's  |

mod record;
mod rehost;
mod run;

pub use record::{Blob, KeyRecord, Kind, Record, StoredOrder};
pub use rehost::Rehost;
pub use run::{Checkpoint, Counts, Plan, Position, Watcher, compare, run};
