//! `galley migrate --from-data-dir DIR --aws`: the box's whole shop moved
//! into the stack's table and bucket (docs/operations.md, "Moving from one
//! box to AWS"). The checkpoint (`migration.json` in the data dir) is saved
//! after every batch, so a run stopped anywhere is finished by running the
//! same command again; each record lands under its own keys, so the batch
//! in flight when it stopped is written twice and kept once.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, anyhow, bail};
use galley_embedded::EmbeddedStore;
use galley_shared::Error;
use galley_shared::clock::{Clock, SystemClock};
use galley_shared::migration::{self, Checkpoint, Kind, Plan, Rehost, Watcher};
use galley_shared::ports::{Export, Import};
use indicatif::{ProgressBar, ProgressStyle};

const CHECKPOINT_FILE: &str = "migration.json";

pub struct Options {
    pub data_dir: PathBuf,
    pub batch: usize,
    /// The box's public origin, where its product images were served.
    pub from_url: String,
    /// The stack's image origin (its CloudFront distribution).
    pub images_url: Option<String>,
    /// Forget the checkpoint and copy everything again.
    pub restart: bool,
    /// Copy into a target that holds data already.
    pub force: bool,
}

fn checkpoint_path(data_dir: &Path) -> PathBuf {
    data_dir.join(CHECKPOINT_FILE)
}

fn load(path: &Path) -> anyhow::Result<Option<Checkpoint>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes).with_context(|| format!("read {}", path.display()))?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("read {}", path.display())),
    }
}

/// Progress on the terminal, a line per kind otherwise; the checkpoint
/// written aside and renamed, so a crash mid-save leaves the last one.
struct Progress {
    path: PathBuf,
    terminal: bool,
    bar: Mutex<Option<ProgressBar>>,
}

impl Watcher for Progress {
    fn started(&self, kind: Kind, total: u64, copied: u64) {
        if !self.terminal {
            return;
        }
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("{msg:20} {bar:40} {pos}/{len} ({per_sec}, {eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(kind.to_string());
        bar.set_position(copied.min(total));
        *self.bar.lock().unwrap_or_else(|p| p.into_inner()) = Some(bar);
    }

    fn written(&self, _kind: Kind, records: u64) {
        if let Some(bar) = self.bar.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            bar.inc(records);
        }
    }

    fn finished(&self, kind: Kind) {
        match self.bar.lock().unwrap_or_else(|p| p.into_inner()).take() {
            Some(bar) => bar.finish(),
            None => eprintln!("migrate: {kind} copied"),
        }
    }

    fn save(&self, checkpoint: &Checkpoint) -> Result<(), Error> {
        let json = serde_json::to_vec_pretty(checkpoint).map_err(Error::internal)?;
        let partial = self.path.with_extension("json.partial");
        let _ = std::fs::remove_file(&partial);
        galley_embedded::private_files::write_new(&partial, &json)
            .and_then(|()| std::fs::rename(&partial, &self.path))
            .map_err(|e| Error::unavailable(format!("save {}: {e}", self.path.display())))
    }
}

pub async fn run(options: Options) -> anyhow::Result<()> {
    if !options.data_dir.join("galley.db").is_file() {
        bail!("{} holds no galley.db: nothing to migrate", options.data_dir.display());
    }
    if options.batch == 0 {
        bail!("--batch must be at least 1");
    }
    let source = EmbeddedStore::open(&options.data_dir).context("open the data dir")?;
    let target = target().await?;
    let name = target.name();
    let path = checkpoint_path(&options.data_dir);
    let resumed = if options.restart { None } else { load(&path)?.filter(|c| c.target == name) };
    let now = SystemClock.unix_now();
    let mut checkpoint = match resumed {
        Some(checkpoint) => {
            eprintln!("migrate: resuming the move into {name}");
            checkpoint
        }
        None => {
            let held: u64 = target.counts(now).await.context("count the target")?.values().sum();
            if held > 0 && !options.force {
                bail!(
                    "{name} holds {held} records already; migrate into a new stack's table and bucket, \
                     or pass --force to copy over them"
                );
            }
            Checkpoint::new(&name)
        }
    };
    let plan = Plan {
        batch: options.batch,
        now,
        rehost: options.images_url.as_deref().map(|to| Rehost::new(&options.from_url, to)),
    };
    let progress = Progress { path, terminal: std::io::stderr().is_terminal(), bar: Mutex::new(None) };
    migration::run(&source, &target, &plan, &mut checkpoint, &progress)
        .await
        .with_context(|| format!("copy into {name} (run the same command again to resume)"))?;
    let (from, to) = tokio::try_join!(source.counts(now), target.counts(now)).context("count both stores")?;
    let (rows, same) = migration::compare(&from, &to);
    println!("{:<20} {:>10} {:>10}", "kind", "data dir", "aws");
    for (kind, from, to) in rows {
        let mark = if from == to { "" } else { "  differs" };
        println!("{:<20} {from:>10} {to:>10}{mark}", kind.as_str());
    }
    if !same {
        return Err(anyhow!(
            "the counts differ: the data dir changed during the move (stop `galley serve` first), or the target \
             held records already; run with --restart to copy everything again"
        ));
    }
    println!("migrated {} into {name}", options.data_dir.display());
    Ok(())
}

#[cfg(feature = "aws")]
async fn target() -> anyhow::Result<galley_aws::migration::AwsImport> {
    let table = std::env::var("TABLE_NAME").map_err(|_| anyhow!("--aws needs TABLE_NAME in the environment"))?;
    let bucket = std::env::var("UPLOAD_BUCKET").map_err(|_| anyhow!("--aws needs UPLOAD_BUCKET in the environment"))?;
    let config = galley_aws::load_sdk_config().await;
    let store = galley_aws::DynamoStore::new(&config, table);
    Ok(galley_aws::migration::AwsImport::new(store, galley_aws::s3::S3Blobs::new(&config, bucket)))
}

#[cfg(not(feature = "aws"))]
async fn target() -> anyhow::Result<Unbuilt> {
    Err(crate::without_aws())
}

/// The target a build without the AWS adapters cannot make.
#[cfg(not(feature = "aws"))]
enum Unbuilt {}

#[cfg(not(feature = "aws"))]
impl Unbuilt {
    fn name(&self) -> String {
        match *self {}
    }
}

#[cfg(not(feature = "aws"))]
#[async_trait::async_trait]
impl Import for Unbuilt {
    async fn write(&self, _records: &[migration::Record]) -> Result<(), Error> {
        match *self {}
    }

    async fn counts(&self, _now: i64) -> Result<migration::Counts, Error> {
        match *self {}
    }
}
