#!/usr/bin/env python3
"""Writes the events of events/login, checkout, admin, receipts, upload, upload-check and webhook.

Bearer tokens in them are signed with the replay tests' fixed key
(tests/tests/it/replay.rs) for the users and sessions that test seeds, at the
replay clock's time, so every event replays to the same answer. The key is a
test fixture, never a deployment's key. Run from the repository root, with
the test venv (its `cryptography` signs Ed25519):

    .venv/bin/python scripts/make_events.py
"""

import base64
import hashlib
import hmac
import json
import pathlib

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

REPLAY_KEY = b"replay-tests-fixed-signing-key-0123456789"
REPLAY_TIME = 1795262400  # 2026-11-21T12:00:00Z, the replay clock
USER_ID = "01JREPLAYUSER0000000000000"
ADMIN_ID = "01JREPLAYADM1N000000000000"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def access_token(session: str, iat: int = REPLAY_TIME, header: dict | None = None, key: bytes | None = None,
                 sub: str = USER_ID) -> str:
    """Signed as login signs (galley-shared's TokenSigner): Ed25519 with the
    seed HMAC-SHA256(secret, "galley/access-token/ed25519/k1"); `key` is
    another seed."""
    derived = hmac.new(REPLAY_KEY, b"galley/access-token/ed25519/k1", hashlib.sha256).digest()
    header = header or {"alg": "EdDSA", "kid": "k1", "typ": "JWT"}
    claims = {"sub": sub, "sid": session, "iat": iat, "exp": iat + 900}
    signing_input = b64url(json.dumps(header, separators=(",", ":")).encode()) + "." + b64url(
        json.dumps(claims, separators=(",", ":")).encode()
    )
    if header.get("alg") == "none":
        return signing_input + "."
    signature = Ed25519PrivateKey.from_private_bytes(key or derived).sign(signing_input.encode())
    return signing_input + "." + b64url(signature)


def refresh_token(session: str, fill: int) -> str:
    return session + "." + b64url(bytes([fill]) * 32)


def http_v2(name: str, method: str, path: str, body=None, headers=None, query: str = "") -> dict:
    all_headers = {"host": "api.galley.example", "user-agent": "galley-client/1.0"}
    if body is not None:
        all_headers["content-type"] = "application/json"
    all_headers.update(headers or {})
    event = {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": all_headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "galleyapi",
            "domainName": "api.galley.example",
            "domainPrefix": "api",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "galley-client/1.0",
            },
            "requestId": f"evt-{name}",
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "time": "21/Nov/2026:12:00:00 +0000",
            "timeEpoch": REPLAY_TIME * 1000,
        },
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = dict(pair.split("=", 1) for pair in query.split("&"))
    if body is not None:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
    return event


def rest_v1(name: str, method: str, path: str, headers: dict) -> dict:
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "resourceId": "r1",
            "stage": "prod",
            "requestId": f"evt-{name}",
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "galley-client/1.0"},
            "resourcePath": path,
            "httpMethod": method,
            "apiId": "abc123",
            "path": f"/prod{path}",
            "protocol": "HTTP/1.1",
            "requestTimeEpoch": REPLAY_TIME * 1000,
        },
        "body": None,
        "isBase64Encoded": False,
    }


def bearer(token: str) -> dict:
    return {"authorization": f"Bearer {token}"}


