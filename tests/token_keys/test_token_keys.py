#!/usr/bin/env python3
"""template.yaml's TokenKeys custom resource, run as Lambda runs it.

Takes the function's inline code out of template.yaml and runs its handler
with Node and the AWS SDK v3 (tests/token_keys/node_modules, installed by
scripts/venv: what the nodejs22.x runtime provides) against moto, with a
loopback server standing in for CloudFormation's response URL. Checks:

- the public keys it publishes for a secret are the ones Galley's login
  derives its private keys from (`galley public-keys`, galley-shared's
  TokenSigner), in TokenKeyIds order, the first one active;
- bad key ids and a missing secret fail the resource, saying why;
- Delete succeeds without reading anything;
- nothing it logs holds the secret.

Run by ./scripts/test after `cargo test` (which builds target/debug/galley),
with moto's environment set.
"""

import http.server
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import threading

import boto3
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "tests" / "token_keys" / "node_modules"


class TemplateLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags (!Ref, !Sub…) as plain values."""


TemplateLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def inline_code() -> str:
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=TemplateLoader)
    code = template["Resources"]["TokenKeysFunction"]["Properties"]["InlineCode"]
    # CloudFormation takes at most 4096 bytes of inline code.
    assert len(code.encode()) <= 4096, f"the inline code is {len(code.encode())} bytes"
    return code


class Responses(http.server.BaseHTTPRequestHandler):
    """CloudFormation's side: takes the PUT of the resource's outcome."""

    received = []

    def do_PUT(self):  # noqa: N802 (http.server's naming)
        length = int(self.headers["content-length"])
        Responses.received.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def invoke(code_dir, server, request_type, properties):
    Responses.received.clear()
    event = {
        "RequestType": request_type,
        "ResponseURL": f"http://127.0.0.1:{server.server_port}/response",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/galley/1",
        "RequestId": f"request-{request_type}",
        "LogicalResourceId": "TokenKeys",
        "ResourceType": "Custom::TokenKeys",
        "ResourceProperties": {"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:keys", **properties},
    }
    if request_type != "Create":
        event["PhysicalResourceId"] = "galley-token-keys"
    runner = (
        "require(process.argv[1]).handler(JSON.parse(process.argv[2]))"
        ".then(() => process.exit(0), (e) => { console.error(e); process.exit(1); })"
    )
    env = {**os.environ, "NODE_PATH": str(NODE_MODULES)}
    done = subprocess.run(
        ["node", "-e", runner, str(code_dir / "index.js"), json.dumps(event)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"the handler failed: {done.stderr}"
    assert len(Responses.received) == 1, f"one response per event, got {Responses.received}"
    response = Responses.received[0]
    for name in ("StackId", "RequestId", "LogicalResourceId"):
        assert response[name] == event[name], (name, response)
    assert response["PhysicalResourceId"] == "galley-token-keys", response
    return response, done.stdout + done.stderr


def galley_public_keys(arn, ids):
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    done = subprocess.run(
        [str(target / "debug" / "galley"), "public-keys", "--ids", ids, "--secret-arn", arn],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def main():
    assert NODE_MODULES.is_dir(), "run ./scripts/venv first: it installs the AWS SDK for Node here"
    client = boto3.client("secretsmanager", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    secret = client.get_random_password(PasswordLength=64, ExcludePunctuation=True)["RandomPassword"]
    arn = client.create_secret(Name=f"galley-token-keys-test-{os.getpid()}", SecretString=secret)["ARN"]

    server = http.server.HTTPServer(("127.0.0.1", 0), Responses)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    logs = []
    with tempfile.TemporaryDirectory() as code_dir:
        code_dir = pathlib.Path(code_dir)
        (code_dir / "index.js").write_text(inline_code())

        response, log = invoke(code_dir, server, "Create", {"SecretId": arn, "KeyIds": "k1"})
        logs.append(log)
        assert response["Status"] == "SUCCESS", response
        assert response["Data"] == {"PublicKeys": galley_public_keys(arn, "k1"), "ActiveKeyId": "k1"}, response

        # A rotation's second step: k2 signs, k1 is still accepted.
        response, log = invoke(code_dir, server, "Update", {"SecretId": arn, "KeyIds": "k2, k1"})
        logs.append(log)
        assert response["Status"] == "SUCCESS", response
        assert response["Data"]["ActiveKeyId"] == "k2", response
        assert response["Data"]["PublicKeys"] == galley_public_keys(arn, "k2,k1"), response

        for bad in ["", "k1,k1", "k 1", "k1,k2,k3,k4", "x" * 33]:
            response, log = invoke(code_dir, server, "Update", {"SecretId": arn, "KeyIds": bad})
            logs.append(log)
            assert response["Status"] == "FAILED" and "KeyIds" in response["Reason"], (bad, response)

        response, log = invoke(code_dir, server, "Create", {"SecretId": arn + "-missing", "KeyIds": "k1"})
        logs.append(log)
        assert response["Status"] == "FAILED" and "ResourceNotFound" in response["Reason"], response

        response, log = invoke(code_dir, server, "Delete", {"SecretId": arn + "-missing", "KeyIds": "k1"})
        logs.append(log)
        assert response["Status"] == "SUCCESS", response

    server.shutdown()
    assert all(secret not in log for log in logs), "the secret appeared in the function's log"
    print("TokenKeys: public keys equal galley's for k1 and k2,k1; bad ids, a missing secret and Delete as expected")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as error:
        print(f"FAIL: {error}", file=sys.stderr)
        sys.exit(1)
