#!/usr/bin/env python3
"""The surge run: a shop's traffic at a base rate, then ten times it, then
the base again, against `galley serve` (tests/load/locustfile.py says what
the traffic is).

    tests/load/surge.py [--base 50] [--phase-seconds 60] [--out surge.json] [--watch]

Starts `galley serve` (target/release/galley if built, else target/debug;
GALLEY=... to choose) over a fresh embedded store with the demo catalog and
a plentiful product to buy, signs up customers, runs locust (in
./.venv-load, from scripts/requirements-load.txt) headless with the
three-phase shape, and prints, per phase and route, the requests, the
failures (dropped connections and 5xx: must be none), the 4xx, p50 and
p99, and the surge's p99 over the base's.
"""

import argparse
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "watch"))
from test_watch import processes_with  # noqa: E402  the watcher's own processes, found by their data dir
LOCUST = ROOT / ".venv-load" / "bin" / "locust"
PASSWORD = "correct horse battery"


def galley_binary() -> str:
    if os.environ.get("GALLEY"):
        return os.environ["GALLEY"]
    release = ROOT / "target" / "release" / "galley"
    return str(release if release.exists() else ROOT / "target" / "debug" / "galley")


def post(base, path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req) as response:
        return json.loads(response.read())


def ticks(pid: int) -> int:
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def ticks_of(pids) -> int:
    total = 0
    for pid in pids:
        try:
            total += ticks(pid)
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def cpu_by_phase(sources: dict, phase_seconds: int, waited) -> dict:
    """The cores each side used in each phase (`sources`: name -> the pids
    now serving it), sampled at the phase boundaries while `waited` runs (2
    cores here: the load generator and the server share them)."""
    hertz = os.sysconf("SC_CLK_TCK")
    began = time.monotonic()
    samples = [(0.0, {name: ticks_of(pids()) for name, pids in sources.items()})]
    for boundary in (1, 2, 3):
        while waited.poll() is None and time.monotonic() - began < boundary * phase_seconds:
            time.sleep(0.2)
        samples.append((time.monotonic() - began, {name: ticks_of(pids()) for name, pids in sources.items()}))
    waited.wait()
    cpu = {}
    for phase, (start, end) in zip(["base", "surge", "after"], zip(samples, samples[1:])):
        seconds = end[0] - start[0]
        cpu[phase] = {name: round((end[1][name] - start[1][name]) / hertz / seconds, 2) for name in sources}
    return cpu


def start_serve(galley, data, env, temp):
    """`galley serve` on a free port: its process, URL, and the pids serving."""
    serve = subprocess.Popen([galley, "serve", "--port", "0", "--data-dir", str(data), "--max-connections", "1024"],
                             env=dict(env, RUST_LOG="warn"), stdout=subprocess.PIPE,
                             stderr=open(temp / "serve.log", "w"), text=True, start_new_session=True)
    base = "http://127.0.0.1:" + serve.stdout.readline().split("http://127.0.0.1:")[1].split()[0]
    return serve, base, lambda: [serve.pid]


