//! Drives the real `galley` binary: starts `galley serve` on a free port,
//! talks HTTP/1.1 to it, stops it with SIGTERM.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

pub const GALLEY: &str = env!("CARGO_BIN_EXE_galley");

/// Which store a server runs over.
#[derive(Clone, Debug)]
pub enum Backend {
    Embedded,
    /// DynamoDB on the test command's moto, in a table of its own.
    Aws {
        table: String,
        bucket: String,
    },
}

impl Backend {
    pub fn aws() -> Self {
        let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
        assert!(
            endpoint.starts_with("http://127.0.0.1:"),
            "AWS-backed tests need moto on loopback in AWS_ENDPOINT_URL; run them with ./scripts/test"
        );
        let table = format!("galley-http-{}", ulid::Ulid::new().to_string().to_lowercase());
        let status = Command::new(GALLEY).args(["create-table"]).env("TABLE_NAME", &table).status().unwrap();
        assert!(status.success(), "galley create-table");
        let bucket = table.clone();
        let status = Command::new(GALLEY).args(["create-bucket"]).env("UPLOAD_BUCKET", &bucket).status().unwrap();
        assert!(status.success(), "galley create-bucket");
        Backend::Aws { table, bucket }
    }

    /// `galley` with this backend's store flags and environment.
    pub fn command(&self, data_dir: &std::path::Path, args: &[&str]) -> Command {
        let mut command = Command::new(GALLEY);
        command.args(args).arg("--data-dir").arg(data_dir).env_remove("GALLEY_SIGNING_KEY");
        match self {
            Backend::Embedded => {
                command.env_remove("TABLE_NAME");
            }
            Backend::Aws { table, bucket } => {
                command.arg("--aws").env("TABLE_NAME", table).env("UPLOAD_BUCKET", bucket);
            }
        }
        command
    }
}

pub struct Server {
    child: Child,
    pub port: u16,
    pub data_dir: tempfile::TempDir,
    pub backend: Backend,
}

impl Server {
    pub fn start(backend: Backend) -> Server {
        Self::start_logging(backend, "info", Stdio::null())
    }

    /// Starts over a store holding only `catalog` (JSON Lines), not the demo
    /// catalog. (moto copies a whole table for every TransactWriteItems, so
    /// checkout races run over small tables.)
    pub fn start_with_catalog(backend: Backend, catalog: &str) -> Server {
        let data_dir = tempfile::tempdir().unwrap();
        let file = data_dir.path().join("catalog.jsonl");
        std::fs::write(&file, catalog).unwrap();
        let status = backend.command(data_dir.path(), &["import", file.to_str().unwrap()]).status().unwrap();
        assert!(status.success(), "galley import");
        Self::start_in(backend, data_dir, "info", Stdio::null())
    }

    /// Starts over an existing data dir (a restored one, say).
    pub fn start_over(backend: Backend, data_dir: tempfile::TempDir) -> Server {
        Self::start_in(backend, data_dir, "info", Stdio::null())
    }

    /// Starts over an existing data dir with these environment variables set.
    pub fn start_over_with_env(backend: Backend, data_dir: tempfile::TempDir, env: &[(&str, &str)]) -> Server {
        let mut command = backend.command(data_dir.path(), &["serve", "--port", "0"]);
        command.envs(env.iter().copied());
        Self::spawn(command, backend, data_dir, "info", Stdio::null())
    }

    /// Starts with these environment variables set (a payment gateway's, say).
    pub fn start_with_env(backend: Backend, env: &[(&str, &str)]) -> Server {
        let data_dir = tempfile::tempdir().unwrap();
        let mut command = backend.command(data_dir.path(), &["serve", "--port", "0"]);
        command.envs(env.iter().copied());
        Self::spawn(command, backend, data_dir, "info", Stdio::null())
    }

    /// Starts with `RUST_LOG=level`, its log lines (stderr) sent to `logs`.
    pub fn start_logging(backend: Backend, level: &str, logs: impl Into<Stdio>) -> Server {
        Self::start_in(backend, tempfile::tempdir().unwrap(), level, logs)
    }

    fn start_in(backend: Backend, data_dir: tempfile::TempDir, level: &str, logs: impl Into<Stdio>) -> Server {
        let command = backend.command(data_dir.path(), &["serve", "--port", "0"]);
        Self::spawn(command, backend, data_dir, level, logs)
    }

