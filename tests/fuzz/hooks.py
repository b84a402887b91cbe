"""schemathesis hooks for tests/fuzz/api_fuzz.py (SCHEMATHESIS_HOOKS=hooks).

A real client sends a fresh Idempotency-Key with each new request; the
generator would reuse a few valid keys with different bodies, which API.md
answers 422 `idempotency_key_reused`, rightly. A valid key is made unique
per call; an invalid or missing one is left as generated, so the negative
cases stay negative.
"""

import re
import uuid

import schemathesis

VALID_KEY = re.compile(r'^("?)[A-Za-z0-9_-]{8,255}\1$')


@schemathesis.hook
def before_call(ctx, case, kwargs):
    headers = case.headers or {}
    fresh = {
        name: f"fuzz-{uuid.uuid4().hex}"
        for name, value in headers.items()
        if name.lower() == "idempotency-key" and VALID_KEY.match(str(value))
    }
    if fresh:
        # A new dict: generated cases may share theirs with a sibling (the
        # one sent without the header must stay without it).
        case.headers = {**headers, **fresh}