def login_events() -> dict:
    password = "replay password 123"
    return {
        "register": http_v2("register", "POST", "/auth/register",
                            {"email": "New.Shopper@Example.com", "password": "a long enough password", "name": "New Shopper"}),
        "register-invalid": http_v2("register-invalid", "POST", "/auth/register",
                                    {"email": "nope", "password": "short", "name": "", "role": "admin"}),
        "register-taken": http_v2("register-taken", "POST", "/auth/register",
                                  {"email": "REPLAY@example.com", "password": "another password 1", "name": "Twin"}),
        "register-wrong-content-type": http_v2("register-wrong-content-type", "POST", "/auth/register",
                                               "email=a@b.co", {"content-type": "application/x-www-form-urlencoded"}),
        "register-malformed": http_v2("register-malformed", "POST", "/auth/register", '{"email": "a@b.co",'),
        "login": http_v2("login", "POST", "/auth/login", {"email": "replay@example.com", "password": password}),
        "login-wrong-password": http_v2("login-wrong-password", "POST", "/auth/login",
                                        {"email": "replay@example.com", "password": "not the password"}),
        "login-unknown-email": http_v2("login-unknown-email", "POST", "/auth/login",
                                       {"email": "ghost@example.com", "password": password}),
        "login-locked": http_v2("login-locked", "POST", "/auth/login",
                                {"email": "locked@example.com", "password": password}),
        "refresh": http_v2("refresh", "POST", "/auth/refresh", {"refresh_token": refresh_token("sess-refresh", 1)}),
        "refresh-reused": http_v2("refresh-reused", "POST", "/auth/refresh",
                                  {"refresh_token": refresh_token("sess-reuse", 3)}),
        "logout": http_v2("logout", "POST", "/auth/logout", headers=bearer(access_token("sess-logout"))),
        "logout-unauthenticated": http_v2("logout-unauthenticated", "POST", "/auth/logout"),
        "me": http_v2("me", "GET", "/auth/me", headers=bearer(access_token("sess-me"))),
        "me-expired": http_v2("me-expired", "GET", "/auth/me",
                              headers=bearer(access_token("sess-me", iat=REPLAY_TIME - 901))),
        "me-alg-none": http_v2("me-alg-none", "GET", "/auth/me",
                               headers=bearer(access_token("sess-me", header={"alg": "none", "typ": "JWT"}))),
        "me-wrong-key": http_v2("me-wrong-key", "GET", "/auth/me",
                                headers=bearer(access_token("sess-me", key=b"\x07" * 32))),
        "rest-me": rest_v1("rest-me", "GET", "/auth/me",
                           {"Authorization": f"Bearer {access_token('sess-me')}", "Host": "abc123.execute-api.us-east-1.amazonaws.com"}),
    }


def checkout_events() -> dict:
    token = access_token("sess-checkout")
    auth = bearer(token)

    def buy(name, body, key="evt-checkout-0001", headers=None):
        all_headers = dict(auth)
        if key:
            all_headers["idempotency-key"] = key
        all_headers.update(headers or {})
        return http_v2(name, "POST", "/checkout", body, all_headers)

    def cart(lines, payment="pm_card_visa"):
        return {"items": [{"product_id": p, "quantity": q} for p, q in lines], "payment": {"token": payment}}

    return {
        "checkout": buy("checkout", cart([("mug-blue-350", 2), ("dot-grid-notebook", 1)])),
        "checkout-declined": buy("checkout-declined", cart([("mug-white-350", 1)], "pm_card_chargeDeclined"),
                                 key="evt-checkout-0002"),
        "checkout-out-of-stock": buy("checkout-out-of-stock", cart([("earbuds-sport", 1), ("mug-blue-350", 1)]),
                                     key="evt-checkout-0003"),
        "checkout-unknown-product": buy("checkout-unknown-product", cart([("no-such-product", 1)]),
                                        key="evt-checkout-0004"),
        "checkout-no-key": buy("checkout-no-key", cart([("mug-blue-350", 1)]), key=None),
        "checkout-invalid": buy("checkout-invalid",
                                {"items": [{"product_id": "mug-blue-350", "quantity": 101}], "payment": {}},
                                key="evt-checkout-0005"),
        "checkout-unauthenticated": http_v2("checkout-unauthenticated", "POST", "/checkout",
                                            cart([("mug-blue-350", 1)]), {"idempotency-key": "evt-checkout-0006"}),
        "checkout-promo": buy("checkout-promo", dict(cart([("mug-blue-350", 3)]), promo_code="replay10"),
                              key="evt-checkout-0007"),
        "checkout-promo-invalid": buy("checkout-promo-invalid",
                                      dict(cart([("mug-blue-350", 1)]), promo_code="NO-SUCH-CODE"),
                                      key="evt-checkout-0008"),
        "quote": http_v2("quote", "POST", "/checkout/quote",
                         {"items": [{"product_id": "mug-blue-350", "quantity": 3},
                                    {"product_id": "dot-grid-notebook", "quantity": 1}], "promo_code": "Replay10"},
                         auth),
        "quote-min-subtotal": http_v2("quote-min-subtotal", "POST", "/checkout/quote",
                                      {"items": [{"product_id": "dot-grid-notebook", "quantity": 1}],
                                       "promo_code": "REPLAY10"}, auth),
        "orders-list": http_v2("orders-list", "GET", "/orders", headers=auth),
        "order-missing": http_v2("order-missing", "GET", "/orders/01JNOSUCHORDER000000000000", headers=auth),
        "order": http_v2("order", "GET", f"/orders/{REPLAY_ORDER}", headers=auth),
        "order-cancel": http_v2("order-cancel", "POST", f"/orders/{REPLAY_ORDER_OWN_CANCEL}/cancel",
                                {"reason": "ordered twice"}, dict(auth, **{"idempotency-key": "evt-own-cancel-1"})),
        "order-cancel-invalid": http_v2("order-cancel-invalid", "POST", f"/orders/{REPLAY_ORDER}/cancel",
                                        {}, dict(auth, **{"idempotency-key": "evt-own-cancel-2"})),
        "order-cancel-missing": http_v2("order-cancel-missing", "POST", "/orders/01JNOSUCHORDER000000000000/cancel",
                                        {}, dict(auth, **{"idempotency-key": "evt-own-cancel-3"})),
        "orders-list-unauthenticated": http_v2("orders-list-unauthenticated", "GET", "/orders"),
        "rest-orders": rest_v1("rest-orders", "GET", "/orders",
                               {"Authorization": f"Bearer {token}", "Host": "abc123.execute-api.us-east-1.amazonaws.com"}),
    }


