//! Galley's functions as Lambda runs them, side by side with a hello-world
//! floor: cold start (through a Runtime API on loopback), peak memory, size,
//! warm latency per route, round trips per route, on the embedded store and
//! on the AWS adapters against moto. Run by `./scripts/bench`, which builds
//! the release binaries and zips, starts moto and passes their paths:
//!
//! bench-lambda --local-dir target/bench/local --lambda-dir target/bench/lambda --zip-dir target/lambda \
//!     --out BENCHMARKS.md [--starts 60] [--quick] [--cold-only]
//!     [--only checkout,login] [--variant LABEL=LOCAL_BINARY,LAMBDA_BINARY] [--embedded-only]
//!
//! The local build (the default features, the embedded store: what `cargo lambda watch` runs) is
//! measured on the embedded store; the Lambda build (`--no-default-features
//! --features aws`, as template.yaml deploys it) on moto. Both directories
//! hold the two hello worlds too. `--cold-only` measures cold starts, memory and size,
//! prints them and writes nothing.
//!
//! For trying a change (with `--cold-only`): `--only` keeps the named
//! functions, and each `--variant checkout.mmap=A,B` starts binaries A
//! (embedded) and B (moto) as the function before the first dot, in the same
//! interleaved rounds as the rest, so two builds compare within one run.
//! `--embedded-only` leaves moto and the Lambda build out of such a run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use galley_bench::lambda::backed::{AWS, Backed, aws, embedded};
use galley_bench::lambda::capacity::Units;
use galley_bench::lambda::cost;
use galley_bench::lambda::events;
use galley_bench::lambda::iam::Grants;
use galley_bench::lambda::launch::{ColdStart, Launch, Memory, cold_start, peak_rss};
use galley_bench::lambda::plot::{self, Series};
use galley_bench::lambda::routes::{Bench, ROUTES, Route};
use galley_bench::lambda::trips;
use galley_bench::stats::{millis, percentile};
use serde_json::Value;

/// The function binaries, and the Lambda events each is cold-started with.
const FUNCTIONS: &[&str] = &["search", "login", "checkout", "upload", "upload-check", "receipts"];
/// The floor the targets are set against: hello world as published
/// (`#[tokio::main]`).
const FLOOR: &str = "hello-lambda";
/// The same hello world on the current-thread runtime Galley's functions
/// use, started beside them too: the gap from it to a function is the
/// function's own start-up work, without the floor's worker threads.
const SAME_RUNTIME: &str = "hello-lambda-current-thread";
const HELLOS: [&str; 2] = [FLOOR, SAME_RUNTIME];
/// Warm checkouts sampled on moto (see `warm`).
const MOTO_CHECKOUTS: usize = 50;

struct Options {
    local_dir: PathBuf,
    lambda_dir: PathBuf,
    cold_only: bool,
    embedded_only: bool,
    zip_dir: PathBuf,
    out: PathBuf,
    starts: usize,
    rss_requests: usize,
    warm_embedded: usize,
    warm_aws: usize,
    hash_samples: usize,
    only: Option<Vec<String>>,
    variants: Vec<Binary>,
}

/// One binary measured: a function (or a variant of one), or a hello world.
#[derive(Clone)]
struct Binary {
    label: String,
    /// Whose first event it is started with; `None` for the hello worlds.
    function: Option<String>,
    local: PathBuf,
    lambda: PathBuf,
}

impl Binary {
    /// The build measured on `backed`: the Lambda build on moto, the local
    /// one on the embedded store.
    fn path(&self, backed: &Backed) -> PathBuf {
        if backed.name == AWS { self.lambda.clone() } else { self.local.clone() }
    }
}

/// What a run measures: the functions (`--only` keeps some), the variants,
/// then the floor and the same-runtime hello world.
fn binaries(o: &Options) -> Vec<Binary> {
    let named = |label: &str, function: Option<&str>| Binary {
        label: label.to_owned(),
        function: function.map(str::to_owned),
        local: o.local_dir.join(label),
        lambda: o.lambda_dir.join(label),
    };
    let kept = |name: &str| o.only.as_ref().is_none_or(|only| only.iter().any(|n| n == name));
    let functions = FUNCTIONS.iter().filter(|name| kept(name)).map(|name| named(name, Some(name)));
    let hellos = HELLOS.iter().map(|name| named(name, None));
    functions.chain(o.variants.iter().cloned()).chain(hellos).collect()
}

