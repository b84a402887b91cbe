#!/usr/bin/env python3
"""A fault-injecting HTTP proxy between Galley's AWS clients and moto.

    fault_proxy.py UPSTREAM PORT_FILE

Listens on a free loopback port (written to PORT_FILE) and forwards every
request to UPSTREAM (moto's http://127.0.0.1:port), except the ones it
chooses to fail. What fails is set at run time, replayably, through
`POST /__faults` with

    {"seed": 7, "rate": 0.05, "kinds": ["throttle", "reset_after", ...],
     "services": ["dynamodb", "ses", "s3"], "latency_ms": [0, 40]}

(`{"rate": 0}` turns it off) and `GET /__faults` answers what was injected
so far, by service, operation and kind. One seeded generator draws every
decision in arrival order.

Kinds, each answered the way the real service answers it:

- `throttle`: DynamoDB `ThrottlingException`, or for a TransactWriteItems a
  `TransactionCanceledException` whose reasons are all `ThrottlingError`;
  SES `TooManyRequestsException` (429); S3 `SlowDown` (503).
- `capacity`: DynamoDB `ProvisionedThroughputExceededException`.
- `error_500`: an HTTP 500 `InternalServerError`.
- `reset_before`: the connection is closed before the request is forwarded
  (nothing applied).
- `reset_after`: the request is forwarded and applied, then the connection
  is closed without its answer (the hardest case: the caller cannot know).
- `latency`: the answer is delayed by `latency_ms` (a range).

moto ignores TransactWriteItems' `ClientRequestToken`, which DynamoDB
honours for 10 minutes (a repeat with the same token succeeds and changes
nothing), and which the AWS SDK sets on every call and keeps across its
retries. So that a retried transaction whose answer was lost meets what it
would meet in AWS, the proxy keeps each token's successful answer and gives
it to a repeat, without forwarding it: the one behaviour of the real
service it stands in for, and only for tokens the caller sent.
"""

import asyncio
import json
import random
import re
import sys
import time
from collections import Counter
from urllib.parse import urlsplit

KINDS = ["throttle", "capacity", "error_500", "reset_before", "reset_after", "latency"]


class Faults:
    def __init__(self):
        self.set({"rate": 0})
        self.injected = Counter()
        self.forwarded = Counter()
        # ClientRequestToken -> (time, answer) of committed TransactWriteItems.
        self.committed = {}

    def set(self, config: dict) -> None:
        self.rate = float(config.get("rate", 0))
        self.kinds = [k for k in config.get("kinds", KINDS) if k in KINDS]
        self.services = set(config.get("services", ["dynamodb", "ses", "s3", "secretsmanager"]))
        low, high = config.get("latency_ms", [20, 200])
        self.latency = (low / 1000, high / 1000)
        self.random = random.Random(config.get("seed", 0))

    def draw(self, service: str, operation: str) -> str | None:
        if self.rate <= 0 or service not in self.services or not self.kinds:
            return None
        if self.random.random() >= self.rate:
            return None
        kind = self.random.choice(self.kinds)
        if kind == "capacity" and service != "dynamodb":
            kind = "throttle"
        self.injected[(service, operation, kind)] += 1
        return kind

    def report(self) -> dict:
        injected = [{"service": s, "operation": o, "kind": k, "count": n} for (s, o, k), n in sorted(self.injected.items())]
        forwarded = [{"service": s, "operation": o, "count": n} for (s, o), n in sorted(self.forwarded.items())]
        return {"rate": self.rate, "kinds": self.kinds, "injected": injected, "forwarded": forwarded}


def classify(method: str, path: str, headers: dict) -> tuple[str, str]:
    target = headers.get("x-amz-target", "")
    if target.startswith("DynamoDB_"):
        return "dynamodb", target.split(".", 1)[1]
    if target.startswith("secretsmanager."):
        return "secretsmanager", target.split(".", 1)[1]
    if path.startswith("/v2/email/"):
        return "ses", "SendEmail" if "outbound-emails" in path else path
    if "x-amz-copy-source" in headers:
        return "s3", "CopyObject"
    return "s3", {"GET": "GetObject", "HEAD": "HeadObject", "PUT": "PutObject", "DELETE": "DeleteObject"}.get(method, method)


def json_error(status: int, type_: str, message: str, extra: dict | None = None) -> tuple[int, dict, bytes]:
    body = {"__type": f"com.amazonaws.dynamodb.v20120810#{type_}", "message": message}
    body.update(extra or {})
    headers = {"content-type": "application/x-amz-json-1.0", "x-amzn-errortype": type_}
    return status, headers, json.dumps(body).encode()


