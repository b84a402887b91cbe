//! The copy: kind after kind, a batch at a time, each batch written before
//! the checkpoint moves past it. A run stopped anywhere (a crash, ^C, a
//! dropped connection) resumes from its checkpoint; the batch it was
//! writing is written again, which lands on the same keys.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Kind, Record, Rehost};
use crate::error::Error;
use crate::ports::{Export, Import};

/// Records per kind.
pub type Counts = BTreeMap<Kind, u64>;

/// How far one kind got.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// The position of the last record written.
    pub after: Option<String>,
    pub done: bool,
    /// Records written so far (a batch written again counts again).
    pub copied: u64,
}

/// Where a move got to: saved after every batch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The target this checkpoint is for (a table and a bucket): a
    /// checkpoint never resumes a move into another.
    pub target: String,
    pub kinds: BTreeMap<Kind, Position>,
}

impl Checkpoint {
    pub fn new(target: &str) -> Self {
        Self { target: target.to_owned(), kinds: BTreeMap::new() }
    }

    pub fn finished(&self) -> bool {
        Kind::ALL.iter().all(|kind| self.kinds.get(kind).is_some_and(|p| p.done))
    }
}

pub struct Plan {
    /// Records read and written at a time.
    pub batch: usize,
    /// The clock of the run (Unix seconds): what lapsed by then stays behind.
    pub now: i64,
    pub rehost: Option<Rehost>,
}

/// What a run reports as it goes, and where its checkpoint is kept.
pub trait Watcher: Send + Sync {
    fn started(&self, kind: Kind, total: u64, copied: u64);
    fn written(&self, kind: Kind, records: u64);
    fn finished(&self, kind: Kind);
    /// Keeps the checkpoint (a file); a failure stops the run.
    fn save(&self, checkpoint: &Checkpoint) -> Result<(), Error>;
}

/// Copies every kind from `source` to `target`, from where `checkpoint`
/// says the last run got to.
pub async fn run(
    source: &dyn Export,
    target: &dyn Import,
    plan: &Plan,
    checkpoint: &mut Checkpoint,
    watcher: &dyn Watcher,
) -> Result<(), Error> {
    let totals = source.counts(plan.now).await?;
    for kind in Kind::ALL {
        let mut position = checkpoint.kinds.get(&kind).cloned().unwrap_or_default();
        if position.done {
            continue;
        }
        watcher.started(kind, totals.get(&kind).copied().unwrap_or(0), position.copied);
        loop {
            let page = source.page(kind, position.after.as_deref(), plan.batch, plan.now).await?;
            let Some((last, _)) = page.last() else { break };
            let last = last.clone();
            let records: Vec<Record> = page.into_iter().map(|(_, record)| rehosted(record, plan)).collect();
            target.write(&records).await?;
            position.after = Some(last);
            position.copied += records.len() as u64;
            checkpoint.kinds.insert(kind, position.clone());
            watcher.save(checkpoint)?;
            watcher.written(kind, records.len() as u64);
            if records.len() < plan.batch {
                break;
            }
        }
        position.done = true;
        checkpoint.kinds.insert(kind, position);
        watcher.save(checkpoint)?;
        watcher.finished(kind);
    }
    Ok(())
}

fn rehosted(record: Record, plan: &Plan) -> Record {
    match (record, &plan.rehost) {
        (Record::Product(mut r), Some(rehost)) => {
            if let Some(url) = r.product.image_url.as_deref().and_then(|url| rehost.url(url)) {
                r.product.image_url = Some(url);
            }
            Record::Product(r)
        }
        (record, _) => record,
    }
}

