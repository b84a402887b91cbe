"""moto server for Galley's tests, with its requests applied one at a time.

moto's own FAQ says it is not concurrency safe: two threads running
conditional updates (or a TransactWriteItems rollback) on one table can
interleave, so a race test could "oversell" inside the emulator even though
DynamoDB itself applies each conditional write atomically. Holding one lock
around every request gives moto the per-request atomicity the real service
has, while clients still race over many connections at once.

It keeps only the latest stream records of a table, as DynamoDB keeps
only a day of them: moto keeps every one, and copies the whole table,
stream included, for every TransactWriteItems (its rollback), so over a
benchmark run each checkout took seconds and the server grew to 20 GB.
Nothing here reads the stream (the receipts function gets its events from
`events/` and the tests).

It also answers `GET /galley/ses-sent` with just SES's sent-mail record (the
`ses` part of `/moto-api/data.json`, which dumps every table of every test
and gets slow as they accumulate).

Usage: moto_server.py PORT_FILE   (binds 127.0.0.1 on a free port, writes it to PORT_FILE)
"""

import json
import os
import signal
import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server


STREAM_RECORDS_KEPT = 1000


def keep_recent_stream_records() -> None:
    """Trims each stream shard to its latest records, moving its starting
    sequence number on so sequence numbers still name the same records."""
    from moto.dynamodb.models.table import StreamShard

    add = StreamShard.add

    def add_and_trim(self, old, new):  # type: ignore[no-untyped-def]
        add(self, old, new)
        excess = len(self.items) - STREAM_RECORDS_KEPT
        if excess > 0:
            del self.items[:excess]
            self.starting_sequence_number += excess

    StreamShard.add = add_and_trim


def sent_mail() -> list[dict]:
    """Every message SES accepted, in every account and region."""
    from moto.ses.models import ses_backends

    sent = []
    for account in ses_backends.values():
        for backend in account.values():
            for message in backend.sent_messages:
                sent.append({
                    "id": message.id,
                    "source": message.source,
                    "destinations": getattr(message, "destinations", None),
                    "raw_data": getattr(message, "raw_data", None),
                    "body": getattr(message, "body", None),
                })
    return sent


def main() -> None:
    port_file = sys.argv[1]
    keep_recent_stream_records()
    moto_app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serialised(environ, start_response):
        if environ.get("PATH_INFO") == "/galley/ses-sent":
            with lock:
                body = json.dumps(sent_mail()).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        with lock:
            # Drain the response inside the lock: moto may produce it lazily.
            return [b"".join(moto_app(environ, start_response))]

    server = make_server("127.0.0.1", 0, serialised, threaded=True, request_handler=MotoRequestHandler)
    os.environ["MOTO_PORT"] = str(server.server_port)
    # Exit at once: after a long run moto holds gigabytes of objects, and a
    # normal interpreter exit spent minutes freeing them one by one while
    # the calling script waited.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    with open(port_file + ".tmp", "w") as f:
        f.write(str(server.server_port))
    os.replace(port_file + ".tmp", port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