    /// Starts with more `serve` flags and, when given, at most `open_files`
    /// file descriptors (RLIMIT_NOFILE) for the server process.
    pub fn start_limited(backend: Backend, flags: &[&str], open_files: Option<u64>) -> Server {
        let data_dir = tempfile::tempdir().unwrap();
        let mut command = backend.command(data_dir.path(), &["serve", "--port", "0"]);
        command.args(flags);
        if let Some(limit) = open_files {
            use std::os::unix::process::CommandExt;
            let limit = libc::rlimit { rlim_cur: limit, rlim_max: limit };
            // SAFETY: setrlimit is async-signal-safe and touches only the child.
            unsafe {
                command.pre_exec(move || {
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 {
                        Ok(())
                    } else {
                        Err(std::io::Error::last_os_error())
                    }
                });
            }
        }
        Self::spawn(command, backend, data_dir, "info", Stdio::null())
    }

    fn spawn(
        mut command: Command,
        backend: Backend,
        data_dir: tempfile::TempDir,
        level: &str,
        logs: impl Into<Stdio>,
    ) -> Server {
        let mut child = command.env("RUST_LOG", level).stdout(Stdio::piped()).stderr(logs).spawn().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let port = line
            .split("http://127.0.0.1:")
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("server did not announce its port: {line:?}"));
        Server { child, port, data_dir, backend }
    }

    pub fn get(&self, path: &str) -> Reply {
        self.request("GET", path, &[], b"")
    }

    /// A metric's value on the server's `/metrics` page (Prometheus text),
    /// summed over the series whose labels include `labels`; 0 when none.
    pub fn metric(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let page = self.get("/metrics");
        assert_eq!(page.status, 200);
        let text = String::from_utf8_lossy(&page.bytes).into_owned();
        text.lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| {
                let (series, value) = line.rsplit_once(' ')?;
                let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
                let wanted = metric == name && labels.iter().all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")));
                wanted.then(|| value.parse::<f64>().ok()).flatten()
            })
            .sum()
    }

    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        // Generous: a race of 60 requests on moto (one Python thread) takes a while.
        stream.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(body).unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).unwrap();
        Reply::parse(&raw)
    }

    /// A JSON request, with a bearer token when given.
    pub fn json(&self, method: &str, path: &str, body: &Value, bearer: Option<&str>) -> Reply {
        let auth = bearer.map(|token| format!("Bearer {token}"));
        let mut headers = vec![("Content-Type", "application/json")];
        if let Some(auth) = &auth {
            headers.push(("Authorization", auth.as_str()));
        }
        self.request(method, path, &headers, body.to_string().as_bytes())
    }

    /// `GET` with a bearer token.
    pub fn get_as(&self, path: &str, token: &str) -> Reply {
        self.request("GET", path, &[("Authorization", &format!("Bearer {token}"))], b"")
    }

    /// The signing key `galley serve` generated into its data dir.
    pub fn signing_key(&self) -> galley_shared::keys::SigningKey {
        galley_lambda::keys::load_or_create(self.data_dir.path()).unwrap()
    }

    /// Imports JSON Lines products into this server's store with `galley import`.
    pub fn import(&self, jsonl: &str) {
        let file = self.data_dir.path().join(format!("import-{}.jsonl", ulid::Ulid::new()));
        std::fs::write(&file, jsonl).unwrap();
        let status = self.backend.command(self.data_dir.path(), &["import", file.to_str().unwrap()]).status().unwrap();
        assert!(status.success(), "galley import");
    }

    /// Registers an account and logs it in; the access token.
    pub fn signed_in(&self, email: &str) -> String {
        let password = "correct horse battery";
        let registration = serde_json::json!({"email": email, "password": password, "name": "Shopper"});
        assert_eq!(self.json("POST", "/auth/register", &registration, None).status, 201);
        let login = self.json("POST", "/auth/login", &serde_json::json!({"email": email, "password": password}), None);
        assert_eq!(login.status, 200);
        login.body["access_token"].as_str().unwrap().to_owned()
    }

    /// CPU time the server process has used so far, in clock ticks.
    pub fn cpu_ticks(&self) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        // Fields after the command name (which may hold spaces) are space-separated; utime and stime are the 14th and 15th.
        let after_name = stat.rsplit_once(')').unwrap().1;
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
    }

    /// SIGTERM, then the exit status.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        self.child.wait().unwrap()
    }

    /// SIGTERM, waits for the exit, and hands back the data dir.
    pub fn stop_keeping_data(mut self) -> tempfile::TempDir {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
        std::mem::replace(&mut self.data_dir, tempfile::tempdir().unwrap())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The body as JSON; `Null` when empty or not JSON (see `bytes`).
    pub body: Value,
    pub bytes: Vec<u8>,
}