def admin_events() -> dict:
    """The back office, as the seeded admin; a customer's token is refused."""
    auth = bearer(access_token("sess-admin", sub=ADMIN_ID))
    usd = lambda amount: {"amount": amount, "currency": "USD"}
    kettle = {"id": "replay-new-kettle", "title": "Stovetop Kettle", "description": "Enamel, 2 l.",
              "category": "kitchen", "price": usd(3900), "stock": 12}

    def with_auth(extra=None):
        headers = dict(auth)
        headers.update(extra or {})
        return headers

    def patch(name, if_match):
        headers = with_auth({"if-match": if_match} if if_match else {})
        return http_v2(name, "PATCH", "/admin/products/fountain-pen",
                       {"price": usd(4500), "title": "Fountain Pen, Fine Nib"}, headers)

    def stock(name, body, key):
        headers = with_auth({"idempotency-key": key} if key else {})
        return http_v2(name, "POST", "/admin/products/ink-blue-black/stock", body, headers)

    return {
        "audit": http_v2("audit", "GET", "/admin/audit", headers=auth),
        "forbidden-customer": http_v2("forbidden-customer", "GET", "/admin/products",
                                      headers=bearer(access_token("sess-checkout"))),
        "unauthenticated": http_v2("unauthenticated", "GET", "/admin/products"),
        "product-create": http_v2("product-create", "POST", "/admin/products", kettle, auth),
        "product-create-exists": http_v2("product-create-exists", "POST", "/admin/products",
                                         dict(kettle, id="mug-blue-350"), auth),
        "product-create-invalid": http_v2("product-create-invalid", "POST", "/admin/products",
                                          {"title": "", "category": "Bad Cat", "price": usd(-1), "stock": -2}, auth),
        "product-create-image": http_v2("product-create-image", "POST", "/admin/products",
                                        dict(kettle, id="replay-image-teapot", title="Glazed Teapot",
                                             image_upload_id="01JREPLAYADM1NPNG000000000"), auth),
        "product-create-image-foreign": http_v2("product-create-image-foreign", "POST", "/admin/products",
                                                dict(kettle, id="replay-image-vase", title="Vase",
                                                     image_upload_id="01JREPLAYPNG0000000000000A"), auth),
        "product-missing": http_v2("product-missing", "GET", "/admin/products/no-such-product", headers=auth),
        "product-patch": patch("product-patch", '"1"'),
        "product-patch-no-if-match": patch("product-patch-no-if-match", None),
        "product-patch-stale": patch("product-patch-stale", '"7"'),
        "product": http_v2("product", "GET", "/admin/products/desk-organiser", headers=auth),
        "products-list": http_v2("products-list", "GET", "/admin/products", headers=auth,
                                 query="category=stationery&stock_below=1000&limit=3"),
        "products-search": http_v2("products-search", "GET", "/admin/products", headers=auth,
                                   query="q=Pen+foun&limit=5"),
        "stock-insufficient": stock("stock-insufficient", {"delta": -1000000, "reason": "write-off"}, "evt-stock-0002"),
        "stock-move": stock("stock-move", {"delta": 5, "reason": "restock"}, "evt-stock-0001"),
        "stock-no-key": stock("stock-no-key", {"delta": 5, "reason": "restock"}, None),
        "order": http_v2("order", "GET", f"/admin/orders/{REPLAY_ORDER}", headers=auth),
        "order-cancel": http_v2("order-cancel", "POST", f"/admin/orders/{REPLAY_ORDER_CANCELLED}/cancel",
                                {"reason": "out of glaze", "restock": True}, with_auth({"idempotency-key": "evt-cancel-0001"})),
        "order-fulfil": http_v2("order-fulfil", "POST", f"/admin/orders/{REPLAY_ORDER}/fulfil",
                                {"carrier": "UPS", "tracking_number": "1Z999"}, with_auth({"idempotency-key": "evt-fulfil-0001"})),
        "order-fulfil-invalid": http_v2("order-fulfil-invalid", "POST", f"/admin/orders/{REPLAY_ORDER_CANCELLED}/fulfil",
                                        {}, with_auth({"idempotency-key": "evt-fulfil-0002"})),
        "order-refund": http_v2("order-refund", "POST", f"/admin/orders/{REPLAY_ORDER}/refunds",
                                {"amount": usd(500), "reason": "chipped handle"}, with_auth({"idempotency-key": "evt-refund-0001"})),
        "order-refund-too-much": http_v2("order-refund-too-much", "POST", f"/admin/orders/{REPLAY_ORDER}/refunds",
                                         {"amount": usd(5000), "reason": "everything"}, with_auth({"idempotency-key": "evt-refund-0002"})),
        "order-refund-invalid": http_v2("order-refund-invalid", "POST", f"/admin/orders/{REPLAY_ORDER}/refunds",
                                        {"amount": usd(0)}, with_auth({"idempotency-key": "evt-refund-0003"})),
        "order-missing": http_v2("order-missing", "GET", "/admin/orders/01JREPLAYN0SVCH0RDER000000", headers=auth),
        "orders-list": http_v2("orders-list", "GET", "/admin/orders", headers=auth,
                               query="status=confirmed&email=%20Replay%40Example.com&limit=5"),
        "orders-list-invalid": http_v2("orders-list-invalid", "GET", "/admin/orders", headers=auth,
                                       query="status=lost&email=nobody"),
        "promotion": http_v2("promotion", "GET", "/admin/promotions/replay10", headers=auth),
        "promotion-create": http_v2("promotion-create", "POST", "/admin/promotions",
                                    {"code": "Winter-5", "amount_off": usd(500), "min_subtotal": usd(2000),
                                     "starts_at": "2026-12-01T00:00:00Z", "ends_at": "2027-03-01T00:00:00Z",
                                     "once_per_customer": True}, auth),
        "promotion-create-exists": http_v2("promotion-create-exists", "POST", "/admin/promotions",
                                           {"code": "replay10", "percent_off": 5, "once_per_customer": False}, auth),
        "promotion-create-invalid": http_v2("promotion-create-invalid", "POST", "/admin/promotions",
                                            {"code": "x", "percent_off": 5, "amount_off": usd(100)}, auth),
        "promotion-patch": http_v2("promotion-patch", "PATCH", "/admin/promotions/REPLAY10",
                                   {"max_redemptions": 50}, with_auth({"if-match": '"1"'})),
        "promotion-patch-stale": http_v2("promotion-patch-stale", "PATCH", "/admin/promotions/REPLAY10",
                                         {"active": False}, with_auth({"if-match": '"7"'})),
        "promotions-list": http_v2("promotions-list", "GET", "/admin/promotions", headers=auth, query="limit=5"),
    }


