#!/usr/bin/env python3
"""A chaos run: checkouts, admin stock moves, uploads and receipts under
injected faults, then the invariants, with faults off.

    tests/chaos/chaos_run.py --rate 0.05 [--seed 1] [--buyers 24] [--orders 4] [--units 12] [--pace 0]
    tests/chaos/chaos_run.py --embedded --rate 0.20 [--seed 3] [--orders 6] [--pace 4]

On AWS (the default) it needs moto on loopback in AWS_ENDPOINT_URL
(./scripts/test starts one) and a built `galley` (target/debug/galley, or
GALLEY=...): it starts tests/chaos/fault_proxy.py in front of moto and
`galley serve --aws` behind the proxy, so DynamoDB, SES and S3 (the
presigned PUTs too) meet throttling, 500s, latency and connections reset
before or after the call applied. With --embedded, `galley serve` runs
over the embedded store, and the faults are the store's own: another
process holding SQLite's write lock (sometimes past the 10 s busy timeout)
and a full disk (every file write refused), in episodes for about
`--rate` of the run's time.

A small catalog: a hot product with few units and a plentiful one. Buyers
check out at once (one fresh Idempotency-Key per order, each retried with
the same key, as a client that follows Retry-After does, at most 8 tries);
an admin moves stock meanwhile; two customers upload, half real images and
half text named .png; every answer is recorded. Then faults go off,
`galley settle` runs (the settler and the unsent-mail sweep), and it
checks:

- stock exact: start + admin moves - units sold = left, never negative;
- one charge per confirmed order in the sandbox gateway's ledger, none
  charged for any other;
- a receipt for every confirmed order (SES as moto recorded it, or the
  outbox folder), and a second one only where SES's answer to the first
  was lost;
- no order left pending;
- every upload whose bytes were put checked: images stored and kept, text
  rejected and deleted;
- every answer documented (201, 202, 400, 402, 409, 422, or 503 with
  Retry-After), never a 500 nor a dropped connection (a client waits 90 s:
  `galley serve` has no request deadline, and moto serialises every call,
  so a burst queues there far longer than it would in DynamoDB);
- the server's log holds no panic;
- and the work got done: the share of orders that reached a final answer.

Prints one JSON summary line (for RELIABILITY.md) and exits non-zero when an
invariant fails or fewer orders than `--complete` finished.
"""

import argparse
import itertools
import json
import os
import pathlib
import random
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter

import boto3

ROOT = pathlib.Path(__file__).resolve().parents[2]
GALLEY = os.environ.get("GALLEY", str(ROOT / "target" / "debug" / "galley"))
PASSWORD = "correct horse battery"
HOT, PLENTY = "chaos-hot", "chaos-plenty"
TRIES = 8
DOCUMENTED = {200, 201, 202, 400, 402, 409, 422}
# A real 1x1 PNG (tests/src/fixtures.rs PNG_1X1), and text as long named .png.
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000a49444154789c6300010000050001"
    "0d0a2db40000000049454e44ae426082")
S3_ROUTES = {"PUT upload (S3)"}
BUSY_PAST_TIMEOUT = 11.0  # seconds; galley's SQLite busy timeout is 10
TEXT_AS_PNG = "plain text, not an image, though its name ends in .png".ljust(67).encode()


def request(base, method, path, body=None, token=None, key=None, timeout=90):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    if key:
        req.add_header("idempotency-key", key)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            raw = response.read()
            return response.status, lower(response.headers), json.loads(raw) if raw else {}
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {"raw": raw[:200].decode("latin-1")}
        return error.code, lower(error.headers), body


def lower(headers) -> dict:
    return {name.lower(): value for name, value in headers.items()}