/// Each kind's count in the source and in the target, and whether all agree.
pub fn compare(source: &Counts, target: &Counts) -> (Vec<(Kind, u64, u64)>, bool) {
    let rows: Vec<(Kind, u64, u64)> = Kind::ALL
        .iter()
        .map(|kind| (*kind, source.get(kind).copied().unwrap_or(0), target.get(kind).copied().unwrap_or(0)))
        .collect();
    let same = rows.iter().all(|(_, from, to)| from == to);
    (rows, same)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;

    use super::*;
    use crate::migration::Blob;

    /// A source of blobs only: enough to drive the loop.
    struct Files(Vec<String>);

    fn blob(key: &str) -> Record {
        Record::Blob(Blob {
            key: key.into(),
            bytes: bytes::Bytes::new(),
            content_type: "image/png".into(),
            cache_control: None,
        })
    }

    #[async_trait]
    impl Export for Files {
        async fn page(
            &self,
            kind: Kind,
            after: Option<&str>,
            limit: usize,
            _now: i64,
        ) -> Result<Vec<(String, Record)>, Error> {
            if kind != Kind::Blobs {
                return Ok(Vec::new());
            }
            Ok(self.0.iter().filter(|k| Some(k.as_str()) > after).take(limit).map(|k| (k.clone(), blob(k))).collect())
        }

        async fn counts(&self, _now: i64) -> Result<Counts, Error> {
            Ok(Counts::from([(Kind::Blobs, self.0.len() as u64)]))
        }
    }

    /// A target that fails its `fail_at`th write, and keeps what it got.
    #[derive(Default)]
    struct Target {
        written: Mutex<std::collections::BTreeSet<String>>,
        writes: Mutex<usize>,
        fail_at: Option<usize>,
    }

    #[async_trait]
    impl Import for Target {
        async fn write(&self, records: &[Record]) -> Result<(), Error> {
            let mut writes = self.writes.lock().unwrap();
            *writes += 1;
            if Some(*writes) == self.fail_at {
                return Err(Error::unavailable("the connection dropped"));
            }
            for record in records {
                let Record::Blob(b) = record else { panic!("only blobs here") };
                self.written.lock().unwrap().insert(b.key.clone());
            }
            Ok(())
        }

        async fn counts(&self, _now: i64) -> Result<Counts, Error> {
            Ok(Counts::from([(Kind::Blobs, self.written.lock().unwrap().len() as u64)]))
        }
    }

    #[derive(Default)]
    struct Saved(Mutex<Vec<Checkpoint>>);

    impl Watcher for Saved {
        fn started(&self, _: Kind, _: u64, _: u64) {}
        fn written(&self, _: Kind, _: u64) {}
        fn finished(&self, _: Kind) {}
        fn save(&self, checkpoint: &Checkpoint) -> Result<(), Error> {
            self.0.lock().unwrap().push(checkpoint.clone());
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_run_that_failed_half_way_resumes_after_its_last_written_batch() {
        let source = Files((0..10).map(|i| format!("k{i:02}")).collect());
        let plan = Plan { batch: 3, now: 0, rehost: None };
        let broken = Target { fail_at: Some(3), ..Target::default() };
        let saved = Saved::default();
        let mut checkpoint = Checkpoint::new("t");
        assert!(run(&source, &broken, &plan, &mut checkpoint, &saved).await.is_err());
        let blobs = checkpoint.kinds[&Kind::Blobs].clone();
        assert_eq!((blobs.after.as_deref(), blobs.done, blobs.copied), (Some("k05"), false, 6));
        assert!(!checkpoint.finished());

        // The second run writes only what the first did not.
        let target = Target::default();
        run(&source, &target, &plan, &mut checkpoint, &saved).await.unwrap();
        let second: Vec<String> = target.written.lock().unwrap().iter().cloned().collect();
        assert_eq!(second, ["k06", "k07", "k08", "k09"]);
        assert!(checkpoint.finished());
        let (rows, _) = compare(&source.counts(0).await.unwrap(), &target.counts(0).await.unwrap());
        assert!(rows.contains(&(Kind::Blobs, 10, 4)), "the second target holds the rest: {rows:?}");
    }

    #[tokio::test]
    async fn a_finished_run_run_again_writes_nothing() {
        let source = Files(vec!["a".into(), "b".into()]);
        let plan = Plan { batch: 2, now: 0, rehost: None };
        let mut checkpoint = Checkpoint::new("t");
        run(&source, &Target::default(), &plan, &mut checkpoint, &Saved::default()).await.unwrap();
        let again = Target::default();
        run(&source, &again, &plan, &mut checkpoint, &Saved::default()).await.unwrap();
        assert_eq!(*again.writes.lock().unwrap(), 0);
    }
}
