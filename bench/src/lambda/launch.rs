//! Starting a function binary as Lambda does (a fresh process pointed at a
//! Runtime API) and timing it: exec → first `/next` poll (init) and exec →
//! first answer; and its peak resident memory over many invocations.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::runtime_api::{Answer, Outcome, RuntimeApi};
use super::tap::Tap;

const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// A binary and the environment its deployment gives it.
#[derive(Clone, Debug)]
pub struct Launch {
    pub binary: PathBuf,
    pub env: Vec<(String, String)>,
}

/// One cold start, timed to when the kernel received what the function
/// sent (`stamped`).
#[derive(Clone, Copy, Debug)]
pub struct ColdStart {
    /// exec → the first poll of `/next`: the function's init.
    pub init: Duration,
    /// exec → the first invocation's answer.
    pub first_answer: Duration,
    /// How much later the harness noticed the poll, and the answer.
    pub init_noticed_late: Duration,
    pub answer_noticed_late: Duration,
    /// Connections to the AWS endpoint opened before the first poll (each
    /// an AWS call made in init); `None` where there is no endpoint.
    pub init_aws_connections: Option<usize>,
}

/// Kills the process when dropped, so a failed measurement leaves none behind.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(launch: &Launch, api: &RuntimeApi) -> std::io::Result<Running> {
    spawn_writing(launch, api, Stdio::null())
}

/// The process, its standard output going to `stdout`.
fn spawn_writing(launch: &Launch, api: &RuntimeApi, stdout: Stdio) -> std::io::Result<Running> {
    let child = Command::new(&launch.binary)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", api.addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "galley-bench")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/galley-bench")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .envs(launch.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::null())
        .spawn()?;
    Ok(Running(child))
}

/// An answer that is a success: an HTTP response below 500 (the harness's
/// requests are all meant to succeed; it checks their status itself), or an
/// event handler's result.
fn check(answer: Answer, expect_status: Option<u16>) -> Result<Answer, String> {
    match &answer.outcome {
        Outcome::Response(body) => {
            if let Some(expected) = expect_status {
                let value: Value = serde_json::from_slice(body).map_err(|e| format!("answer is not JSON: {e}"))?;
                let status = value.get("statusCode").and_then(Value::as_u64).unwrap_or(0);
                if status != u64::from(expected) {
                    return Err(format!("answered {status}, expected {expected}: {value}"));
                }
            }
            Ok(answer)
        }
        Outcome::Error(body) | Outcome::InitError(body) => {
            Err(format!("function failed: {}", String::from_utf8_lossy(body)))
        }
    }
}

/// Starts the function, hands it `event`, and times init and first answer.
/// Where the function has an AWS endpoint, it reaches it through a `Tap`.
pub async fn cold_start(launch: &Launch, event: Value, expect_status: Option<u16>) -> Result<ColdStart, String> {
    let mut launch = launch.clone();
    let mut tap = None;
    if let Some((_, endpoint)) = launch.env.iter_mut().find(|(name, _)| name == "AWS_ENDPOINT_URL") {
        let started = Tap::start(endpoint).await.map_err(|e| e.to_string())?;
        endpoint.clone_from(&started.endpoint);
        tap = Some(started);
    }
    let launch = &launch;
    let mut api = RuntimeApi::start().await.map_err(|e| e.to_string())?;
    api.invoke(event);
    let started = Instant::now();
    let _running = spawn(launch, &api).map_err(|e| format!("{}: {e}", launch.binary.display()))?;
    let answer = api.answer(ANSWER_TIMEOUT).await.ok_or("no answer within a minute")?;
    let answer = check(answer, expect_status)?;
    let polled = api.first_poll().ok_or("answered without polling")?;
    Ok(ColdStart {
        init: polled.sent - started,
        first_answer: answer.at.sent - started,
        init_noticed_late: polled.noticed - polled.sent,
        answer_noticed_late: answer.at.noticed - answer.at.sent,
        init_aws_connections: tap.map(|tap| tap.opened_before(polled.sent)),
    })
}

/// What one process writes to standard output (in Lambda: its EMF
/// metrics) over a cold start and the invocations `events`, each
/// answered as its status says (`None`: an event function's result).
pub async fn standard_output(launch: &Launch, events: Vec<(Value, Option<u16>)>) -> Result<String, String> {
    let mut api = RuntimeApi::start().await.map_err(|e| e.to_string())?;
    let mut running =
        spawn_writing(launch, &api, Stdio::piped()).map_err(|e| format!("{}: {e}", launch.binary.display()))?;
    let mut stdout = running.0.stdout.take().ok_or("no standard output")?;
    // Read as it comes, so a full pipe never stalls the function.
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut text).map(|_| text)
    });
    for (i, (event, expect_status)) in events.into_iter().enumerate() {
        api.invoke(event);
        let answer = api.answer(ANSWER_TIMEOUT).await.ok_or_else(|| format!("no answer to invocation {i}"))?;
        check(answer, expect_status)?;
    }
    // A function writes its metrics before it answers: all are in the pipe.
    drop(running);
    reader.join().map_err(|_| "the reader panicked")?.map_err(|e| e.to_string())
}

/// A process's memory after its last invocation, from `/proc/PID/status`.
#[derive(Clone, Copy, Debug)]
pub struct Memory {
    /// Peak resident set (VmHWM), bytes.
    pub peak: u64,
    /// What is resident now: private (heap, stacks), mapped files (the
    /// binary's pages, SQLite's mapped database), shared (SQLite's WAL index).
    pub anon: u64,
    pub file: u64,
    pub shmem: u64,
    pub threads: u64,
}

/// Memory of one process over a cold start and `requests` more
/// invocations, each `event(i)`.
pub async fn peak_rss(
    launch: &Launch,
    requests: usize,
    expect_status: Option<u16>,
    event: impl Fn(usize) -> Value,
) -> Result<Memory, String> {
    let mut api = RuntimeApi::start().await.map_err(|e| e.to_string())?;
    let running = spawn(launch, &api).map_err(|e| format!("{}: {e}", launch.binary.display()))?;
    for i in 0..=requests {
        api.invoke(event(i));
        let answer = api.answer(ANSWER_TIMEOUT).await.ok_or_else(|| format!("no answer to invocation {i}"))?;
        check(answer, expect_status)?;
    }
    let pid = running.0.id();
    if let Some(dir) = std::env::var_os("BENCH_SMAPS_DIR") {
        // Where the resident memory is, mapping by mapping, for finding what to cut.
        let name = |p: Option<&std::ffi::OsStr>| p.map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let build = name(launch.binary.parent().and_then(|d| d.file_name()));
        let to = PathBuf::from(dir).join(format!("{build}-{}.smaps", name(launch.binary.file_name())));
        std::fs::copy(format!("/proc/{pid}/smaps"), &to).map_err(|e| format!("{}: {e}", to.display()))?;
    }
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| e.to_string())?;
    let field = |name: &str| -> Result<u64, String> {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .ok_or_else(|| format!("no {name} in /proc/PID/status"))
    };
    Ok(Memory {
        peak: field("VmHWM")? * 1024,
        anon: field("RssAnon")? * 1024,
        file: field("RssFile")? * 1024,
        shmem: field("RssShmem")? * 1024,
        threads: field("Threads")?,
    })
}
