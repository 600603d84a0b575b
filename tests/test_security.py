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
]


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
