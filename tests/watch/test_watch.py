#!/usr/bin/env python3
"""`cargo lambda watch` serves the API at its API.md paths.

Starts `cargo lambda watch` on a free loopback port over a fresh embedded data
dir (shared by every function, as with `galley serve`), drives register →
login → search → product page → checkout → upload ticket through it, replays
one file of events/ with `cargo lambda invoke`, then stops it and checks that
no process it started is left. Run by ./scripts/test (cargo-lambda from .venv
on PATH).
"""

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

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIRST_CALL_TIMEOUT = 600  # the first request to each function builds it


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(port, method, path, body=None, headers=None, timeout=FIRST_CALL_TIMEOUT):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    if body is not None:
        request.add_header("content-type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def call_raw(port, method, path, timeout=FIRST_CALL_TIMEOUT):
    """Status, headers and JSON body, for checking a problem's headers."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read() or b"null")


def expect_problem(what, got, status, code, allow=None):
    """The problem+json API.md promises, not cargo-lambda's own 404 text."""
    got_status, headers, body = got
    headers = {k.lower(): v for k, v in headers.items()}
    if got_status != status or body.get("code") != code or headers.get("content-type") != "application/problem+json":
        raise AssertionError(f"{what}: expected {status} {code} problem+json, got {got_status} {headers} {body}")
    if allow is not None and headers.get("allow") != allow:
        raise AssertionError(f"{what}: expected Allow: {allow}, got {headers.get('allow')}")
    print(f"  ok  {what}: {status} {code}")


def expect(what, got, status):
    code, body = got
    if code != status:
        raise AssertionError(f"{what}: expected {status}, got {code}: {body}")
    print(f"  ok  {what}: {code}")
    return body


def processes_with(marker: str) -> list[int]:
    """Pids whose environment holds `marker` (the run's unique data dir)."""
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            pass
    return found


def main() -> int:
    data_dir = tempfile.mkdtemp(prefix="galley-watch-")
    env = dict(os.environ, GALLEY_DATA_DIR=data_dir, RUST_LOG="warn")
    for name in ("TABLE_NAME", "UPLOAD_BUCKET", "GALLEY_SIGNING_KEY"):
        env.pop(name, None)
    galley = ROOT / "target" / "debug" / "galley"
    subprocess.run([galley, "import", ROOT / "catalog" / "demo.jsonl", "--data-dir", data_dir], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    port = free_port()
    # Its output goes to a file: an unread pipe would fill and stall it.
    log = open(pathlib.Path(data_dir) / "watch.log", "w+")
    watch = subprocess.Popen(
        ["cargo", "lambda", "watch", "--invoke-address", "127.0.0.1", "--invoke-port", str(port), "--ignore-changes"],
        cwd=ROOT, env=env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if watch.poll() is not None or time.time() > deadline:
                    raise AssertionError("cargo lambda watch did not start")
                time.sleep(0.5)

        account = {"email": "watch@example.com", "password": "a long passphrase", "name": "Watcher"}
        expect("POST /auth/register", call(port, "POST", "/auth/register", account), 201)
        tokens = expect("POST /auth/login",
                        call(port, "POST", "/auth/login", {k: account[k] for k in ("email", "password")}), 200)
        bearer = {"authorization": f"Bearer {tokens['access_token']}"}
        me = expect("GET /auth/me", call(port, "GET", "/auth/me", headers=bearer), 200)["user"]
        assert me["email"] == "watch@example.com", me
        found = expect("GET /products?q=blue%20mu", call(port, "GET", "/products?q=blue%20mu"), 200)
        assert "mug-blue-350" in [p["id"] for p in found["items"]], found
        page = expect("GET /products/{id}", call(port, "GET", "/products/mug-blue-350"), 200)
        assert page["id"] == "mug-blue-350", page
        cart = {"items": [{"product_id": "mug-blue-350", "quantity": 1}], "payment": {"token": "pm_card_visa"}}
        order = expect("POST /checkout",
                       call(port, "POST", "/checkout", cart, dict(bearer, **{"idempotency-key": "watch-0001"})), 201)
        assert order["status"] == "confirmed", order
        expect("GET /orders/{id}", call(port, "GET", f"/orders/{order['id']}", headers=bearer), 200)
        ticket = expect("POST /uploads", call(port, "POST", "/uploads",
                                              {"filename": "cat.png", "content_type": "image/png", "size": 67},
                                              bearer), 201)
        assert ticket["method"] == "PUT" and f"/uploads/{me['id']}/{ticket['id']}?" in ticket["url"], ticket
        expect("GET /uploads/{id}", call(port, "GET", f"/uploads/{ticket['id']}", headers=bearer), 200)

        # Stripe's webhook: an unsigned delivery changes nothing.
        expect_problem("POST /webhooks/stripe", call_raw(port, "POST", "/webhooks/stripe"), 400, "invalid_signature")

        # The same answers as API Gateway for what no route serves.
        expect_problem("DELETE /products", call_raw(port, "DELETE", "/products"), 405, "method_not_allowed", "GET")
        expect_problem("POST /orders", call_raw(port, "POST", "/orders"), 405, "method_not_allowed", "GET")
        expect_problem("GET /auth/login", call_raw(port, "GET", "/auth/login"), 405, "method_not_allowed", "POST")
        expect_problem("GET /nope/at/all", call_raw(port, "GET", "/nope/at/all"), 404, "not_found")

        invoked = subprocess.run(
            ["cargo", "lambda", "invoke", "search", "--invoke-address", "127.0.0.1", "--invoke-port", str(port),
             "--data-file", ROOT / "events" / "search" / "get-product.json"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=FIRST_CALL_TIMEOUT)
        if invoked.returncode != 0 or json.loads(invoked.stdout)["statusCode"] != 200:
            raise AssertionError(f"cargo lambda invoke: {invoked.stdout} {invoked.stderr}")
        print("  ok  cargo lambda invoke search --data-file events/search/get-product.json: 200")
    except Exception:
        log.seek(0)
        print("cargo lambda watch said:\n" + log.read()[-5000:], file=sys.stderr)
        raise
    finally:
        try:
            os.killpg(watch.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            watch.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(watch.pid, signal.SIGKILL)
            watch.wait()
    for _ in range(50):
        left = processes_with(data_dir)
        if not left:
            break
        time.sleep(0.2)
    if left:
        raise AssertionError(f"processes left running after stopping cargo lambda watch: {left}")
    print("  ok  cargo lambda watch and every function process stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