REPLAY_ORDER = "01JREPLAYORDER000000000000"


REPLAY_ORDER_CANCELLED = "01JREPLAYORDER0CANCE000000"
REPLAY_ORDER_OWN_CANCEL = "01JREPLAYORDER0WNCANCE0000"


def notice_doc(order_id: str, kind: str, status: str = "confirmed", fulfilment=None) -> str:
    """An outbox notice as the event's transaction writes it: its kind and the order then."""
    usd = lambda amount: {"amount": amount, "currency": "USD"}
    return json.dumps({"kind": kind, "order": {
        "id": order_id, "user_id": USER_ID, "email": "replay@example.com", "status": status,
        "created_at": "2026-11-21T12:00:00Z",
        "items": [{"product_id": "mug-blue-350", "title": "Blue Stoneware Mug", "quantity": 2,
                   "unit_price": usd(1299), "line_total": usd(2598)}],
        "total": usd(2598),
        "state": {"refunds": [], "pending_refunds": [], "fulfilment": fulfilment},
    }}, separators=(",", ":"))


def stream_record(name: str, event_name: str, image: dict, sequence: str) -> dict:
    record = {
        "eventID": f"evt-{name}-{sequence}",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": REPLAY_TIME,
            "Keys": {"pk": image["pk"], "sk": image["sk"]},
            "SequenceNumber": sequence,
            "SizeBytes": 512,
            "StreamViewType": "NEW_IMAGE",
        },
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/galley/stream/2026-11-21T12:00:00.000",
    }
    if event_name != "REMOVE":
        record["dynamodb"]["NewImage"] = image
    return record