/// `LABEL=LOCAL,LAMBDA`, the function being LABEL up to its first dot.
fn variant(arg: &str) -> Binary {
    let (label, paths) = arg.split_once('=').expect("--variant LABEL=LOCAL_BINARY,LAMBDA_BINARY");
    let (local, lambda) = paths.split_once(',').expect("--variant LABEL=LOCAL_BINARY,LAMBDA_BINARY");
    let function = label.split('.').next().unwrap_or(label);
    assert!(FUNCTIONS.contains(&function), "--variant {label}: no function {function}");
    Binary { label: label.to_owned(), function: Some(function.to_owned()), local: local.into(), lambda: lambda.into() }
}

fn options() -> Options {
    let mut args = std::env::args().skip(1);
    let mut o = Options {
        local_dir: "target/bench/local".into(),
        lambda_dir: "target/bench/lambda".into(),
        cold_only: false,
        embedded_only: false,
        zip_dir: "target/lambda".into(),
        out: "BENCHMARKS.md".into(),
        starts: 60,
        rss_requests: 1000,
        warm_embedded: 10_000,
        warm_aws: 1_000,
        hash_samples: 40,
        only: None,
        variants: Vec::new(),
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--local-dir" => o.local_dir = args.next().expect("a directory").into(),
            "--lambda-dir" => o.lambda_dir = args.next().expect("a directory").into(),
            "--cold-only" => o.cold_only = true,
            "--embedded-only" => o.embedded_only = true,
            "--zip-dir" => o.zip_dir = args.next().expect("a directory").into(),
            "--out" => o.out = args.next().expect("a file").into(),
            "--starts" => o.starts = args.next().and_then(|n| n.parse().ok()).expect("a number"),
            "--quick" => {
                // For trying the harness out, not for figures.
                o.starts = 3;
                o.rss_requests = 50;
                o.warm_embedded = 200;
                o.warm_aws = 20;
                o.hash_samples = 3;
            }
            "--only" => {
                o.only = Some(args.next().expect("function names").split(',').map(str::to_owned).collect());
            }
            "--variant" => o.variants.push(variant(&args.next().expect("LABEL=LOCAL,LAMBDA"))),
            other => panic!("unknown argument {other}"),
        }
    }
    assert!(
        o.cold_only || (o.only.is_none() && o.variants.is_empty() && !o.embedded_only),
        "--only, --variant and --embedded-only are for comparing builds: with --cold-only, which writes nothing"
    );
    o
}

#[derive(Default)]
struct Starts {
    init: Vec<Duration>,
    first_answer: Vec<Duration>,
    init_noticed_late: Vec<Duration>,
    answer_noticed_late: Vec<Duration>,
    /// Connections to AWS opened before the first poll, over all starts.
    init_aws_connections: usize,
}

/// The note under the cold-start table: how late the harness noticed
/// what it timed, per binary, which the times above leave out.
fn noticed_late(o: &Options, local: &BTreeMap<String, Starts>, cloud: &BTreeMap<String, Starts>) -> String {
    let range = |late: &dyn Fn(&str) -> f64| {
        let medians: Vec<f64> = binaries(o).iter().map(|b| late(&b.label)).collect();
        let (low, high) = medians.iter().fold((f64::MAX, 0.0f64), |(l, h), &m| (l.min(m), h.max(m)));
        format!("{:.2}–{:.2} ms", low, high)
    };
    format!(
        "\nTimes are when the kernel received what the function sent (`SO_TIMESTAMPNS` on the Runtime API's \
         sockets), not when the harness read it: the harness noticed the first poll {} later (median per \
         binary) and the first answer {} later on the embedded store, and the first poll {} later on moto.\n",
        range(&|name| median_p95(&local[name].init_noticed_late).0),
        range(&|name| median_p95(&local[name].answer_noticed_late).0),
        range(&|name| median_p95(&cloud[name].init_noticed_late).0),
    )
}