class Answers:
    """Every answer the clients got, and what was undocumented."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses = Counter()
        self.undocumented = []
        self.seconds = {}
        self.keys = {}

    def record(self, route, status, headers, body, seconds):
        with self.lock:
            self.statuses[(route, status)] += 1
            self.seconds.setdefault(route, []).append(seconds)
            # S3's own answers to a presigned PUT (faults injected) are not Galley's.
            ok = route in S3_ROUTES or status in DOCUMENTED or (status == 503 and headers.get("retry-after"))
            if not ok:
                self.undocumented.append((route, status, body))


def keyed(base, answers, route, method, path, body, token):
    """One request under one key, retried as a careful client does: on 503,
    409 request_in_progress and dropped connections, after Retry-After
    (capped at 2 s), at most TRIES times. The final answer, or None."""
    key = f"chaos-{uuid.uuid4().hex}"
    answers.keys[key] = None
    for attempt in range(TRIES):
        began = time.monotonic()
        try:
            status, headers, answer = request(base, method, path, body, token, key)
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            answers.record(route, "dropped", {}, f"{error} after {time.monotonic() - began:.1f} s",
                           time.monotonic() - began)
            time.sleep(0.2 * (attempt + 1))
            continue
        answers.record(route, status, headers, answer, time.monotonic() - began)
        retry = status == 503 or (status == 409 and answer.get("code") == "request_in_progress")
        answers.keys[key] = (status, answer.get("code"))
        if not retry:
            return status, answer
        time.sleep(min(float(headers.get("retry-after", "1")), 2.0))
    return None


def put_bytes(answers, ticket, body) -> bool:
    """The upload's PUT to its presigned URL (through the proxy: S3 faults
    too), retried as an S3 client does: on 5xx and dropped connections, at
    most TRIES times. A PUT is idempotent, so a lost answer costs nothing."""
    for attempt in range(TRIES):
        req = urllib.request.Request(ticket["url"], data=body, method=ticket["method"], headers=ticket["headers"])
        began = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=90) as response:
                answers.record("PUT upload (S3)", response.status, {}, {}, time.monotonic() - began)
                return True
        except urllib.error.HTTPError as error:
            answers.record("PUT upload (S3)", error.code, {}, {}, time.monotonic() - began)
            if error.code < 500:
                return False
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            answers.record("PUT upload (S3)", "dropped", {}, str(error), time.monotonic() - began)
        time.sleep(0.2 * (attempt + 1))
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--buyers", type=int, default=24)
    parser.add_argument("--orders", type=int, default=4, help="orders per buyer")
    parser.add_argument("--units", type=int, default=12, help="units of the hot product")
    parser.add_argument("--moves", type=int, default=12, help="admin stock moves")
    parser.add_argument("--uploads", type=int, default=12, help="uploads, half of them images, half text named .png")
    parser.add_argument("--complete", type=float, default=0.99, help="share of orders that must finish")
    parser.add_argument("--pace", type=float, default=0.0,
                        help="mean think time before each client's request, seconds (exponential)")
    parser.add_argument("--embedded", action="store_true",
                        help="the embedded store, with its own faults (a busy lock, a full disk), instead of AWS")
    args = parser.parse_args()
    start = {HOT: args.units, PLENTY: 100_000}
    with tempfile.TemporaryDirectory(prefix="galley-chaos-") as temp:
        temp = pathlib.Path(temp)
        catalog = temp / "catalog.jsonl"
        catalog.write_text("".join(json.dumps({
            "id": pid, "title": pid.replace("-", " ").title(), "description": "", "category": "chaos",
            "price": {"amount": 1000, "currency": "USD"}, "stock": stock, "image_url": None}) + "\n"
            for pid, stock in start.items()))
        if args.embedded:
            backend = Embedded(temp, args)
        else:
            moto = os.environ.get("AWS_ENDPOINT_URL", "")
            if not moto.startswith("http://127.0.0.1:"):
                sys.exit("needs moto on loopback in AWS_ENDPOINT_URL (./scripts/test starts one)")
            backend = Aws(temp, args, moto)
        try:
            base = backend.start(catalog)
            return drive(args, base, backend, start)
        finally:
            backend.stop()


def galley_run(*args, env):
    subprocess.run([GALLEY, *args], env=env, check=True, stdout=subprocess.DEVNULL)


def serve_url(serve) -> str:
    line = serve.stdout.readline()
    return "http://127.0.0.1:" + line.split("http://127.0.0.1:")[1].split()[0]


class Aws:
    """DynamoDB, SES and S3 on moto, behind the fault proxy."""

    def __init__(self, temp, args, moto):
        self.temp, self.args, self.moto = temp, args, moto
        self.table = f"galley-chaos-{uuid.uuid4().hex[:12]}"
        self.direct = dict(os.environ, TABLE_NAME=self.table, UPLOAD_BUCKET=self.table, AWS_ENDPOINT_URL=moto,
                           RUST_LOG="info")
        self.data_dir = temp / "data"
        self.log_path = temp / "serve.log"
        self.proxy = self.serve = None

    def start(self, catalog) -> str:
        port_file = self.temp / "proxy.port"
        self.proxy = subprocess.Popen([sys.executable, str(ROOT / "tests" / "chaos" / "fault_proxy.py"), self.moto,
                                       str(port_file)])
        for _ in range(100):
            if port_file.exists() and port_file.read_text():
                break
            time.sleep(0.05)
        self.proxy_url = f"http://127.0.0.1:{port_file.read_text()}"
        galley_run("create-table", env=self.direct)
        galley_run("create-bucket", env=self.direct)
        boto3.client("sesv2", endpoint_url=self.moto).create_email_identity(EmailIdentity="galley.localhost")
        galley_run("import", str(catalog), "--aws", "--data-dir", str(self.data_dir), env=self.direct)
        self.serve = subprocess.Popen([GALLEY, "serve", "--aws", "--port", "0", "--data-dir", str(self.data_dir)],
                                      env=dict(self.direct, AWS_ENDPOINT_URL=self.proxy_url), stdout=subprocess.PIPE,
                                      stderr=open(self.log_path, "w"), text=True)
        return serve_url(self.serve)

    def stop(self):
        for process in (self.serve, self.proxy):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)

    def grant_admin(self, email):
        galley_run("admin", "grant", email, "--aws", "--data-dir", str(self.data_dir), env=self.direct)

    def faults_on(self):
        kinds = ["throttle", "capacity", "error_500", "reset_before", "reset_after", "latency"]
        self._faults({"seed": self.args.seed, "rate": self.args.rate, "kinds": kinds,
                      "services": ["dynamodb", "ses", "s3"]})

    def faults_off(self) -> dict:
        injected = self._faults({"rate": 0})
        return {"injected": sum(i["count"] for i in injected["injected"]),
                "by_kind": {f'{i["service"]}:{i["operation"]}:{i["kind"]}': i["count"] for i in injected["injected"]},
                "calls_forwarded": sum(f["count"] for f in injected["forwarded"]),
                # SES has no idempotency key: a send whose answer was lost
                # (reset after forwarding) cannot be told from one that
                # failed, and is sent again rather than risk losing it; the
                # copy has the same Message-ID, which mail clients fold.
                "receipts_may_repeat": sum(i["count"] for i in injected["injected"]
                                           if i["service"] == "ses" and i["kind"] == "reset_after")}

    def _faults(self, config):
        req = urllib.request.Request(self.proxy_url + "/__faults", data=json.dumps(config).encode(), method="POST")
        with urllib.request.urlopen(req) as response:
            return json.loads(response.read())

    def settle(self):
        galley_run("settle", "--aws", "--data-dir", str(self.data_dir), env=self.direct)

    def truth(self):
        """Orders (id, status, items, settled by the settler, key), stock,
        charges' states and receipts per order, read from moto itself."""
        dynamo = boto3.client("dynamodb", endpoint_url=self.moto)
        items = []
        for page in dynamo.get_paginator("scan").paginate(TableName=self.table):
            items.extend(page["Items"])
        orders = [{"id": i["id"]["S"], "status": i["status"]["S"], "items": json.loads(i["doc"]["S"])["items"],
                   "by_settler": json.loads(i["history"]["L"][-1]["S"])["by"] == "settler",
                   "key": i.get("idempotency_key", {}).get("S")}
                  for i in items if i["pk"]["S"].startswith("ORDERS#") and i["sk"]["S"].startswith("ORDER#")]
        stock = {i["pk"]["S"][len("PRODUCT#"):]: int(i["stock"]["N"]) for i in items
                 if i["pk"]["S"].startswith("PRODUCT#") and i["sk"]["S"] == "PRODUCT"}
        charges = {i["pk"]["S"][len("CHARGE#"):]: i.get("state", {}).get("S") for i in items
                   if i["pk"]["S"].startswith("CHARGE#") and i["sk"]["S"] == "CHARGE"}
        with urllib.request.urlopen(self.moto + "/galley/ses-sent") as response:
            sent = json.loads(response.read())
        raws = [message.get("raw_data") or json.dumps(message.get("body") or "") for message in sent]
        receipts = Counter({o["id"]: sum(f"receipt-{o['id']}@galley" in raw for raw in raws) for o in orders})
        return orders, stock, charges, receipts

    def object_kept(self, owner, upload_id) -> bool:
        s3 = boto3.client("s3", endpoint_url=self.moto)
        try:
            s3.head_object(Bucket=self.table, Key=f"uploads/{owner}/{upload_id}")
            return True
        except s3.exceptions.ClientError:
            return False


