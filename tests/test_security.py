"""Attacks on the real `standing serve` (a subprocess on a free port): each gets a JSON 4xx.

One server per module keeps this fast; every pairing attack makes its own fresh codes in
the server's data dir (as `standing pair` would).
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from server import auth
from server.store import Store
from tests.support.serve import app, close_app, make_app, new_code, start_serve  # noqa: F401

EXT_A = "chrome-extension://abcdefghijklmnopabcdefghijklmnop"
EXT_B = "chrome-extension://ponmlkjihgfedcbaponmlkjihgfedcba"
MOZ = "moz-extension://6f1c2b4e-0d7a-4c55-9a0e-3b8f0e2d1c9a"
TRACE_MARKERS = ("Traceback", 'File "', "werkzeug", "sqlite3.", "Exception")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("security")
    running = start_serve(tmp, data_dir=tmp / "data")
    running.ext_token = running.pair(origin=EXT_A)  # the printed code, from "the extension"
    running.cli_token = running.pair(new_code(running.data_dir))  # no Origin: the CLI / curl
    yield running
    assert running.stop() == 0, running.output()


def assert_json_refusal(status, headers, raw, *, expected=None):
    assert 400 <= status < 500, (status, raw)
    if expected is not None:
        assert status == expected, (status, raw)
    assert headers.get("content-type", "").startswith("application/json"), headers
    body = json.loads(raw)
    assert isinstance(body["error"], str) and body["error"].endswith(".")
    text = raw.decode("utf-8", "replace")
    assert not any(marker in text for marker in TRACE_MARKERS), text
    assert not any(name.startswith("access-control-") for name in headers), headers
    assert "set-cookie" not in headers


def expired_code(data_dir) -> str:
    with Store.open(data_dir / "standing.sqlite3") as store:
        past = datetime.now(timezone.utc) - auth.CODE_TTL - timedelta(minutes=1)
        return auth.new_pairing_code(store, now=past)


def used_code(server) -> str:
    code = new_code(server.data_dir)
    server.pair(code)
    return code


BIG = b'{"kind": "archive", "application_id": "' + b"x" * (70 * 1024) + b'"}'
NESTED = b"[" * 30000 + b"]" * 30000

# (id, expected status, request builder) ; the builder gets the server and returns request() kwargs
ATTACKS = [
    ("no-token", 401, lambda s: dict(method="GET", path="/api/applications")),
    ("wrong-token", 401, lambda s: dict(method="GET", path="/api/applications", token="not-the-token")),
    ("token-in-a-cookie", 401, lambda s: dict(method="GET", path="/api/sync",
                                               headers={"Cookie": f"token={s.cli_token}"})),
    ("basic-auth", 401, lambda s: dict(method="GET", path="/api/sync",
                                       headers={"Authorization": f"Basic {s.cli_token}"})),
    ("bearer-without-token", 401, lambda s: dict(method="GET", path="/api/sync",
                                                 headers={"Authorization": "Bearer "})),
    ("latin1-token", 401, lambda s: dict(method="GET", path="/api/sync",
                                         headers={"Authorization": "Bearer \xff\xfe\x80"})),
    ("huge-token", 401, lambda s: dict(method="GET", path="/api/sync",
                                       headers={"Authorization": "Bearer " + "A" * 5000})),
    ("host-evil", 403, lambda s: dict(method="GET", path="/api/sync", token=s.cli_token,
                                      headers={"Host": "evil.example"})),
    ("host-evil-with-port", 403, lambda s: dict(method="GET", path="/api/health",
                                                headers={"Host": f"evil.example:{s.port}"})),
    ("host-without-port", 403, lambda s: dict(method="GET", path="/api/sync", token=s.cli_token,
                                              headers={"Host": "127.0.0.1"})),
    ("host-other-port", 403, lambda s: dict(method="GET", path="/api/sync", token=s.cli_token,
                                            headers={"Host": f"localhost:{s.port + 1}"})),
    ("host-rebinding-pair", 403, lambda s: dict(method="POST", path="/api/pair", body={"code": "X"},
                                                headers={"Host": "attacker.example"})),
    ("origin-http", 403, lambda s: dict(method="GET", path="/api/sync", token=s.cli_token,
                                        headers={"Origin": "http://evil.example"})),
    ("origin-https", 403, lambda s: dict(method="GET", path="/api/applications", token=s.ext_token,
                                         headers={"Origin": "https://evil.example"})),
    ("origin-localhost-page", 403, lambda s: dict(method="GET", path="/api/sync", token=s.cli_token,
                                                  headers={"Origin": f"http://127.0.0.1:{s.port}"})),
    ("origin-null", 403, lambda s: dict(method="GET", path="/api/sync", token=s.cli_token,
                                        headers={"Origin": "null"})),
    ("origin-http-on-health", 403, lambda s: dict(method="GET", path="/api/health",
                                                  headers={"Origin": "https://evil.example"})),
    ("origin-http-on-pair", 403, lambda s: dict(method="POST", path="/api/pair",
                                                body={"code": new_code(s.data_dir)},
                                                headers={"Origin": "https://evil.example"})),
    ("another-extension", 403, lambda s: dict(method="GET", path="/api/applications", token=s.ext_token,
                                              headers={"Origin": EXT_B})),
    ("another-browser-extension", 403, lambda s: dict(method="GET", path="/api/sync", token=s.ext_token,
                                                      headers={"Origin": MOZ})),
    ("preflight", 403, lambda s: dict(method="OPTIONS", path="/api/applications",
                                      headers={"Origin": "https://evil.example",
                                               "Access-Control-Request-Method": "GET"})),
    ("garbage-json", 400, lambda s: dict(method="POST", path="/api/corrections", token=s.cli_token,
                                         body=b"{not json", headers={"Content-Type": "application/json"})),
    ("invalid-utf8", 400, lambda s: dict(method="POST", path="/api/corrections", token=s.cli_token,
                                         body=b'{"kind": "\xff\xfe"}', headers={"Content-Type": "application/json"})),
    ("json-array", 400, lambda s: dict(method="POST", path="/api/corrections", token=s.cli_token,
                                       body=[1, 2, 3])),
    ("deep-nesting", 400, lambda s: dict(method="POST", path="/api/corrections", token=s.cli_token,
                                         body=NESTED, headers={"Content-Type": "application/json"})),
    ("wrong-content-type", 415, lambda s: dict(method="POST", path="/api/corrections", token=s.cli_token,
                                               body=b'{"kind": "archive"}',
                                               headers={"Content-Type": "text/plain"})),
    ("form-post", 415, lambda s: dict(method="POST", path="/api/pair", body=b"code=ABCDEFGH",
                                      headers={"Content-Type": "application/x-www-form-urlencoded"})),
    ("huge-body", 413, lambda s: dict(method="POST", path="/api/corrections", token=s.cli_token,
                                      body=BIG, headers={"Content-Type": "application/json"})),
    ("huge-body-on-pair", 413, lambda s: dict(method="POST", path="/api/pair",
                                              body=BIG, headers={"Content-Type": "application/json"})),
    ("reused-pairing-code", 401, lambda s: dict(method="POST", path="/api/pair", body={"code": used_code(s)})),
    ("expired-pairing-code", 401, lambda s: dict(method="POST", path="/api/pair",
                                                 body={"code": expired_code(s.data_dir)})),
    ("code-not-a-string", 400, lambda s: dict(method="POST", path="/api/pair", body={"code": 12345678})),
    ("unknown-route", 404, lambda s: dict(method="GET", path="/api/nothing-here", token=s.cli_token)),
    ("bad-percent-encoding", 404, lambda s: dict(method="GET", path="/api/applications/%ff%fe", token=s.cli_token)),
    ("wrong-method", 405, lambda s: dict(method="PUT", path="/api/applications", token=s.cli_token)),
    ("bad-account-id", 404, lambda s: dict(method="DELETE", path="/api/accounts/1e9", token=s.cli_token)),
    # beyond SQLite's INTEGER: was a 500 (OverflowError)
    ("account-id-past-int64", 404, lambda s: dict(method="DELETE", path="/api/accounts/" + "9" * 30,
                                                  token=s.cli_token)),
    # DNS rebinding, decided: only 127.0.0.1:<port> and localhost:<port>. The server listens on
    # 127.0.0.1 alone, so no browser reaches it as [::1]; absolute-form request targets are
    # judged by the Host header too (a browser sends origin-form).
    ("host-ipv6-loopback", 403, lambda s: dict(method="GET", path="/api/health",
                                               headers={"Host": f"[::1]:{s.port}"})),
    ("host-trailing-dot", 403, lambda s: dict(method="GET", path="/api/health",
                                              headers={"Host": f"localhost.:{s.port}"})),
    ("host-userinfo", 403, lambda s: dict(method="GET", path="/api/health",
                                          headers={"Host": f"evil.example@127.0.0.1:{s.port}"})),
    # X-Forwarded-* are never read: no proxy sits in front of a loopback server
    ("x-forwarded-host-ignored", 403, lambda s: dict(method="GET", path="/api/sync", token=s.cli_token,
                                                     headers={"Host": "evil.example",
                                                              "X-Forwarded-Host": f"127.0.0.1:{s.port}",
                                                              "X-Forwarded-For": "127.0.0.1"})),
    # an Origin is one whole extension origin: not two joined, no empty id, no path
    ("origin-joined-with-a-web-page", 403, lambda s: dict(method="GET", path="/api/sync", token=s.cli_token,
                                                          headers={"Origin": f"{EXT_A}, https://evil.example"})),
    ("origin-extension-without-id", 403, lambda s: dict(method="GET", path="/api/sync", token=s.cli_token,
                                                        headers={"Origin": "chrome-extension://"})),
    ("origin-extension-with-path", 403, lambda s: dict(method="GET", path="/api/sync", token=s.cli_token,
                                                       headers={"Origin": f"{EXT_A}/evil"})),
    # lone surrogate escapes are valid JSON but not text: were a 500 (UnicodeEncodeError) on write
    ("lone-surrogate-on-pair", 400, lambda s: dict(method="POST", path="/api/pair", body=b'{"code": "\\ud800"}',
                                                   headers={"Content-Type": "application/json"})),
    ("lone-surrogate-in-correction", 400, lambda s: dict(
        method="POST", path="/api/corrections", token=s.cli_token,
        body=b'{"kind": "archive", "application_id": "\\udfff"}', headers={"Content-Type": "application/json"})),
    ("bearer-then-tab", 401, lambda s: dict(method="GET", path="/api/sync",
                                            headers={"Authorization": f"Bearer\t{s.cli_token}"})),
]

# Requests waitress answers itself, before the app: still {"error": sentence} JSON (were text/plain).
RAW_ATTACKS = [
    ("bad-start-line", 400, lambda s: b"GARBAGE\r\n\r\n"),
    ("content-length-not-a-number", 400, lambda s: (
        f"POST /api/pair HTTP/1.1\r\nHost: {s.host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: abc\r\n\r\n{{}}").encode()),
    ("negative-content-length", 400, lambda s: (
        f"POST /api/pair HTTP/1.1\r\nHost: {s.host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: -5\r\n\r\n{{}}").encode()),
    # a declared 1 GB body is refused from its headers (waitress used to spool up to 1 GB to disk)
    ("declared-gigabyte-body", 413, lambda s: (
        f"POST /api/pair HTTP/1.1\r\nHost: {s.host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {2 ** 30}\r\n\r\n").encode()),
    ("headers-too-large", 431, lambda s: (
        f"GET /api/health HTTP/1.1\r\nHost: {s.host}\r\nX-Filler: {'a' * (33 * 1024)}\r\n\r\n").encode()),
    ("two-authorization-headers", 401, lambda s: (
        f"GET /api/sync HTTP/1.1\r\nHost: {s.host}\r\nAuthorization: Bearer {s.cli_token}\r\n"
        f"Authorization: Bearer {s.cli_token}\r\nConnection: close\r\n\r\n").encode()),
    ("two-host-headers", 403, lambda s: (
        f"GET /api/health HTTP/1.1\r\nHost: {s.host}\r\nHost: evil.example\r\nConnection: close\r\n\r\n"
    ).encode()),
    ("http-1.0-without-host", 403, lambda s: b"GET /api/health HTTP/1.0\r\n\r\n"),
]


@pytest.mark.parametrize("expected, build", [(e, b) for _, e, b in RAW_ATTACKS],
                         ids=[i for i, _, _ in RAW_ATTACKS])
def test_malformed_http_gets_a_json_4xx(server, expected, build):
    status, headers, raw = server.raw(build(server))
    assert_json_refusal(status, headers, raw, expected=expected)
    assert b"generated by" not in raw and b"waitress" not in raw


@pytest.mark.parametrize("expected, build", [(e, b) for _, e, b in ATTACKS], ids=[i for i, _, _ in ATTACKS])
def test_attack_gets_a_json_4xx(server, expected, build):
    status, headers, raw = server.request(**build(server))
    assert_json_refusal(status, headers, raw, expected=expected)


def test_sixth_pairing_attempt_fails_even_with_the_right_code(server):
    code = new_code(server.data_dir)
    statuses = []
    for guess in range(5):
        status, headers, raw = server.request("POST", "/api/pair", body={"code": f"WRONG{guess:03d}"})
        assert_json_refusal(status, headers, raw)
        statuses.append(status)
    assert statuses[-1] == 429  # the fifth wrong code voids every live code
    status, headers, raw = server.request("POST", "/api/pair", body={"code": code})
    assert_json_refusal(status, headers, raw, expected=401)
    # `standing pair` starts a fresh window
    assert server.pair(new_code(server.data_dir))


@pytest.mark.parametrize("token_name, origin", [
    ("cli_token", None),
    ("ext_token", EXT_A),  # the pinned extension
    ("ext_token", None),  # no Origin: curl with the extension's token
    ("cli_token", MOZ),  # a token paired without an Origin is not pinned
])
def test_allowed_requests(server, token_name, origin):
    headers = {"Origin": origin} if origin else {}
    status, response_headers, raw = server.request("GET", "/api/sync", token=getattr(server, token_name),
                                                   headers=headers)
    assert status == 200, raw
    assert not any(name.startswith("access-control-") for name in response_headers)
    if origin:
        assert origin not in json.dumps(response_headers)  # never reflected


def test_localhost_host_is_accepted(server):
    status, _, _ = server.request("GET", "/api/sync", token=server.cli_token,
                                  headers={"Host": f"localhost:{server.port}"})
    assert status == 200


def test_revoked_token_is_refused(server):
    token = server.pair(new_code(server.data_dir))
    assert server.request("GET", "/api/sync", token=token)[0] == 200
    with Store.open(server.data_dir / "standing.sqlite3") as store:
        store.db.execute("UPDATE tokens SET revoked = 1 WHERE token_hash = ?", (auth.hash_secret(token),))
    status, headers, raw = server.request("GET", "/api/sync", token=token)
    assert_json_refusal(status, headers, raw, expected=401)


def test_passwords_never_reach_the_log_or_the_answer(server):
    secret = "never-log-me-4f1b9c"
    status, headers, raw = server.request("POST", "/api/accounts", token=server.cli_token, body={
        "email": "sam@example.org", "password": secret, "host": "127.0.0.1", "port": 1, "security": "plain"})
    assert 400 <= status < 600 and status != 201
    assert secret not in raw.decode("utf-8", "replace")
    assert secret not in server.stderr_path.read_text(errors="replace")
    assert secret not in "".join(server.stdout_lines)


def test_an_internal_error_is_a_bare_500(data_dir):
    application = make_app(data_dir)

    def explode():
        raise RuntimeError("secret detail: /etc/passwd line 3")

    application.add_url_rule("/api/explode", "explode", explode)
    try:
        test_client = application.test_client()
        code = new_code(data_dir)
        token = test_client.post("/api/pair", json={"code": code}).get_json()["token"]
        response = test_client.get("/api/explode", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 500
        assert response.get_json() == {"error": "Internal error."}
        assert "secret detail" not in response.get_data(as_text=True)
    finally:
        close_app(application)


# --- schemathesis-style fuzzing by hand: every documented operation, hostile inputs -----------

def _document() -> dict:
    from server.api import openapi_path

    return json.loads(openapi_path().read_text(encoding="utf-8"))


def _operations() -> list[tuple[str, str, dict]]:
    document = _document()
    return [(path, method.upper(), operation) for path, item in document["paths"].items()
            for method, operation in item.items() if method in ("get", "post", "put", "patch", "delete")]


def _schema_properties(schema: dict, document: dict) -> set[str]:
    """Every property name a request body schema mentions (through $ref and oneOf)."""
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    names = set(schema.get("properties", {}))
    for branch in schema.get("oneOf", []) + schema.get("anyOf", []):
        names |= _schema_properties(branch, document)
    return names


# JSON values of the wrong type, size or content for any field ("\ud800" is a lone surrogate).
HOSTILE_VALUES = [None, True, 0, -1, 2 ** 70, 1.5, "", " ", "\x00", "\ud800", "../../../etc/passwd",
                  "x" * 600, "<script>alert(1)</script>", "' OR 1=1 --", "line\r\nbreak", [], {}, [[["deep"]]],
                  {"$ne": None}]
# Whole bodies that are not a JSON object, or not JSON at all.
HOSTILE_BODIES = [b"", b"null", b"[]", b'"text"', b"1e999", b"NaN", b"{", b'{"a": 1,}', b"\xff\xfe\x00",
                  b"\xef\xbb\xbf{}", b"[" * 5000 + b"]" * 5000, b'{"kind": ' + b"9" * 5000 + b"}"]
# Bases that stay on this machine when a field is spoiled: plain IMAP to 127.0.0.1:1 (refused).
BASE_BODIES = {
    "/api/pair": {"code": "ZZZZZZZZ"},
    "/api/corrections": {"kind": "label", "message_id": "<fuzz@example.invalid>", "label": "offer",
                         "application_id": "fuzz", "other_application_id": "fuzz2",
                         "company": "Fuzz", "role": "Tester"},
    "/api/accounts": {"email": "fuzz@example.invalid", "password": "not-a-real-one", "host": "127.0.0.1",
                      "port": 1, "security": "plain"},
}
HOSTILE_SEGMENTS = ["..%2F..%2Fetc%2Fpasswd", "%00", "x" * 600, "%ED%A0%80", "'%20OR%201=1", "-1", "0",
                    "9" * 30, "1.5", "%25", "~", "%F0%9F%92%A5"]
HOSTILE_QUERY = ["", "%00", "%FF%FE", "%ED%A0%80", "x" * 300, "amber&flag=red", "1" * 50, "%0D%0ASet-Cookie:x"]


def _fuzz_cases(path: str, method: str, operation: dict, document: dict):
    """(description, request() kwargs) for one operation."""
    parameters = operation.get("parameters", [])
    in_path = [p["name"] for p in parameters if p.get("in") == "path"]
    in_query = [p["name"] for p in parameters if p.get("in") == "query"]
    concrete = path
    for name in in_path:
        concrete = concrete.replace("{" + name + "}", "1")
    for name in in_path:
        for segment in HOSTILE_SEGMENTS:
            yield f"{name}={segment[:20]}", dict(method=method, path=path.replace("{" + name + "}", segment))
    for name in in_query:
        for value in HOSTILE_QUERY:
            yield f"?{name}={value[:20]}", dict(method=method, path=f"{concrete}?{name}={value}")
    if "requestBody" in operation:
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        base = BASE_BODIES[path]
        for name in sorted(_schema_properties(schema, document)):
            for value in HOSTILE_VALUES:
                body = json.dumps({**base, name: value}).encode()  # "\ud800" stays a JSON escape
                yield f"{name}={value!r:.20}", dict(method=method, path=concrete, body=body,
                                                     headers={"Content-Type": "application/json"})
        for body in HOSTILE_BODIES:
            yield f"body {body[:12]!r}", dict(method=method, path=concrete, body=body,
                                              headers={"Content-Type": "application/json"})
        yield "no content type", dict(method=method, path=concrete, body=json.dumps(base).encode(),
                                      headers={"Content-Type": ""})
    for other in ("PUT", "PATCH", "FOO"):
        yield f"method {other}", dict(method=other, path=concrete)


@pytest.mark.parametrize("path, method, operation", _operations(),
                         ids=[f"{m} {p}" for p, m, _ in _operations()])
def test_fuzzed_requests_get_json_and_never_a_500(server, path, method, operation):
    document = _document()
    failures = []
    for description, kwargs in _fuzz_cases(path, method, operation, document):
        token = None if path in ("/api/health", "/api/pair") else server.cli_token
        status, headers, raw = server.request(token=token, **kwargs)
        problem = None
        if not (200 <= status < 300 or 400 <= status < 500):
            problem = f"status {status}"
        elif not headers.get("content-type", "").startswith("application/json"):
            problem = f"content type {headers.get('content-type')!r}"
        else:
            text = raw.decode("utf-8", "replace")
            if status >= 400 and not isinstance(json.loads(raw).get("error"), str):
                problem = "no error sentence"
            elif any(marker in text for marker in TRACE_MARKERS):
                problem = "traceback text"
            elif any(name.startswith("access-control-") for name in headers) or "set-cookie" in headers:
                problem = "CORS or cookie header"
            elif "not-a-real-one" in text:
                problem = "the password echoed"
        if problem:
            failures.append(f"{description}: {problem}: {raw[:120]!r}")
    assert not failures, "\n".join(failures)
    assert "not-a-real-one" not in server.stderr_path.read_text(errors="replace")


# --- pairing: parallel guesses cannot overshoot the attempt cap ----------------------------------

class _StaleReader:
    """The real Store, except that pairing_codes() answers what a parallel request read
    earlier: the interleaving of two requests that both listed the live codes before either
    guess was counted (one real race, replayed deterministically)."""

    def __init__(self, store, snapshot):
        self._store, self._snapshot = store, snapshot

    def pairing_codes(self, **_):
        return [dict(row) for row in self._snapshot]

    def __getattr__(self, name):
        return getattr(self._store, name)


def test_a_guess_racing_the_fifth_wrong_one_is_refused(data_dir):
    with Store.open(data_dir / "standing.sqlite3") as store:
        code = auth.new_pairing_code(store)
        for guess in range(auth.MAX_WRONG_ATTEMPTS - 1):
            with pytest.raises(auth.Unauthorized):
                auth.redeem_pairing_code(store, f"WRONG{guess:03d}")
        snapshot = store.pairing_codes()  # a sixth request lists the codes: 4 attempts so far
        assert [row["attempts"] for row in snapshot] == [auth.MAX_WRONG_ATTEMPTS - 1]
        # ... meanwhile the fifth wrong guess is counted (its request has not voided the code yet)
        assert store.record_pairing_attempt(snapshot[0]["id"]) == auth.MAX_WRONG_ATTEMPTS
        with pytest.raises(auth.TooManyAttempts):  # the sixth guess is refused even though it is right
            auth.redeem_pairing_code(_StaleReader(store, snapshot), code)
        assert store.pairing_codes() == []


def test_every_guess_counts_across_connections(data_dir):
    """Two Store connections (two server threads, or `standing serve` and another process)
    share one counter: five wrong guesses split between them void the code."""
    db = data_dir / "standing.sqlite3"
    with Store.open(db) as first, Store.open(db) as second:
        code = auth.new_pairing_code(first)
        for guess in range(auth.MAX_WRONG_ATTEMPTS):
            with pytest.raises((auth.Unauthorized, auth.TooManyAttempts)):
                auth.redeem_pairing_code((first, second)[guess % 2], f"WRONG{guess:03d}")
        with pytest.raises(auth.Unauthorized):
            auth.redeem_pairing_code(second, code)