fn median_p95(samples: &[Duration]) -> (f64, f64) {
    let mut sorted = samples.to_vec();
    sorted.sort();
    (pct(&sorted, 0.5), pct(&sorted, 0.95))
}

/// Cold starts of every function and the floor, interleaved so that the
/// machine's drift touches all alike.
async fn cold_starts(o: &Options, backed: &Backed, bench: &Bench<'_>) -> BTreeMap<String, Starts> {
    let mut results: BTreeMap<String, Starts> = BTreeMap::new();
    for _ in 0..o.starts {
        for binary in binaries(o) {
            let launch = Launch { binary: binary.path(backed), env: backed.env.clone() };
            let (event, status) = started_with(bench, &binary);
            let name = &binary.label;
            let start: ColdStart =
                cold_start(&launch, event, status).await.unwrap_or_else(|e| panic!("{name} on {}: {e}", backed.name));
            let entry = results.entry(binary.label.clone()).or_default();
            entry.init.push(start.init);
            entry.first_answer.push(start.first_answer);
            entry.init_noticed_late.push(start.init_noticed_late);
            entry.answer_noticed_late.push(start.answer_noticed_late);
            entry.init_aws_connections += start.init_aws_connections.unwrap_or(0);
        }
    }
    results
}

async fn peak_memory(o: &Options, requests: usize, backed: &Backed, bench: &Bench<'_>) -> BTreeMap<String, Memory> {
    let mut results = BTreeMap::new();
    for binary in binaries(o) {
        let launch = Launch { binary: binary.path(backed), env: backed.env.clone() };
        let status = started_with(bench, &binary).1;
        let rss = peak_rss(&launch, requests, status, |_| started_with(bench, &binary).0)
            .await
            .unwrap_or_else(|e| panic!("{} on {}: {e}", binary.label, backed.name));
        results.insert(binary.label.clone(), rss);
    }
    results
}

/// The event a binary's invocations carry, and the status it must answer.
fn started_with(bench: &Bench<'_>, binary: &Binary) -> (Value, Option<u16>) {
    match &binary.function {
        Some(function) => bench.event(function, 0),
        None => (events::http("GET", "/hello", &[], None), Some(200)),
    }
}

struct Warm {
    route: Route,
    sorted: Vec<Duration>,
    trips: Option<(Vec<String>, usize, Units)>,
    /// What the counted request needed that its function is not granted.
    missing: Vec<String>,
}

async fn warm(backed: &Backed, bench: &Bench<'_>, samples: usize, hash_samples: usize) -> Vec<Warm> {
    let mut results = Vec::new();
    for &route in ROUTES {
        backed.fixture.renew_access(&backed.stores).await;
        let mut n = if route.hashes_a_password() { hash_samples } else { samples };
        if backed.calls.is_some() && route == Route::Checkout {
            // moto copies the whole table for every transaction (its rollback),
            // so a checkout there takes seconds: the emulator's cost, not ours.
            n = n.min(MOTO_CHECKOUTS);
        }
        if route == Route::Receipt {
            n = n.min(bench.receipts_left().saturating_sub(2));
        }
        let warmup = (n / 20).clamp(1, 50);
        bench.prepare(route, n + warmup + 1).await;
        for i in 0..warmup {
            bench.call(route, i).await;
        }
        // One counted request, alone, for its round trips.
        let mut missing = Vec::new();
        let trips = match &backed.calls {
            Some(log) => {
                log.take();
                log.meter(true);
                bench.call(route, warmup).await;
                log.meter(false);
                let calls = log.take();
                let mut units = Units::default();
                calls.iter().for_each(|c| units += c.units);
                missing = Grants::of(route.function()).missing(calls.iter().flat_map(|c| &c.needs));
                Some((calls.iter().map(|c| c.action.clone()).collect(), trips::sequential(&calls), units))
            }
            None => None,
        };
        let mut timings = Vec::with_capacity(n);
        for i in 0..n {
            timings.push(bench.call(route, warmup + 1 + i).await);
        }
        if let Some(log) = &backed.calls {
            log.take();
        }
        timings.sort();
        results.push(Warm { route, sorted: timings, trips, missing });
    }
    results
}

