//! `galley import FILE`: bad lines are reported by number and skipped, the
//! rest is written; the exit code says whether every line went in.

use std::io::IsTerminal;
use std::path::Path;

use anyhow::{Context, bail};
use galley_http::documents::parse_catalog;
use galley_lambda::Stores;
use galley_shared::config::Backend;
use indicatif::{ProgressBar, ProgressStyle};

/// Products written per store call; small enough for a live progress bar.
const BATCH: usize = 500;

pub async fn run(file: &Path, backend: &Backend) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| format!("read {}", file.display()))?;
    let parsed = parse_catalog(&text);
    for bad in &parsed.bad_lines {
        eprintln!("{}:{}: {}", file.display(), bad.line, bad.reason);
    }
    let stores = Stores::open(backend).await.context("open store")?;
    let catalog = stores.catalog();
    let progress = if std::io::stderr().is_terminal() {
        ProgressBar::new(parsed.products.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    progress.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} products ({per_sec}, {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    for batch in parsed.products.chunks(BATCH) {
        catalog.upsert(batch).await.with_context(|| format!("write to {}", stores.describe()))?;
        progress.inc(batch.len() as u64);
    }
    progress.finish_and_clear();
    println!("imported {} products into {}", parsed.products.len(), stores.describe());
    if !parsed.bad_lines.is_empty() {
        bail!("{} line(s) of {} were not imported", parsed.bad_lines.len(), file.display());
    }
    Ok(())
}