def fault_answer(kind: str, service: str, operation: str, body: bytes) -> tuple[int, dict, bytes]:
    if kind == "error_500":
        if service == "s3":
            return 500, {"content-type": "application/xml"}, b"<Error><Code>InternalError</Code><Message>injected</Message></Error>"
        return json_error(500, "InternalServerError", "injected")
    if service == "dynamodb":
        if kind == "capacity":
            return json_error(400, "ProvisionedThroughputExceededException", "injected")
        if operation == "TransactWriteItems":
            try:
                actions = len(json.loads(body or b"{}").get("TransactItems", []))
            except ValueError:
                actions = 1
            reasons = [{"Code": "ThrottlingError", "Message": "Throughput exceeds the current capacity."}] * max(actions, 1)
            return json_error(400, "TransactionCanceledException",
                              "Transaction cancelled, please refer cancellation reasons for specific reasons "
                              f"[{', '.join('ThrottlingError' for _ in reasons)}]", {"CancellationReasons": reasons})
        return json_error(400, "ThrottlingException", "Rate of requests exceeds the allowed throughput.")
    if service == "ses":
        body = json.dumps({"message": "Maximum sending rate exceeded."}).encode()
        return 429, {"content-type": "application/json", "x-amzn-errortype": "TooManyRequestsException"}, body
    if service == "s3":
        return 503, {"content-type": "application/xml"}, b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
    return json_error(400, "ThrottlingException", "injected")


async def read_request(reader: asyncio.StreamReader):
    line = await reader.readline()
    if not line:
        return None
    method, target, _ = line.decode("latin-1").split(" ", 2)
    headers, raw_headers = {}, []
    while True:
        header = await reader.readline()
        if header in (b"\r\n", b"\n", b""):
            break
        raw_headers.append(header)
        name, _, value = header.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            if size == 0:
                await reader.readline()
                break
            body += await reader.readexactly(size)
            await reader.readline()
        headers.pop("transfer-encoding")
        raw_headers = [h for h in raw_headers if not h.lower().startswith(b"transfer-encoding")]
        raw_headers.append(f"content-length: {len(body)}\r\n".encode())
    else:
        body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
    return method, target, headers, raw_headers, body


async def forward(upstream: tuple[str, int], method: str, target: str, raw_headers: list, body: bytes):
    reader, writer = await asyncio.open_connection(*upstream)
    head = f"{method} {target} HTTP/1.1\r\n".encode()
    kept = [h for h in raw_headers if not re.match(rb"(?i)^(connection|keep-alive):", h)]
    writer.write(head + b"".join(kept) + b"connection: close\r\n\r\n" + body)
    await writer.drain()
    raw = await reader.read()
    writer.close()
    head, _, payload = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        decoded, rest = b"", payload
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                break
            decoded, rest = decoded + rest[:size], rest[size + 2:]
        payload = decoded
        headers.pop("transfer-encoding")
    headers["content-length"] = str(len(payload))
    return status, headers, payload


def write_answer(writer, status: int, headers: dict, body: bytes, head_only: bool = False) -> None:
    headers = {k: v for k, v in headers.items() if k not in ("connection", "keep-alive")}
    headers["content-length"] = str(len(body))
    lines = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (b"" if head_only else body))


async def handle(faults: Faults, upstream, reader, writer) -> None:
    try:
        while True:
            request = await read_request(reader)
            if request is None:
                break
            method, target, headers, raw_headers, body = request
            path = urlsplit(target).path
            if path == "/__faults":
                if method == "POST":
                    faults.set(json.loads(body or b"{}"))
                write_answer(writer, 200, {"content-type": "application/json"}, json.dumps(faults.report()).encode())
                await writer.drain()
                continue
            service, operation = classify(method, path, headers)
            kind = faults.draw(service, operation)
            if kind == "reset_before":
                break
            if kind in ("throttle", "capacity", "error_500"):
                write_answer(writer, *fault_answer(kind, service, operation, body))
                await writer.drain()
                continue
            token = None
            if operation == "TransactWriteItems":
                try:
                    token = json.loads(body or b"{}").get("ClientRequestToken")
                except ValueError:
                    token = None
                kept = faults.committed.get(token)
                if kept and time.monotonic() - kept[0] < 600:
                    faults.forwarded[(service, "TransactWriteItems (token repeated)")] += 1
                    write_answer(writer, *kept[1])
                    await writer.drain()
                    continue
            faults.forwarded[(service, operation)] += 1
            answer = await forward(upstream, method, target, raw_headers, body)
            if token and answer[0] == 200:
                faults.committed[token] = (time.monotonic(), answer)
            if kind == "reset_after":
                break
            if kind == "latency":
                await asyncio.sleep(faults.random.uniform(*faults.latency))
            write_answer(writer, *answer, head_only=method == "HEAD")
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError, ValueError, IndexError):
        pass
    finally:
        try:
            writer.transport.abort()
        except Exception:
            pass


async def main() -> None:
    upstream_url, port_file = sys.argv[1], sys.argv[2]
    parts = urlsplit(upstream_url)
    upstream = (parts.hostname, parts.port)
    faults = Faults()
    server = await asyncio.start_server(lambda r, w: handle(faults, upstream, r, w), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    with open(port_file, "w") as f:
        f.write(str(port))
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