fn headers_say_json(headers: &[(String, String)]) -> bool {
    headers.iter().any(|(name, value)| name == "content-type" && value.contains("json"))
}

impl Reply {
    fn parse(raw: &[u8]) -> Reply {
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete response");
        let head = String::from_utf8_lossy(&raw[..split]);
        let mut lines = head.lines();
        let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_lowercase(), v.trim().to_owned()))
            .collect();
        let body_bytes = &raw[split + 4..];
        let is_json = headers_say_json(&headers);
        let body = if is_json { serde_json::from_slice(body_bytes).unwrap() } else { Value::Null };
        Reply { status, headers, body, bytes: body_bytes.to_vec() }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    pub fn ids(&self) -> Vec<String> {
        self.body["items"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_owned()).collect()
    }

    pub fn titles(&self) -> Vec<String> {
        self.body["items"].as_array().unwrap().iter().map(|p| p["title"].as_str().unwrap().to_owned()).collect()
    }

    /// Asserts the problem+json shape every error shares.
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{:?}", self.body);
        assert_eq!(self.code(), code);
        assert_eq!(self.header("content-type"), Some("application/problem+json"));
        assert_eq!(self.body["status"], status);
        for member in ["type", "title", "detail"] {
            assert!(self.body[member].is_string(), "missing {member}");
        }
        assert!(self.header("x-request-id").is_some_and(|id| !id.is_empty()));
    }
}

/// Which store a shared server runs over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Embedded,
    Aws,
}

impl Kind {
    pub fn backend(self) -> Backend {
        match self {
            Kind::Embedded => Backend::Embedded,
            Kind::Aws => Backend::aws(),
        }
    }
}

static SHARED: std::sync::Mutex<Vec<(Kind, &'static str, &'static Server)>> = std::sync::Mutex::new(Vec::new());

/// The binary's one server over `kind` with the demo catalog, shared by
/// every rule that needs nothing else (each works with its own accounts):
/// started on first use, stopped when the test binary exits.
pub fn shared(kind: Kind) -> &'static Server {
    shared_in(kind, "demo")
}

/// A shared server of its own for rules that add to the catalog (the back
/// office's), so rules reading the whole demo catalog never see their
/// products.
pub fn shared_in(kind: Kind, pool: &'static str) -> &'static Server {
    let mut servers = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, _, server)) = servers.iter().find(|(k, p, _)| *k == kind && *p == pool) {
        return server;
    }
    if servers.is_empty() {
        // SAFETY: registers a plain `extern "C" fn` with no arguments.
        unsafe { libc::atexit(stop_shared) };
    }
    let server: &'static Server = Box::leak(Box::new(Server::start(kind.backend())));
    servers.push((kind, pool, server));
    server
}

/// Stops the shared servers and removes their data dirs as the binary exits
/// (leaked statics are never dropped).
extern "C" fn stop_shared() {
    let Ok(servers) = SHARED.try_lock() else { return };
    for (_, _, server) in servers.iter() {
        // SAFETY: signals a child process this binary started.
        unsafe { libc::kill(server.child.id() as libc::pid_t, libc::SIGTERM) };
        let _ = std::fs::remove_dir_all(server.data_dir.path());
    }
}

/// One `#[test]` per rule and backend, each rule (`fn(&Server)`) run on the
/// binary's shared server over that backend: a rule that fails hides none
/// of the others.
#[macro_export]
macro_rules! rules_on_shared_servers {
    (pool $pool:literal: $($rule:ident),* $(,)?) => {
        mod embedded {
            $(
                #[test]
                fn $rule() {
                    super::$rule($crate::common::shared_in($crate::common::Kind::Embedded, $pool));
                }
            )*
        }
        mod dynamodb {
            $(
                #[test]
                fn $rule() {
                    super::$rule($crate::common::shared_in($crate::common::Kind::Aws, $pool));
                }
            )*
        }
    };
    ($($rule:ident),* $(,)?) => {
        $crate::rules_on_shared_servers!(pool "demo": $($rule),*);
    };
}

/// One `#[test]` per check and backend, each check (`fn(Backend)`) given
/// its own server or store over that backend.
#[macro_export]
macro_rules! on_both_backends {
    ($($check:ident),* $(,)?) => {
        mod embedded_own {
            $(
                #[test]
                fn $check() {
                    super::$check($crate::common::Backend::Embedded);
                }
            )*
        }
        mod dynamodb_own {
            $(
                #[test]
                fn $check() {
                    super::$check($crate::common::Backend::aws());
                }
            )*
        }
    };
}
