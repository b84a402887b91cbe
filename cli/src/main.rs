//! `galley`: run the whole API locally, import catalogs, prepare emulators.

mod admin;
#[cfg(feature = "aws")]
mod arrivals;
mod dispatch;
mod images;
mod import;
mod local_s3;
mod mail;
mod metrics_page;
mod migrate;
mod public_keys;
mod receipts;
#[cfg(feature = "aws")]
mod replay;
mod serve;
mod settle;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use clap::{Args, Parser, Subcommand};
use galley_shared::auth::{KeyId, Role};
use galley_shared::config::{Backend, DEFAULT_DATA_DIR};

#[derive(Parser)]
#[command(name = "galley", version, about = "Galley, the shop back end: local server and tools")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve every route of the API on 127.0.0.1, through the Lambda handlers.
    Serve {
        #[arg(long, default_value_t = 3000)]
        port: u16,
        /// Connections served at once; more wait until one ends.
        #[arg(long, default_value_t = 256)]
        max_connections: usize,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Settle the orders checkouts left pending (asking the payment gateway)
    /// and send the receipts still unsent, once: what the scheduled
    /// `settler` function does in AWS.
    Settle {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Re-drive a failure queue of the stack once its fault is mended
    /// (docs/operations.md): each message is deleted only after its work
    /// succeeded, and the work is idempotent, so running it twice is safe.
    Replay {
        #[command(subcommand)]
        queue: ReplayQueue,
    },
    /// Grant or revoke the admin role (the back office) of an account.
    Admin {
        #[command(subcommand)]
        change: RoleChange,
    },
    /// Copy the embedded store (database, blobs, sent mail, signing key) into
    /// one archive FILE, consistent as of one instant, while `galley serve`
    /// runs and writes.
    Backup {
        file: PathBuf,
        #[arg(long, env = "GALLEY_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
    },
    /// Restore an archive of `galley backup` as the data dir. A dir that
    /// holds anything is replaced only with --force (stop `galley serve`
    /// first); it is then kept beside, renamed, not deleted.
    Restore {
        file: PathBuf,
        #[arg(long, env = "GALLEY_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
        #[arg(long)]
        force: bool,
    },
    /// Upsert products and stock from a JSON Lines file.
    Import {
        file: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Move the shop in a data dir into the stack's DynamoDB table and S3
    /// bucket (TABLE_NAME, UPLOAD_BUCKET): every kind of data, counted on
    /// both sides after; stop `galley serve` first. An interrupted run is
    /// finished by running it again. Sessions are not moved: everyone logs
    /// in again, with the same password.
    Migrate {
        /// The data dir to move.
        #[arg(long)]
        from_data_dir: PathBuf,
        /// Into AWS (the only target there is; required so the direction is never a guess).
        #[arg(long, required = true)]
        aws: bool,
        /// Where the box served its product images (its GALLEY_PUBLIC_URL).
        #[arg(long, env = "GALLEY_PUBLIC_URL", default_value = galley_lambda::stores::DEFAULT_PUBLIC_URL)]
        from_url: String,
        /// The stack's image origin (its ImagesUrl output): the box's
        /// images are served from there after the move.
        #[arg(long, env = "IMAGES_URL")]
        images_url: Option<String>,
        /// Records read and written at a time.
        #[arg(long, default_value_t = 100)]
        batch: usize,
        /// Forget the checkpoint and copy everything again.
        #[arg(long)]
        restart: bool,
        /// Copy into a table or bucket that holds data already.
        #[arg(long)]
        force: bool,
    },
    /// Print the access tokens' public keys (`kid:key,…`, what
    /// GALLEY_TOKEN_PUBLIC_KEYS takes) for a secret: a deployment's, from
    /// Secrets Manager, or the data dir's.
    PublicKeys {
        /// The key ids, comma-separated (template.yaml's TokenKeyIds).
        #[arg(long, default_value = KeyId::FIRST)]
        ids: String,
        /// The signing secret's ARN (the stack's SigningKeySecretArn output).
        #[arg(long)]
        secret_arn: Option<String>,
        #[arg(long, env = "GALLEY_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
    },
    /// Create the DynamoDB table (as template.yaml defines it) on the
    /// endpoint the environment names, e.g. a local emulator.
    CreateTable {
        #[arg(long, env = "TABLE_NAME")]
        table_name: String,
    },
    /// Create the upload bucket on the endpoint the environment names, e.g.
    /// a local emulator.
    CreateBucket {
        #[arg(long, env = "UPLOAD_BUCKET")]
        bucket: String,
    },
}

#[derive(Subcommand)]
enum RoleChange {
    /// Make the account of EMAIL an admin.
    Grant {
        email: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Make the account of EMAIL a customer again.
    Revoke {
        email: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Subcommand)]
enum ReplayQueue {
    /// Run the failed upload checks again (UploadCheckFailures: Lambda's
    /// on-failure records of the check, each holding its S3 event).
    UploadChecks {
        /// The queue's URL (the stack's UploadCheckFailures queue).
        #[arg(long)]
        queue_url: String,
    },
    /// Send every unsent receipt and notice from the table's outbox, then
    /// delete the stream's failure records (ReceiptFailures) written before.
    Receipts {
        /// The queue's URL (the stack's ReceiptFailures queue).
        #[arg(long)]
        queue_url: String,
    },
}

#[derive(Args)]
struct StoreArgs {
    /// The data dir: the embedded store (database, outbox, blobs) and, with
    /// either store, the generated signing key.
    #[arg(long, env = "GALLEY_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
    data_dir: PathBuf,
    /// Use the AWS adapters (table from TABLE_NAME; endpoint, region and
    /// credentials from the standard AWS environment).
    #[arg(long)]
    aws: bool,
}

impl StoreArgs {
    fn backend(&self) -> anyhow::Result<Backend> {
        if !self.aws {
            return Ok(Backend::Embedded { data_dir: self.data_dir.clone() });
        }
        if !cfg!(feature = "aws") {
            return Err(without_aws());
        }
        match Backend::from_env() {
            aws @ Backend::Aws { .. } => Ok(aws),
            Backend::Embedded { .. } => Err(anyhow!("--aws needs TABLE_NAME in the environment")),
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    galley_lambda::telemetry::init();
    match run(Cli::parse().command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}` prints the whole chain: "open store: …: cause".
            eprintln!("galley: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve { port, max_connections, store } => {
            serve::run(port, &store.backend()?, &store.data_dir, serve::Limits { max_connections }).await
        }
        Command::Import { file, store } => import::run(&file, &store.backend()?).await,
        Command::Settle { store } => settle::run(&store.backend()?).await,
        Command::Replay { queue } => replay(queue).await,
        Command::Admin { change: RoleChange::Grant { email, store } } => {
            admin::run(&email, Role::Admin, &store.backend()?).await
        }
        Command::Admin { change: RoleChange::Revoke { email, store } } => {
            admin::run(&email, Role::Customer, &store.backend()?).await
        }
        Command::Backup { file, data_dir } => {
            let manifest = galley_embedded::backup::backup(&data_dir, &file)
                .with_context(|| format!("back up {} to {}", data_dir.display(), file.display()))?;
            println!("backed up {} to {}: {}", data_dir.display(), file.display(), manifest.counts);
            Ok(())
        }
        Command::Restore { file, data_dir, force } => {
            let (manifest, kept) = galley_embedded::backup::restore(&file, &data_dir, force)
                .with_context(|| format!("restore {} to {}", file.display(), data_dir.display()))?;
            if let Some(kept) = kept {
                println!("the replaced data dir is kept as {}", kept.display());
            }
            println!("restored {} to {}: {}", file.display(), data_dir.display(), manifest.counts);
            Ok(())
        }
        Command::Migrate { from_data_dir, aws: _, from_url, images_url, batch, restart, force } => {
            migrate::run(migrate::Options { data_dir: from_data_dir, batch, from_url, images_url, restart, force })
                .await
        }
        Command::PublicKeys { ids, secret_arn, data_dir } => {
            public_keys::run(&ids, secret_arn.as_deref(), &data_dir).await
        }
        Command::CreateTable { table_name } => create_table(&table_name).await,
        Command::CreateBucket { bucket } => create_bucket(&bucket).await,
    }
}

/// What a build without the `aws` feature says when asked for AWS.
fn without_aws() -> anyhow::Error {
    anyhow!(
        "this galley was built without the AWS adapters (--no-default-features); \
         build it with them: cargo build --release -p galley"
    )
}

#[cfg(not(feature = "aws"))]
async fn replay(_queue: ReplayQueue) -> anyhow::Result<()> {
    Err(without_aws())
}

#[cfg(feature = "aws")]
async fn replay(queue: ReplayQueue) -> anyhow::Result<()> {
    match queue {
        ReplayQueue::UploadChecks { queue_url } => replay::upload_checks(&queue_url).await,
        ReplayQueue::Receipts { queue_url } => replay::receipts(&queue_url).await,
    }
}

#[cfg(not(feature = "aws"))]
async fn create_table(_table_name: &str) -> anyhow::Result<()> {
    Err(without_aws())
}

#[cfg(not(feature = "aws"))]
async fn create_bucket(_bucket: &str) -> anyhow::Result<()> {
    Err(without_aws())
}

#[cfg(feature = "aws")]
async fn create_table(table_name: &str) -> anyhow::Result<()> {
    let config = galley_aws::load_sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let created = galley_aws::table::create_table(&client, table_name)
        .await
        .with_context(|| format!("create table {table_name}"))?;
    println!(
        "{}",
        if created { format!("created table {table_name}") } else { format!("table {table_name} already exists") }
    );
    Ok(())
}

#[cfg(feature = "aws")]
async fn create_bucket(bucket: &str) -> anyhow::Result<()> {
    let config = galley_aws::load_sdk_config().await;
    let blobs = galley_aws::s3::S3Blobs::new(&config, bucket);
    let created = blobs.create_bucket().await.with_context(|| format!("create bucket {bucket}"))?;
    println!(
        "{}",
        if created { format!("created bucket {bucket}") } else { format!("bucket {bucket} already exists") }
    );
    Ok(())
}