class Embedded:
    """The embedded store, with the faults of its own that make sense on one
    box: another process holding SQLite's write lock (a backup, a second
    galley, a sqlite3 shell left in a transaction), sometimes past the busy
    timeout; and a full disk, played by the file-size limit (RLIMIT_FSIZE 0:
    every write to any file fails, as on a disk with no block left; SIGXFSZ
    ignored, so a write fails with EFBIG instead of killing the process).
    Episodes of one or the other, at random (seeded), for about `rate` of
    the run's time."""

    def __init__(self, temp, args):
        self.temp, self.args = temp, args
        self.data_dir = temp / "data"
        self.env = {k: v for k, v in os.environ.items() if k not in ("TABLE_NAME", "UPLOAD_BUCKET")}
        self.env["RUST_LOG"] = "info"
        self.log_path = temp / "serve.log"
        self.serve = None
        self.stopping = threading.Event()
        self.episodes = Counter()
        self.fault_seconds = 0.0

    def start(self, catalog) -> str:
        galley_run("import", str(catalog), "--data-dir", str(self.data_dir), env=self.env)
        self.serve = subprocess.Popen(
            [GALLEY, "serve", "--port", "0", "--data-dir", str(self.data_dir)], env=self.env, stdout=subprocess.PIPE,
            stderr=open(self.log_path, "w"), text=True,
            preexec_fn=lambda: signal.signal(signal.SIGXFSZ, signal.SIG_IGN))
        return serve_url(self.serve)

    def stop(self):
        self.stopping.set()
        if self.serve is not None:
            self.serve.terminate()
            self.serve.wait(timeout=30)

    def grant_admin(self, email):
        galley_run("admin", "grant", email, "--data-dir", str(self.data_dir), env=self.env)

    def faults_on(self):
        self.stopping.clear()
        self.thread = threading.Thread(target=self._episodes, daemon=True)
        self.began = time.monotonic()
        self.thread.start()

    def _episodes(self):
        rng = random.Random(self.args.seed)
        kinds = ["busy lock", "full disk"]
        rng.shuffle(kinds)
        gap = rng.uniform(0.5, 2.0)  # the first soon, so that a short run meets one
        for n in itertools.count():
            # Kinds in turn; a lock sometimes held past the busy timeout
            # (10 s), so that writes fail (503) instead of only waiting.
            kind = kinds[n % 2]
            length = BUSY_PAST_TIMEOUT if kind == "busy lock" and rng.random() < 0.3 else rng.uniform(0.5, 3.0)
            if self.stopping.wait(gap):
                return
            self.episodes[kind] += 1
            began = time.monotonic()
            if kind == "busy lock":
                holder = sqlite3.connect(self.data_dir / "galley.db", timeout=30, isolation_level=None)
                holder.execute("BEGIN IMMEDIATE")
                self.stopping.wait(length)
                holder.execute("ROLLBACK")
                holder.close()
            else:
                resource.prlimit(self.serve.pid, resource.RLIMIT_FSIZE, (0, resource.RLIM_INFINITY))
                self.stopping.wait(length)
                resource.prlimit(self.serve.pid, resource.RLIMIT_FSIZE,
                                 (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
            self.fault_seconds += time.monotonic() - began
            # Fault-free gaps long enough that faults take `rate` of the time.
            gap = rng.expovariate(self.args.rate / ((1 - self.args.rate) * length))

    def faults_off(self) -> dict:
        self.stopping.set()
        self.thread.join()
        seconds = time.monotonic() - self.began
        return {"injected": sum(self.episodes.values()), "by_kind": dict(self.episodes),
                "fault_seconds": round(self.fault_seconds, 1),
                "share_of_time": round(self.fault_seconds / seconds, 3) if seconds else 0,
                # A receipt's file is named by its Message-ID: a resend
                # replaces it, so none may repeat.
                "receipts_may_repeat": 0}

    def settle(self):
        galley_run("settle", "--data-dir", str(self.data_dir), env=self.env)

    def truth(self):
        db = sqlite3.connect(f"file:{self.data_dir / 'galley.db'}?mode=ro", uri=True)
        orders = []
        for order_id, status, doc, history in db.execute("SELECT id, status, doc, history FROM orders"):
            doc = json.loads(doc)
            orders.append({"id": order_id, "status": status, "items": doc["items"],
                           "by_settler": json.loads(history)[-1]["by"] == "settler",
                           "key": doc.get("idempotency_key")})
        stock = dict(db.execute("SELECT id, stock FROM products"))
        charges = dict(db.execute("SELECT order_id, state FROM charges"))
        db.close()
        outbox = self.data_dir / "outbox"
        names = [p.name for p in outbox.iterdir() if not p.name.startswith(".")] if outbox.exists() else []
        receipts = Counter({o["id"]: sum(name.startswith(f"receipt-{o['id']}") for name in names) for o in orders})
        return orders, stock, charges, receipts

    def object_kept(self, owner, upload_id) -> bool:
        return (self.data_dir / "blobs" / "uploads" / owner / upload_id).is_file()


def sign_in(base, email):
    status, _, _ = request(base, "POST", "/auth/register", {"email": email, "password": PASSWORD, "name": "Chaos"})
    assert status == 201, status
    status, _, grant = request(base, "POST", "/auth/login", {"email": email, "password": PASSWORD})
    assert status == 200, (status, grant)
    return grant["access_token"]


def drive(args, base, backend, start) -> int:
    admin_email = f"chaos-admin-{uuid.uuid4().hex[:6]}@example.com"
    admin = sign_in(base, admin_email)
    backend.grant_admin(admin_email)
    buyers = [sign_in(base, f"chaos-{i}-{uuid.uuid4().hex[:6]}@example.com") for i in range(args.buyers)]

    backend.faults_on()
    answers = Answers()
    outcomes = Counter()
    moved = []
    lock = threading.Lock()
    began = time.monotonic()

    def think(rng):
        if args.pace > 0:
            time.sleep(rng.expovariate(1 / args.pace))

    def shop(token, rng):
        for n in range(args.orders):
            think(rng)
            lines = [{"product_id": PLENTY, "quantity": 1 + n % 3}]
            if n % 2 == 0:
                lines.append({"product_id": HOT, "quantity": 1})
            card = "pm_card_chargeDeclined" if n == 3 else "pm_card_visa"
            final = keyed(base, answers, "POST /checkout", "POST", "/checkout",
                          {"items": lines, "payment": {"token": card}}, token)
            with lock:
                outcomes["unfinished" if final is None else final[0]] += 1

    def manage(rng):
        for n in range(args.moves):
            think(rng)
            delta = 5 if n % 2 == 0 else -2
            final = keyed(base, answers, "POST /admin/products/{id}/stock", "POST", f"/admin/products/{PLENTY}/stock",
                          {"delta": delta, "reason": "chaos"}, admin)
            with lock:
                if final and final[0] == 200:
                    moved.append(delta)
                outcomes["move-" + ("unfinished" if final is None else str(final[0]))] += 1

    uploads = []  # (token, owner, upload id, a real image?, bytes put?)

    def upload(token, count, rng):
        _, _, me = request(base, "GET", "/auth/me", token=token)
        for n in range(count):
            think(rng)
            real = n % 2 == 0
            body = PNG_1X1 if real else TEXT_AS_PNG
            final = keyed(base, answers, "POST /uploads", "POST", "/uploads",
                          {"filename": f"chaos-{n}.png", "content_type": "image/png", "size": len(body)}, token)
            if final is None or final[0] != 201:
                with lock:
                    outcomes["upload-" + ("unfinished" if final is None else str(final[0]))] += 1
                continue
            ticket = final[1]
            put = put_bytes(answers, ticket, body)
            with lock:
                uploads.append((token, me["user"]["id"], ticket["id"], real, put))
                outcomes["upload-put" if put else "upload-put-unfinished"] += 1

    rngs = [random.Random(args.seed * 1000 + n) for n in range(len(buyers) + 3)]
    threads = [threading.Thread(target=shop, args=(token, rngs[n])) for n, token in enumerate(buyers)]
    threads += [threading.Thread(target=manage, args=(rngs[-3],))]
    threads += [threading.Thread(target=upload, args=(token, args.uploads // 2, rngs[-1 - n]))
                for n, token in enumerate(buyers[:2])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    injected = backend.faults_off()

    # Faults off: the settler and the sweep once, then read the truth from
    # the store itself.
    backend.settle()
    time.sleep(1)
    backend.settle()
    orders, stock, charges, receipts = backend.truth()
    by_status = Counter(o["status"] for o in orders)
    confirmed = [o for o in orders if o["status"] == "confirmed"]
    sold = Counter()
    for order in confirmed:
        for line in order["items"]:
            sold[line["product_id"]] += line["quantity"]

    # Uploads: with faults off, each one's check is done within a few rounds
    # of the server's arrival watch (every 0.5 s); then status and object.
    upload_ends = []
    deadline = time.monotonic() + 30
    for token, owner, upload_id, real, put in uploads:
        while True:
            _, _, view = request(base, "GET", f"/uploads/{upload_id}", token=token)
            if view["status"] != "pending" or not put or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        upload_ends.append((view["status"], real, put, backend.object_kept(owner, upload_id)))
    # Orders the settler had to settle: their key's last answer says why.
    settled = [(o["id"], o["status"], answers.keys.get(o["key"])) for o in orders if o["by_settler"]]
    checks = {}
    expected = {
        HOT: start[HOT] - sold[HOT],
        PLENTY: start[PLENTY] + sum(moved) - sold[PLENTY],
    }
    checks["stock exact, never negative"] = all(stock[p] == expected[p] and stock[p] >= 0 for p in expected)
    confirmed_ids = {o["id"] for o in confirmed}
    charged = {o for o, state in charges.items() if state == "charged"}
    checks["one charge per confirmed order, none for others"] = charged == confirmed_ids
    lost_sends = injected["receipts_may_repeat"]
    duplicated = [o for o in confirmed_ids if receipts[o] > 1]
    extra = sum(receipts[o] - 1 for o in duplicated)
    checks["a receipt for every confirmed order, a second only after a lost answer"] = (
        all(receipts[o] >= 1 for o in confirmed_ids) and extra <= lost_sends)
    checks["no order pending"] = by_status.get("pending", 0) == 0
    # Bytes put: an image stored and kept, text named .png rejected and
    # deleted; bytes never put (8 tries failed): still pending, nothing kept.
    checks["every upload put was checked: images stored, text rejected and deleted"] = all(
        (status, kept) == (("stored", True) if real else ("rejected", False)) if put else (status, kept) == ("pending", False)
        for status, real, put, kept in upload_ends)
    checks["every answer documented"] = not answers.undocumented and not any(
        s == "dropped" for (r, s) in answers.statuses if r not in S3_ROUTES)
    panics = [line for line in backend.log_path.read_text().splitlines() if "panicked" in line]
    checks["no panic in the log"] = not panics
    asked = args.buyers * args.orders
    finished = asked - outcomes["unfinished"]
    completion = finished / asked
    checks[f"at least {args.complete:.0%} of orders finished"] = completion >= args.complete

    summary = {
        "rate": args.rate, "seed": args.seed, "seconds": round(elapsed, 1),
        "orders_asked": asked, "orders_finished": finished, "completion": round(completion, 4),
        "outcomes": {str(k): v for k, v in sorted(outcomes.items(), key=str)},
        "orders_by_status": dict(by_status),
        "answers": {f"{r} {s}": n for (r, s), n in sorted(answers.statuses.items(), key=str)},
        "latency_ms": {route: {"p50": round(1000 * sorted(t)[len(t) // 2]), "p99": round(1000 * sorted(t)[int(len(t) * 0.99)]),
                               "max": round(1000 * max(t))} for route, t in answers.seconds.items()},
        "store": "embedded" if args.embedded else "dynamodb",
        "faults_injected": injected["injected"],
        "faults": injected["by_kind"],
        "calls_forwarded": injected.get("calls_forwarded"),
        "fault_share_of_time": injected.get("share_of_time"),
        "uploads": dict(Counter(f"{'image' if real else 'text'} {status}{'' if put else ' (bytes never put)'}"
                                for status, real, put, _ in upload_ends)),
        "stock": stock, "expected_stock": expected, "admin_moves_applied": len(moved),
        "receipts": sum(receipts[o] for o in confirmed_ids), "confirmed": len(confirmed_ids), "receipts_twice": duplicated, "settled_by_settler": settled, "ses_answers_lost": lost_sends,
        "checks": checks,
    }
    print(json.dumps(summary), flush=True)
    for name, ok in checks.items():
        print(f"  {'ok  ' if ok else 'FAIL'} {name}", flush=True)
    if answers.undocumented:
        print("  undocumented answers:", answers.undocumented[:5], flush=True)
    if panics:
        print("  panics:", panics[:3], flush=True)
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
