#!/usr/bin/env python3
"""A chaos run: checkouts, admin stock moves and receipts on DynamoDB (moto)
through the fault-injecting proxy, then the invariants, with faults off.

    tests/chaos/chaos_run.py --rate 0.05 [--seed 1] [--buyers 24] [--orders 4] [--units 12]

Needs moto on loopback in AWS_ENDPOINT_URL (./scripts/test starts one) and
a built `galley` (target/debug/galley, or GALLEY=...). It starts
tests/chaos/fault_proxy.py in front of moto and `galley serve --aws` behind
the proxy, with a small catalog: a hot product with few units and a
plentiful one. Buyers check out at once (one fresh Idempotency-Key per
order, each retried with the same key, as a client that follows
Retry-After does, at most 8 tries); an admin moves stock meanwhile; every
answer is recorded. Then faults go off, `galley settle` runs once (the
settler and the unsent-mail sweep), and it checks:

- stock exact: start + admin moves - units sold = left, never negative;
- one charge per confirmed order in the sandbox gateway's ledger, none
  charged for any other;
- a receipt for every confirmed order (SES, as moto recorded it), and a
  second one only where SES's answer to the first was lost;
- no order left pending;
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
import json
import os
import pathlib
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
            ok = status in DOCUMENTED or (status == 503 and headers.get("retry-after"))
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--buyers", type=int, default=24)
    parser.add_argument("--orders", type=int, default=4, help="orders per buyer")
    parser.add_argument("--units", type=int, default=12, help="units of the hot product")
    parser.add_argument("--moves", type=int, default=12, help="admin stock moves")
    parser.add_argument("--complete", type=float, default=0.99, help="share of orders that must finish")
    args = parser.parse_args()
    moto = os.environ.get("AWS_ENDPOINT_URL", "")
    if not moto.startswith("http://127.0.0.1:"):
        sys.exit("needs moto on loopback in AWS_ENDPOINT_URL (./scripts/test starts one)")

    with tempfile.TemporaryDirectory(prefix="galley-chaos-") as temp:
        temp = pathlib.Path(temp)
        port_file = temp / "proxy.port"
        proxy = subprocess.Popen([sys.executable, str(ROOT / "tests" / "chaos" / "fault_proxy.py"), moto, str(port_file)])
        try:
            for _ in range(100):
                if port_file.exists() and port_file.read_text():
                    break
                time.sleep(0.05)
            proxy_url = f"http://127.0.0.1:{port_file.read_text()}"
            return run(args, temp, moto, proxy_url)
        finally:
            proxy.terminate()
            proxy.wait()


def faults(proxy_url, config):
    req = urllib.request.Request(proxy_url + "/__faults", data=json.dumps(config).encode(), method="POST")
    with urllib.request.urlopen(req) as response:
        return json.loads(response.read())


def run(args, temp, moto, proxy_url) -> int:
    table = f"galley-chaos-{uuid.uuid4().hex[:12]}"
    direct = dict(os.environ, TABLE_NAME=table, UPLOAD_BUCKET=table, AWS_ENDPOINT_URL=moto, RUST_LOG="info")
    proxied = dict(direct, AWS_ENDPOINT_URL=proxy_url)
    data_dir = temp / "data"
    galley = lambda *a, env=direct: subprocess.run([GALLEY, *a], env=env, check=True, stdout=subprocess.DEVNULL)
    galley("create-table")
    galley("create-bucket")
    boto3.client("sesv2", endpoint_url=moto).create_email_identity(EmailIdentity="galley.localhost")
    catalog = temp / "catalog.jsonl"
    start = {HOT: args.units, PLENTY: 100_000}
    catalog.write_text("".join(json.dumps({
        "id": pid, "title": pid.replace("-", " ").title(), "description": "", "category": "chaos",
        "price": {"amount": 1000, "currency": "USD"}, "stock": stock, "image_url": None}) + "\n"
        for pid, stock in start.items()))
    galley("import", str(catalog), "--aws", "--data-dir", str(data_dir))
    log_path = temp / "serve.log"
    log = open(log_path, "w")
    serve = subprocess.Popen([GALLEY, "serve", "--aws", "--port", "0", "--data-dir", str(data_dir)],
                             env=proxied, stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        line = serve.stdout.readline()
        base = "http://127.0.0.1:" + line.split("http://127.0.0.1:")[1].split()[0]
        return drive(args, base, temp, table, moto, proxy_url, data_dir, start, galley, log_path)
    finally:
        serve.terminate()
        serve.wait(timeout=30)
        log.close()


def sign_in(base, email):
    status, _, _ = request(base, "POST", "/auth/register", {"email": email, "password": PASSWORD, "name": "Chaos"})
    assert status == 201, status
    status, _, grant = request(base, "POST", "/auth/login", {"email": email, "password": PASSWORD})
    assert status == 200, (status, grant)
    return grant["access_token"]


def drive(args, base, temp, table, moto, proxy_url, data_dir, start, galley, log_path) -> int:
    admin_email = f"chaos-admin-{uuid.uuid4().hex[:6]}@example.com"
    admin = sign_in(base, admin_email)
    galley("admin", "grant", admin_email, "--aws", "--data-dir", str(data_dir))
    buyers = [sign_in(base, f"chaos-{i}-{uuid.uuid4().hex[:6]}@example.com") for i in range(args.buyers)]

    kinds = ["throttle", "capacity", "error_500", "reset_before", "reset_after", "latency"]
    faults(proxy_url, {"seed": args.seed, "rate": args.rate, "kinds": kinds, "services": ["dynamodb", "ses", "s3"]})
    answers = Answers()
    outcomes = Counter()
    moved = []
    lock = threading.Lock()
    began = time.monotonic()

    def shop(token):
        for n in range(args.orders):
            lines = [{"product_id": PLENTY, "quantity": 1 + n % 3}]
            if n % 2 == 0:
                lines.append({"product_id": HOT, "quantity": 1})
            card = "pm_card_chargeDeclined" if n == 3 else "pm_card_visa"
            final = keyed(base, answers, "POST /checkout", "POST", "/checkout",
                          {"items": lines, "payment": {"token": card}}, token)
            with lock:
                outcomes["unfinished" if final is None else final[0]] += 1

    def manage():
        for n in range(args.moves):
            delta = 5 if n % 2 == 0 else -2
            final = keyed(base, answers, "POST /admin/products/{id}/stock", "POST", f"/admin/products/{PLENTY}/stock",
                          {"delta": delta, "reason": "chaos"}, admin)
            with lock:
                if final and final[0] == 200:
                    moved.append(delta)
                outcomes["move-" + ("unfinished" if final is None else str(final[0]))] += 1

    threads = [threading.Thread(target=shop, args=(token,)) for token in buyers] + [threading.Thread(target=manage)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    injected = faults(proxy_url, {"rate": 0})

    # Faults off: the settler and the sweep once, then read the truth from moto.
    galley("settle", "--aws", "--data-dir", str(data_dir))
    time.sleep(1)
    galley("settle", "--aws", "--data-dir", str(data_dir))
    dynamo = boto3.client("dynamodb", endpoint_url=moto)
    items = []
    for page in dynamo.get_paginator("scan").paginate(TableName=table):
        items.extend(page["Items"])
    orders = [i for i in items if i["pk"]["S"].startswith("ORDERS#") and i["sk"]["S"].startswith("ORDER#")]
    by_status = Counter(o["status"]["S"] for o in orders)
    confirmed = [o for o in orders if o["status"]["S"] == "confirmed"]
    sold = Counter()
    for order in confirmed:
        for line in json.loads(order["doc"]["S"])["items"]:
            sold[line["product_id"]] += line["quantity"]
    stock = {i["pk"]["S"][len("PRODUCT#"):]: int(i["stock"]["N"]) for i in items
             if i["pk"]["S"].startswith("PRODUCT#") and i["sk"]["S"] == "PRODUCT"}
    charges = {i["pk"]["S"][len("CHARGE#"):]: i.get("state", {}).get("S") for i in items
               if i["pk"]["S"].startswith("CHARGE#") and i["sk"]["S"] == "CHARGE"}
    with urllib.request.urlopen(moto + "/galley/ses-sent") as response:
        sent = json.loads(response.read())
    receipts = Counter()
    for message in sent:
        raw = message.get("raw_data") or json.dumps(message.get("body") or "")
        for order in confirmed:
            if f"receipt-{order['id']['S']}@galley" in raw:
                receipts[order["id"]["S"]] += 1

    # Orders the settler had to settle: their key's last answer says why.
    settled = [(o["id"]["S"], o["status"]["S"], answers.keys.get(o.get("idempotency_key", {}).get("S")))
               for o in orders if json.loads(o["history"]["L"][-1]["S"])["by"] == "settler"]
    checks = {}
    expected = {
        HOT: start[HOT] - sold[HOT],
        PLENTY: start[PLENTY] + sum(moved) - sold[PLENTY],
    }
    checks["stock exact, never negative"] = all(stock[p] == expected[p] and stock[p] >= 0 for p in expected)
    confirmed_ids = {o["id"]["S"] for o in confirmed}
    charged = {o for o, state in charges.items() if state == "charged"}
    checks["one charge per confirmed order, none for others"] = charged == confirmed_ids
    # SES has no idempotency key: a send whose answer was lost (reset after
    # forwarding) cannot be told from one that failed, and is sent again
    # rather than risk losing it; the copy has the same Message-ID, which
    # mail clients fold. Only those may repeat.
    lost_sends = sum(i["count"] for i in injected["injected"]
                     if i["service"] == "ses" and i["kind"] == "reset_after")
    duplicated = [o for o in confirmed_ids if receipts[o] > 1]
    extra = sum(receipts[o] - 1 for o in duplicated)
    checks["a receipt for every confirmed order, a second only after a lost SES answer"] = (
        all(receipts[o] >= 1 for o in confirmed_ids) and extra <= lost_sends)
    checks["no order pending"] = by_status.get("pending", 0) == 0
    checks["every answer documented"] = not answers.undocumented and not any(
        s == "dropped" for (_, s) in answers.statuses)
    panics = [line for line in log_path.read_text().splitlines() if "panicked" in line]
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
        "faults_injected": sum(i["count"] for i in injected["injected"]),
        "faults": {f'{i["service"]}:{i["operation"]}:{i["kind"]}': i["count"] for i in injected["injected"]},
        "calls_forwarded": sum(f["count"] for f in injected["forwarded"]),
        "stock": stock, "expected_stock": expected, "admin_moves_applied": len(moved),
        "receipts": sum(receipts.values()), "confirmed": len(confirmed_ids), "receipts_twice": duplicated, "settled_by_settler": settled, "ses_answers_lost": lost_sends,
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