def outbox_image(order_id: str, sent: int, kind: str = "RECEIPT", doc: str = None) -> dict:
    return {"pk": {"S": f"OUTBOX#{order_id}"}, "sk": {"S": kind},
            "doc": {"S": doc or notice_doc(order_id, kind)}, "sent": {"N": str(sent)}}


def receipts_events() -> dict:
    product = {"pk": {"S": "PRODUCT#mug-blue-350"}, "sk": {"S": "PRODUCT"}, "stock": {"N": "22"}}
    return {
        "stream-receipt": {"Records": [
            stream_record("stream-receipt", "INSERT", outbox_image(REPLAY_ORDER, 0), "100000000000000000001"),
            stream_record("stream-receipt", "MODIFY", product, "100000000000000000002"),
        ]},
        "stream-receipt-redelivered": {"Records": [
            stream_record("stream-receipt-redelivered", "INSERT", outbox_image(REPLAY_ORDER, 0), "100000000000000000003"),
            stream_record("stream-receipt-redelivered", "MODIFY", outbox_image(REPLAY_ORDER, 1), "100000000000000000004"),
        ]},
        "stream-fulfilled": {"Records": [
            stream_record("stream-fulfilled", "INSERT", outbox_image(REPLAY_ORDER, 0, "FULFILLED", notice_doc(
                REPLAY_ORDER, "FULFILLED", "fulfilled",
                {"carrier": "UPS", "tracking_number": "1Z999", "fulfilled_at": "2026-11-21T12:00:00Z"})),
                "100000000000000000005"),
        ]},
        "stream-receipt-unknown-order": {"Records": [
            stream_record("stream-receipt-unknown-order", "INSERT", outbox_image("01JUNKNOWNORDER00000000000", 0),
                          "100000000000000000005"),
        ]},
    }


REPLAY_UPLOAD_PENDING = "01JREPLAYPENDNG00000000000"
REPLAY_UPLOAD_PNG = "01JREPLAYPNG0000000000000A"
REPLAY_UPLOAD_TEXT = "01JREPLAYTEXT000000000000A"
REPLAY_FOREIGN_UPLOAD = "01JREPLAYF0RE1GN000000000A"
OTHER_USER_ID = "01JREPLAY0THER000000000000"


def upload_events() -> dict:
    auth = bearer(access_token("sess-upload"))

    def ticket(name, body, headers=auth):
        return http_v2(name, "POST", "/uploads", body, headers)

    def show(name, upload_id):
        return http_v2(name, "GET", f"/uploads/{upload_id}", headers=auth)

    return {
        "upload-ticket": ticket("upload-ticket", {"filename": "../../cat photo.png", "content_type": "image/png",
                                                  "size": 48213}),
        "upload-unsupported-type": ticket("upload-unsupported-type", {"filename": "cat.gif",
                                                                      "content_type": "image/gif", "size": 1200}),
        "upload-too-large": ticket("upload-too-large", {"filename": "huge.jpg", "content_type": "image/jpeg",
                                                        "size": 10 * 1024 * 1024 + 1}),
        "upload-invalid": ticket("upload-invalid", {"filename": "", "content_type": "image/png", "size": 0}),
        "upload-unauthenticated": ticket("upload-unauthenticated", {"filename": "cat.png",
                                                                    "content_type": "image/png", "size": 10},
                                         headers={}),
        "upload-status": show("upload-status", REPLAY_UPLOAD_PENDING),
        "upload-status-missing": show("upload-status-missing", "01JNOSUCHUPLOAD00000000000"),
        "upload-status-other-user": show("upload-status-other-user", REPLAY_FOREIGN_UPLOAD),
        "rest-upload-status": rest_v1("rest-upload-status", "GET", f"/uploads/{REPLAY_UPLOAD_PENDING}",
                                      {"Authorization": f"Bearer {access_token('sess-upload')}",
                                       "Host": "abc123.execute-api.us-east-1.amazonaws.com"}),
    }


