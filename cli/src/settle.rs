//! The settler locally: `galley settle` runs it once over a store (what the
//! scheduled `settler` function does in AWS), and `galley serve` runs it in
//! the background every minute.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use galley_lambda::Stores;
use galley_settler::{SettlerFunction, SettlerStores};
use galley_shared::clock::SystemClock;
use galley_shared::config::Backend;

/// How often `galley serve` settles what checkouts left pending.
const EVERY: Duration = Duration::from_secs(60);

pub fn function(stores: &Stores) -> anyhow::Result<SettlerFunction> {
    let payments = stores.payments()?.gateway;
    let mailer = stores.mailer(&crate::mail::mail_from()).context("mail")?;
    Ok(SettlerFunction::new(SettlerStores::from(stores), payments, mailer, Arc::new(SystemClock)))
}

/// `galley settle`: one run, and what it did.
pub async fn run(backend: &Backend) -> anyhow::Result<()> {
    let stores = Stores::open(backend).await.context("open store")?;
    let run = function(&stores)?.run().await.context("settle")?;
    let settled = run.settled;
    println!(
        "settled {} pending order(s): {} confirmed, {} declined; {} receipt(s) sent; {} search index(es) repaired",
        settled.confirmed + settled.declined,
        settled.confirmed,
        settled.declined,
        run.receipts_sent,
        run.indexes_repaired
    );
    Ok(())
}

/// Runs the settler every minute until the task is aborted.
pub fn spawn(function: SettlerFunction) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(EVERY).await;
            if let Err(error) = function.run().await {
                tracing::warn!(%error, "settling pending orders failed; the next run tries again");
            }
        }
    })
}