def start_watch(_galley, data, env, temp):
    """`cargo lambda watch` over the same data dir: every function as the
    emulator runs it (a debug build each, one invocation at a time per
    function), warmed so that no build falls inside the phases."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    watch = subprocess.Popen(
        ["cargo", "lambda", "watch", "--invoke-address", "127.0.0.1", "--invoke-port", str(port), "--ignore-changes"],
        cwd=ROOT, env=dict(env, GALLEY_DATA_DIR=str(data), RUST_LOG="warn"), start_new_session=True,
        stdout=open(temp / "serve.log", "w"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 900
    for path in ["/products", "/orders", "/auth/me"]:  # search, checkout, login: the first call builds each
        while True:
            try:
                urllib.request.urlopen(base + path, timeout=600).read()
                break
            except urllib.error.HTTPError:
                break  # an answer (401 without a token) is a running function
            except OSError:
                if watch.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"cargo lambda watch did not answer {path}; see {temp / 'serve.log'}")
                time.sleep(0.5)
    return watch, base, lambda: processes_with(str(data))


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", type=int, default=50)
    parser.add_argument("--phase-seconds", type=int, default=60)
    parser.add_argument("--out", default="")
    parser.add_argument("--watch", action="store_true",
                        help="drive `cargo lambda watch` (cargo-lambda on PATH) instead of galley serve")
    args = parser.parse_args()
    galley = galley_binary()
    with tempfile.TemporaryDirectory(prefix="galley-surge-") as temp:
        temp = pathlib.Path(temp)
        data = temp / "data"
        catalog = temp / "catalog.jsonl"
        catalog.write_text((ROOT / "catalog" / "demo.jsonl").read_text() + json.dumps({
            "id": "surge-plenty", "title": "Surge Teapot", "description": "", "category": "kitchen",
            "price": {"amount": 1000, "currency": "USD"}, "stock": 1_000_000, "image_url": None}) + "\n")
        env = {k: v for k, v in os.environ.items() if k != "TABLE_NAME"}
        subprocess.run([galley, "import", str(catalog), "--data-dir", str(data)], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        serve, base, served_by = (start_watch if args.watch else start_serve)(galley, data, env, temp)
        try:
            tokens = []
            for i in range(20):
                email = f"surge-{i}-{uuid.uuid4().hex[:6]}@example.com"
                post(base, "/auth/register", {"email": email, "password": PASSWORD, "name": "Surge"})
                tokens.append(post(base, "/auth/login", {"email": email, "password": PASSWORD})["access_token"])
            logins = []
            for i in range(60):
                email = f"surge-login-{i}-{uuid.uuid4().hex[:6]}@example.com"
                post(base, "/auth/register", {"email": email, "password": PASSWORD, "name": "Surge"})
                logins.append([email, PASSWORD])
            records_path = temp / "records.json"
            run_env = dict(env, GALLEY_SURGE_TOKENS=json.dumps(tokens), GALLEY_SURGE_LOGINS=json.dumps(logins),
                           GALLEY_SURGE_BASE=str(args.base), GALLEY_SURGE_PHASE_SECONDS=str(args.phase_seconds),
                           GALLEY_SURGE_RECORDS=str(records_path))
            locust = subprocess.Popen([str(LOCUST), "-f", str(ROOT / "tests" / "load" / "locustfile.py"), "--headless",
                                       "--host", base, "--only-summary", "--loglevel", "WARNING"], env=run_env)
            cpu = cpu_by_phase({"galley": served_by, "locust": lambda: [locust.pid]}, args.phase_seconds, locust)
            records = json.loads(records_path.read_text())
        finally:
            os.killpg(serve.pid, signal.SIGTERM)
            serve.wait(timeout=30)
        panics = [l for l in (temp / "serve.log").read_text().splitlines() if "panicked" in l]

    table = {}
    if args.out:
        pathlib.Path(args.out).with_suffix(".records.json").write_text(json.dumps(records))
    for phase, route, ms, status, exception, _second in records:
        row = table.setdefault((phase, route), {"times": [], "failures": 0, "client_errors": 0})
        row["times"].append(ms)
        if status == 0 or status >= 500:
            row["failures"] += 1
        elif status >= 400:
            row["client_errors"] += 1
    summary = {"galley": "cargo lambda watch" if args.watch else galley, "base_rps": args.base, "phase_seconds": args.phase_seconds, "rows": [],
               "panics": len(panics), "cpu_cores": cpu}
    print("CPU, in cores, per phase:", json.dumps(cpu))
    print(f"{'phase':6} {'route':28} {'requests':>8} {'rps':>6} {'failed':>6} {'4xx':>5} {'p50 ms':>7} {'p99 ms':>7}")
    for phase in ["base", "surge", "after"]:
        times_all = []
        for (p, route), row in sorted(table.items()):
            if p != phase:
                continue
            times_all += row["times"]
            line = {"phase": phase, "route": route, "requests": len(row["times"]),
                    "rps": round(len(row["times"]) / args.phase_seconds, 1), "failures": row["failures"],
                    "client_errors": row["client_errors"], "p50_ms": round(percentile(row["times"], 0.5), 1),
                    "p99_ms": round(percentile(row["times"], 0.99), 1)}
            summary["rows"].append(line)
            print(f"{phase:6} {route:28} {line['requests']:>8} {line['rps']:>6} {line['failures']:>6} "
                  f"{line['client_errors']:>5} {line['p50_ms']:>7} {line['p99_ms']:>7}")
        summary[f"{phase}_p99_ms"] = round(percentile(times_all, 0.99), 1)
        summary[f"{phase}_p50_ms"] = round(percentile(times_all, 0.5), 1)
        summary[f"{phase}_requests"] = len(times_all)
    ratio = summary["surge_p99_ms"] / summary["base_p99_ms"] if summary["base_p99_ms"] else float("inf")
    summary["p99_ratio_surge_over_base"] = round(ratio, 2)
    failures = sum(r["failures"] for r in summary["rows"])
    print(f"all: base p99 {summary['base_p99_ms']} ms, surge p99 {summary['surge_p99_ms']} ms "
          f"(x{ratio:.2f}), failures {failures}, panics {len(panics)}")
    if args.out:
        pathlib.Path(args.out).write_text(json.dumps(summary, indent=1))
    return 0 if failures == 0 and not panics and ratio <= 3 else 1


if __name__ == "__main__":
    sys.exit(main())