def s3_record(name: str, key: str, size: int, event_name: str = "ObjectCreated:Put") -> dict:
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": "2026-11-21T12:00:00.000Z",
        "eventName": event_name,
        "userIdentity": {"principalId": "AWS:AROAEXAMPLE:galley-client"},
        "requestParameters": {"sourceIPAddress": "203.0.113.7"},
        "responseElements": {"x-amz-request-id": f"evt-{name}", "x-amz-id-2": "example"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "galley-upload-check",
            "bucket": {"name": "galley-uploads", "ownerIdentity": {"principalId": "EXAMPLE"},
                       "arn": "arn:aws:s3:::galley-uploads"},
            "object": {"key": key, "size": size, "eTag": "0123456789abcdef0123456789abcdef",
                       "sequencer": "0062E99A88DC407460"},
        },
    }


def upload_check_events() -> dict:
    key = lambda upload_id: f"uploads/{USER_ID}/{upload_id}"
    return {
        "s3-png-stored": {"Records": [s3_record("s3-png-stored", key(REPLAY_UPLOAD_PNG), 67)]},
        "s3-text-rejected": {"Records": [s3_record("s3-text-rejected", key(REPLAY_UPLOAD_TEXT), 67)]},
        "s3-unclaimed-object": {"Records": [s3_record("s3-unclaimed-object", key("01JN0B0DYASKED000000000000"), 5)]},
        "s3-removed-ignored": {"Records": [s3_record("s3-removed-ignored", key(REPLAY_UPLOAD_PNG), 67,
                                                     "ObjectRemoved:Delete")]},
    }


WEBHOOK_SECRET = "whsec_replay_tests_fixed_secret"  # the replay's webhook signing secret


def webhook_events() -> dict:
    """Stripe's deliveries, signed with the replay's fixed secret at the replay clock."""
    fixtures = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "stripe"

    def stripe_event(kind: str, event_id: str) -> str:
        event = json.loads((fixtures / "payment_intent.succeeded.json").read_text())
        event["id"], event["type"], event["created"] = event_id, kind, REPLAY_TIME
        event["data"]["object"]["metadata"]["order_id"] = REPLAY_ORDER
        return json.dumps(event)

    def signed(payload: str, at: int = REPLAY_TIME, secret: str = WEBHOOK_SECRET) -> dict:
        mac = hmac.new(secret.encode(), f"{at}.{payload}".encode(), hashlib.sha256).hexdigest()
        return {"stripe-signature": f"t={at},v1={mac}"}

    def deliver(name: str, payload: str, headers: dict) -> dict:
        event = http_v2(name, "POST", "/webhooks/stripe", payload, headers)
        event["headers"]["content-type"] = "application/json; charset=utf-8"
        return event

    succeeded = stripe_event("payment_intent.succeeded", "evt_replay_succeeded")
    other = stripe_event("customer.created", "evt_replay_other")
    return {
        # A confirmed order's success: applied (nothing to move), then the same event again.
        "payment-succeeded": deliver("payment-succeeded", succeeded, signed(succeeded)),
        "payment-succeeded-redelivered": deliver("payment-succeeded-redelivered", succeeded, signed(succeeded)),
        "other-event": deliver("other-event", other, signed(other)),
        "unsigned": deliver("unsigned", succeeded, {}),
        "foreign-secret": deliver("foreign-secret", succeeded, signed(succeeded, secret="whsec_someone_else")),
        "stale-signature": deliver("stale-signature", succeeded, signed(succeeded, at=REPLAY_TIME - 301)),
        "tampered": deliver("tampered", succeeded.replace("1299", "1"), signed(succeeded)),
        "wrong-method": http_v2("wrong-method", "GET", "/webhooks/stripe"),
    }


def main() -> None:
    root = pathlib.Path(__file__).resolve().parent.parent / "events"
    every = {"login": login_events(), "checkout": checkout_events(), "admin": admin_events(),
             "receipts": receipts_events(),
             "upload": upload_events(), "upload-check": upload_check_events(), "webhook": webhook_events()}
    for function, events in every.items():
        (root / function).mkdir(parents=True, exist_ok=True)
        for name, event in events.items():
            (root / function / f"{name}.json").write_text(json.dumps(event, indent=2) + "\n")


if __name__ == "__main__":
    main()