fn size_of(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.len())
}

fn ms(v: f64) -> String {
    format!("{v:.1} ms")
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    millis(percentile(sorted, p))
}

#[tokio::main]
async fn main() {
    let o = options();
    let mut report = String::new();
    let machine = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    report.push_str(&format!("Measured on {cores} cores ({machine}), {} starts per function.\n\n", o.starts));

    let dir = tempfile::tempdir().unwrap();
    let receipts = o.starts + o.rss_requests + o.warm_embedded.min(1000) + 100;
    eprintln!("seeding the embedded store…");
    let local = embedded(dir.path(), receipts).await;
    // Upload tickets asked for between two renewals: the cold starts, or a
    // memory run, or one warm route's samples and warmup.
    local.fixture.expect_uploads(o.starts.max(o.rss_requests + 1).max(o.warm_embedded + 52));
    let local_bench = Bench::new(&local.functions, &local.stores, &local.fixture, local.bucket.clone());
    if o.embedded_only {
        eprintln!("cold starts…");
        local.fixture.renew_access(&local.stores).await;
        let cold_local = cold_starts(&o, &local, &local_bench).await;
        report.push_str(&cold_start_table(&o, &cold_local, None));
        println!("{report}");
        return;
    }
    eprintln!("seeding DynamoDB, S3, Secrets Manager and SES on moto…");
    // Each seeded order is two transactions, slow on moto (see MOTO_CHECKOUTS).
    // Every receipts invocation takes a fresh one: the cold starts, the
    // memory run (a cold start and up to MOTO_CHECKOUTS more), the warm run.
    let cloud = aws(o.starts + 1 + 2 * MOTO_CHECKOUTS).await;
    cloud.fixture.expect_uploads(o.starts.max(o.rss_requests + 1).max(o.warm_aws + 52));
    let cloud_bench = Bench::new(&cloud.functions, &cloud.stores, &cloud.fixture, cloud.bucket.clone());
    eprintln!("cold starts…");
    renew_access(&local, &cloud).await;
    let cold_local = cold_starts(&o, &local, &local_bench).await;
    let cold_cloud = cold_starts(&o, &cloud, &cloud_bench).await;
    eprintln!("peak memory…");
    renew_access(&local, &cloud).await;
    let rss_local = peak_memory(&o, o.rss_requests, &local, &local_bench).await;
    // A checkout on moto takes over a second (see MOTO_CHECKOUTS); an SDK
    // client's memory is settled long before this many.
    let rss_cloud_requests = o.rss_requests.min(MOTO_CHECKOUTS);
    let rss_cloud = peak_memory(&o, rss_cloud_requests, &cloud, &cloud_bench).await;

    report.push_str(&cold_start_table(&o, &cold_local, Some(&cold_cloud)));

    report.push_str(&format!(
        "\n### Memory\n\nPeak RSS over a cold start and {} requests (embedded) or {} (moto); then what is resident at the end: private (heap, stacks) / mapped files (the binary's pages, SQLite's mapped database) / shared (SQLite's WAL index), and the thread count.\n\n| function | local build, embedded: peak RSS | at the end | Lambda build on moto: peak RSS | at the end |\n|---|---:|---|---:|---|\n",
        o.rss_requests, rss_cloud_requests
    ));
    let split = |m: &Memory| {
        format!(
            "{:.1} / {:.1} / {:.1} MB, {}",
            m.anon as f64 / 1e6,
            m.file as f64 / 1e6,
            m.shmem as f64 / 1e6,
            m.threads
        )
    };
    for binary in binaries(&o) {
        let name = binary.label.as_str();
        let (local, cloud) = (&rss_local[name], &rss_cloud[name]);
        report.push_str(&format!(
            "| {name} | {:.1} MB | {} | {:.1} MB | {} |\n",
            local.peak as f64 / 1e6,
            split(local),
            cloud.peak as f64 / 1e6,
            split(cloud),
        ));
    }

    report.push_str("\n### Size\n\n| binary | local build (x86_64, stripped) | Lambda build (x86_64, stripped) | Lambda build, `cargo lambda build --release --arm64 --output-format zip` |\n|---|---:|---:|---:|\n");
    let megabytes = |path: &Path| size_of(path).map_or("—".into(), |b| format!("{:.2} MB", b as f64 / 1e6));
    for binary in binaries(&o) {
        report.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            binary.label,
            megabytes(&binary.local),
            megabytes(&binary.lambda),
            megabytes(&o.zip_dir.join(&binary.label).join("bootstrap.zip"))
        ));
    }
    if o.cold_only {
        println!("{report}");
        return;
    }

    eprintln!("warm latency, embedded…");
    let warm_local = warm(&local, &local_bench, o.warm_embedded, o.hash_samples).await;
    eprintln!("warm latency and round trips, moto…");
    let warm_cloud = warm(&cloud, &cloud_bench, o.warm_aws, o.hash_samples / 2 + 1).await;

    report.push_str(&format!(
        "\n### Warm latency, in-process\n\n{} requests per route on the embedded store, {} on moto ({} and {} for the two routes that hash a password; {MOTO_CHECKOUTS} checkouts on moto, whose transactions copy the table).\n\n| route | embedded p50 | embedded p99 | moto p50 | moto p99 |\n|---|---:|---:|---:|---:|\n",
        o.warm_embedded,
        o.warm_aws,
        o.hash_samples,
        o.hash_samples / 2 + 1
    ));
    let mut series = Vec::new();
    for (l, c) in warm_local.iter().zip(&warm_cloud) {
        report.push_str(&format!(
            "| {} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms |\n",
            l.route.name(),
            pct(&l.sorted, 0.5),
            pct(&l.sorted, 0.99),
            pct(&c.sorted, 0.5),
            pct(&c.sorted, 0.99),
        ));
        series.push(Series { label: l.route.name().into(), backend: "embedded", sorted: l.sorted.clone() });
        series.push(Series { label: c.route.name().into(), backend: "moto", sorted: c.sorted.clone() });
    }

    report.push_str("\n### Round trips (AWS adapters, counted on the wire)\n\n| route | calls | sequential | minimum the data model allows | calls made | IAM |\n|---|---:|---:|---|---|---|\n");
    for w in &warm_cloud {
        let (actions, sequential, _) = w.trips.clone().unwrap_or_default();
        let (minimum, why) = w.route.minimum();
        let iam = if w.missing.is_empty() { "granted".to_owned() } else { format!("**missing {:?}**", w.missing) };
        report.push_str(&format!(
            "| {} | {} | {} | {} ({}) | {} | {} |\n",
            w.route.name(),
            actions.len(),
            sequential,
            minimum,
            why,
            actions.join(", "),
            iam
        ));
    }

    let measured: Vec<cost::Measured> = warm_local
        .iter()
        .zip(&warm_cloud)
        .map(|(l, c)| {
            let (_, sequential, units) = c.trips.clone().unwrap_or_default();
            cost::Measured { route: l.route, units, sequential, cpu_ms: pct(&l.sorted, 0.5) }
        })
        .collect();
    report.push_str(&cost::section(&measured));

    let svg = plot::svg("Warm latency per route (in-process, log scale)", &series);
    let svg_path = o.out.with_file_name("docs/warm-latency.svg");
    std::fs::create_dir_all(svg_path.parent().unwrap()).unwrap();
    std::fs::write(&svg_path, svg).unwrap();
    report.push_str("\n![Warm latency per route](docs/warm-latency.svg)\n");

    write_section(&o.out, &report);
    println!("{report}");
}

