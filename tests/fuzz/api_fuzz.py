#!/usr/bin/env python3
"""Schema-driven fuzzing of the whole API with schemathesis, on `galley serve`.

Starts `galley serve` over a fresh store (the embedded one, or DynamoDB on the
test command's moto with `--aws`) with the demo catalog, signs in an admin
(who may also shop), and runs schemathesis against openapi.yaml with every
check: no 5xx, every status and body as documented, schema-valid requests
accepted and invalid ones refused. `POST /auth/logout` runs last, on its own
session: it ends the session the rest of the run is signed in with.

    tests/fuzz/api_fuzz.py [--aws] [--max-examples N] [--seed S] [--max-time SECONDS] [--phases P,Q]

Exits non-zero on any finding, or when the server logged a panic. Run by
./scripts/test with a short budget; RELIABILITY.md gives the long run.
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import urllib.request
import uuid

ROOT = pathlib.Path(__file__).resolve().parents[2]
GALLEY = os.environ.get("GALLEY", str(ROOT / "target" / "debug" / "galley"))
SCHEMATHESIS = os.environ.get("SCHEMATHESIS", str(ROOT / ".venv-fuzz" / "bin" / "schemathesis"))
PASSWORD = "correct horse battery"


def call(base: str, method: str, path: str, body=None, token=None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else {}
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else {}


class Server:
    def __init__(self, aws: bool, data_dir: pathlib.Path, log: pathlib.Path):
        self.env = dict(os.environ, RUST_LOG="info")
        self.flags = []
        if aws:
            if not os.environ.get("AWS_ENDPOINT_URL", "").startswith("http://127.0.0.1:"):
                sys.exit("--aws needs moto on loopback in AWS_ENDPOINT_URL (./scripts/test starts it)")
            name = f"galley-fuzz-{uuid.uuid4().hex[:12]}"
            self.env.update(TABLE_NAME=name, UPLOAD_BUCKET=name)
            self.flags = ["--aws"]
            self.galley("create-table")
            self.galley("create-bucket")
        else:
            self.env.pop("TABLE_NAME", None)
        self.data_dir = data_dir
        self.galley("import", str(ROOT / "catalog" / "demo.jsonl"), "--data-dir", str(data_dir), *self.flags)
        self.log = open(log, "w")
        self.process = subprocess.Popen(
            [GALLEY, "serve", "--port", "0", "--data-dir", str(data_dir), *self.flags],
            env=self.env, stdout=subprocess.PIPE, stderr=self.log, text=True)
        first = self.process.stdout.readline()
        port = first.split("http://127.0.0.1:")[1].split()[0].strip("/")
        self.base = f"http://127.0.0.1:{int(port)}"

    def galley(self, *args: str) -> None:
        subprocess.run([GALLEY, *args], env=self.env, check=True, stdout=subprocess.DEVNULL)

    def sign_in(self, email: str, admin: bool) -> str:
        status, _ = call(self.base, "POST", "/auth/register", {"email": email, "password": PASSWORD, "name": "Fuzz"})
        assert status == 201, status
        if admin:
            self.galley("admin", "grant", email, "--data-dir", str(self.data_dir), *self.flags)
        status, grant = call(self.base, "POST", "/auth/login", {"email": email, "password": PASSWORD})
        assert status == 200, (status, grant)
        return grant["access_token"]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


def schemathesis(server: Server, token: str, args: argparse.Namespace, report: pathlib.Path, phases: str,
                 *selection: str) -> int:
    command = [
        SCHEMATHESIS, "--config-file", str(ROOT / "tests" / "fuzz" / "schemathesis.toml"), "run",
        str(ROOT / "openapi.yaml"), "--url", server.base,
        "--max-examples", str(args.max_examples), "--seed", str(args.seed),
        "--no-color", "--report", "junit", "--report-junit-path", str(report),
        *selection,
    ]
    if args.max_time:
        command += ["--max-time", str(args.max_time)]
    if args.aws:
        # moto deep-copies the whole table once per action of every
        # transaction, so an admin write on a table the run has filled
        # with products and their index items can take seconds on a busy
        # CI machine; schemathesis's default 10 s is a client-side limit,
        # not part of API.md (DynamoDB itself answers in milliseconds).
        command += ["--request-timeout", "120"]
    if phases:
        command += ["--phases", phases]
    print("$", " ".join(command), flush=True)
    env = dict(os.environ, SCHEMATHESIS_TELEMETRY="false", SCHEMATHESIS_HOOKS="hooks", GALLEY_FUZZ_TOKEN=token,
               PYTHONPATH=str(ROOT / "tests" / "fuzz"))
    return subprocess.run(command, env=env).returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--aws", action="store_true")
    parser.add_argument("--max-examples", type=int, default=10)
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument("--max-time", type=int, default=0)
    parser.add_argument("--phases", default="", help="schemathesis phases, e.g. fuzzing,stateful (default: all)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="galley-fuzz-") as temp:
        temp = pathlib.Path(temp)
        log = temp / "serve.log"
        server = Server(args.aws, temp / "data", log)
        failed = 0
        try:
            token = server.sign_in(f"fuzz-{uuid.uuid4().hex[:8]}@example.com", admin=True)
            failed |= schemathesis(server, token, args, temp / "all.xml", args.phases, "--exclude-path", "/auth/logout")
            ending = server.sign_in(f"logout-{uuid.uuid4().hex[:8]}@example.com", admin=False)
            # Alone, logout has no links to follow: no stateful phase.
            alone = [p for p in (args.phases or "examples,coverage,fuzzing").split(",") if p != "stateful"]
            failed |= schemathesis(server, ending, args, temp / "logout.xml", ",".join(alone) or "fuzzing",
                                   "--include-path", "/auth/logout")
        finally:
            server.stop()
        panics = [line for line in log.read_text().splitlines() if "panicked" in line]
        if panics:
            print("the server panicked:\n" + "\n".join(panics[:5]), file=sys.stderr)
            failed = 1
        store = "DynamoDB (moto)" if args.aws else "the embedded store"
        print(f"api fuzz over {store}: {'FAILED' if failed else 'clean'}", flush=True)
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