/// The cold-start table. Init (exec → first `/next`, what Lambda reports
/// as its Init Duration) is the measure on both back ends; on the embedded
/// store the first answer is beside it, which adds the first request's work.
fn cold_start_table(o: &Options, local: &BTreeMap<String, Starts>, cloud: Option<&BTreeMap<String, Starts>>) -> String {
    let mut table = String::from("### Cold start\n\n");
    table.push_str(
        "| function | local build, embedded: exec → first `/next` (init), median (p95) | × floor | × same-runtime hello | local build, embedded: exec → first answer, median (p95) | × floor |",
    );
    if cloud.is_some() {
        table.push_str(
            " Lambda build on moto: exec → first `/next` (init), median (p95) | × floor | × same-runtime hello | Lambda build on moto: exec → first answer, median |",
        );
    }
    table.push_str(if cloud.is_some() {
        "\n|---|---|---|---|---|---|---|---|---|---|\n"
    } else {
        "\n|---|---|---|---|---|---|\n"
    });
    let init = |starts: &BTreeMap<String, Starts>, name: &str| median_p95(&starts[name].init);
    let answer = |starts: &BTreeMap<String, Starts>, name: &str| median_p95(&starts[name].first_answer);
    let (floor_init, same_init) = (init(local, FLOOR).0, init(local, SAME_RUNTIME).0);
    let floor_answer = answer(local, FLOOR).0;
    for binary in binaries(o) {
        let name = binary.label.as_str();
        let ((i50, i95), (a50, a95)) = (init(local, name), answer(local, name));
        table.push_str(&format!(
            "| {name} | {} ({}) | {:.2}× | {:.2}× | {} ({}) | {:.2}× |",
            ms(i50),
            ms(i95),
            i50 / floor_init,
            i50 / same_init,
            ms(a50),
            ms(a95),
            a50 / floor_answer,
        ));
        if let Some(cloud) = cloud {
            let (floor, same) = (init(cloud, FLOOR).0, init(cloud, SAME_RUNTIME).0);
            let ((c50, c95), (f50, _)) = (init(cloud, name), answer(cloud, name));
            table.push_str(&format!(
                " {} ({}) | {:.2}× | {:.2}× | {} |",
                ms(c50),
                ms(c95),
                c50 / floor,
                c50 / same,
                ms(f50)
            ));
        }
        table.push('\n');
    }
    if let Some(cloud) = cloud {
        table.push_str(&noticed_late(o, local, cloud));
        table.push_str(&calls_in_init(o, cloud));
    }
    table
}

/// The note on AWS calls made before the first poll (`tap`): none, or
/// which functions made them.
fn calls_in_init(o: &Options, cloud: &BTreeMap<String, Starts>) -> String {
    let made: Vec<String> = binaries(o)
        .iter()
        .filter(|b| cloud[&b.label].init_aws_connections > 0)
        .map(|b| format!("{} {}", b.label, cloud[&b.label].init_aws_connections))
        .collect();
    let what = if made.is_empty() {
        "no function opened one before its first poll in any of its starts: init calls no AWS service, \
         Secrets Manager included"
            .to_owned()
    } else {
        format!("connections opened before the first poll, over all starts: {}", made.join(", "))
    };
    format!(
        "\nOver moto each started function reaches AWS through a forwarder that notes when each connection \
         opens (`bench/src/lambda/tap.rs`; it adds its hop to the first answer, not to init): {what}.\n"
    )
}

async fn renew_access(local: &Backed, cloud: &Backed) {
    local.fixture.renew_access(&local.stores).await;
    cloud.fixture.renew_access(&cloud.stores).await;
}

const BEGIN: &str = "<!-- bench-lambda: begin (written by ./scripts/bench; edits here are overwritten) -->";
const END: &str = "<!-- bench-lambda: end -->";

/// Replaces the harness's section of BENCHMARKS.md, or appends it.
fn write_section(path: &Path, report: &str) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let section = format!("{BEGIN}\n{report}{END}");
    let updated = match (text.find(BEGIN), text.find(END)) {
        (Some(a), Some(b)) if b > a => format!("{}{section}{}", &text[..a], &text[b + END.len()..]),
        _ => format!("{text}\n{section}\n"),
    };
    std::fs::write(path, updated).unwrap();
}
