"""The JSON API through the Flask test client: a fresh data dir per test, a real pairing.

The mailbox is seeded with Readings built by hand (not through the classifier), so these
tests pin the API's behaviour, not the rules' current wording.
"""
from __future__ import annotations

import json
import logging
from datetime import date, datetime, timezone

import pytest

from parsers.model import Email, Employer, Evidence, Reading, Reply, Verdict
from server.store import Store
from tests.support.dovecot import dovecot  # noqa: F401
from tests.support.serve import app, client, close_app, make_app, new_code, paired  # noqa: F401

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=timezone.utc)
ME = "sam.rivers@example.net"


def reading(mid, *, sender, when, label, text, company, role, subject, phrase=None,
            in_reply_to=None, expected_by=None) -> Reading:
    name, _, addr = sender.partition("|")
    evidence = ()
    if phrase:
        start = text.index(phrase)
        evidence = (Evidence(rule=f"test.{label}", label=label, text=phrase, start=start,
                             end=start + len(phrase), explanation=f"A test phrase for {label}."),)
    email = Email(message_id=mid, in_reply_to=in_reply_to, references=(in_reply_to,) if in_reply_to else (),
                  from_name=name, from_addr=addr, to=(ME,), date=when, subject=subject, text=text)
    return Reading(email=email, reply=Reply(text=text), verdict=Verdict(label=label, confidence=0.9,
                   evidence=evidence), employer=Employer(company=company, role=role), expected_by=expected_by)


def day(n: int) -> datetime:
    return datetime(2026, 3, n, 9, 30, tzinfo=timezone.utc)


SEED = [
    # Northwind: received, then a hedge -> amber
    reading("<nw-1@northwind.example>", sender="Northwind Talent|jobs@northwind.example", when=day(1),
            label="acknowledgement", company="Northwind Traders", role="Data Analyst",
            subject="Your application to Northwind Traders",
            text="Thanks for applying for the Data Analyst role. Our team has received your application.",
            phrase="has received your application"),
    reading("<nw-2@northwind.example>", sender="Priya Nandakumar|priya@northwind.example", when=day(12),
            label="noncommittal", company="Northwind Traders", role="Data Analyst", in_reply_to="<nw-1@northwind.example>",
            subject="Re: Your application to Northwind Traders",
            text="Thanks for your time on Tuesday. We still have a handful of people to talk to before we settle anything.",
            phrase="We still have a handful of people to talk to"),
    # Fabrikam: a next-round invite -> green
    reading("<fb-1@fabrikam.example>", sender="Leo Marsh|leo@fabrikam.example", when=day(15),
            label="advancing", company="Fabrikam", role="Backend Engineer",
            subject="Next steps: Backend Engineer",
            text="We enjoyed the first call and would like to invite you to the technical round next week.",
            phrase="would like to invite you to the technical round"),
    # Contoso: a decision against -> red
    reading("<ct-1@contoso.example>", sender="Contoso Recruiting|careers@contoso.example", when=day(8),
            label="rejected", company="Contoso", role="Product Designer",
            subject="Product Designer at Contoso",
            text="After careful review we have decided to go ahead with other applicants for this position.",
            phrase="decided to go ahead with other applicants"),
    # Tailspin: received only -> grey
    reading("<ts-1@tailspin.example>", sender="Tailspin Toys Hiring|hiring@tailspin.example", when=day(17),
            label="acknowledgement", company="Tailspin Toys", role="QA Engineer",
            subject="Application received: QA Engineer",
            text="This note confirms that we got your application for QA Engineer.",
            phrase="we got your application"),
]
FLAG_ORDER = {"amber": 0, "green": 1, "grey": 2, "red": 3}


def seed(data_dir, *, now_meta: str | None = None) -> None:
    with Store.open(data_dir / "standing.sqlite3") as store:
        for item in SEED:
            store.ingest(item)
        if now_meta:
            store.set_meta("now", now_meta)
        store.refresh()


@pytest.fixture
def seeded(data_dir):
    """A paired client over the seeded mailbox, with a fixed "now"."""
    seed(data_dir)
    application = make_app(data_dir, NOW=NOW)
    test_client = application.test_client()
    response = test_client.post("/api/pair", json={"code": new_code(data_dir)})
    test_client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {response.get_json()['token']}"
    yield test_client
    close_app(application)


def by_company(apps) -> dict:
    return {a["company"]: a for a in apps}


def listing(test_client, query: str = "") -> list[dict]:
    response = test_client.get(f"/api/applications{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["applications"]


# --- health and pairing ------------------------------------------------------------------------

def test_health_needs_no_token(client):
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.get_json() == {"ok": True, "version": "0.1.0"}


def test_pairing_code_buys_a_token_that_opens_the_api(client, data_dir):
    assert client.get("/api/sync").status_code == 401
    token = client.post("/api/pair", json={"code": new_code(data_dir)}).get_json()["token"]
    assert len(token) >= 43  # token_urlsafe(32): 256 bits
    response = client.get("/api/sync", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert set(response.get_json()) == {"state", "phase", "done", "total", "last_synced", "error"}


def test_pairing_code_is_forgiving_about_case_and_dashes(client, data_dir):
    code = new_code(data_dir)
    typed = f"{code[:4].lower()}-{code[4:]}"
    assert client.post("/api/pair", json={"code": typed}).status_code == 200


def test_secrets_are_stored_hashed(paired, data_dir):
    dump = "\n".join((data_dir / "standing.sqlite3").read_bytes().decode("latin-1").splitlines())
    assert paired.token not in dump
    code = new_code(data_dir)
    dump = (data_dir / "standing.sqlite3").read_bytes().decode("latin-1")
    wal = data_dir / "standing.sqlite3-wal"
    if wal.exists():
        dump += wal.read_bytes().decode("latin-1")
    assert code not in dump and paired.token not in dump


# --- applications ------------------------------------------------------------------------------

def test_applications_are_sorted_by_attention_with_every_field(seeded):
    response = seeded.get("/api/applications")
    body = response.get_json()
    assert response.status_code == 200
    apps = body["applications"]
    assert [a["company"] for a in apps][0] == "Northwind Traders"
    flags = {a["company"]: a["flag"] for a in apps}
    assert flags == {"Northwind Traders": "amber", "Fabrikam": "green", "Tailspin Toys": "grey", "Contoso": "red"}
    assert [FLAG_ORDER[a["flag"]] for a in apps] == sorted(FLAG_ORDER[a["flag"]] for a in apps)
    for item in apps:
        assert {"id", "company", "role", "flag", "status", "reason", "evidence", "expected_by",
                "days_silent", "question", "last_contact", "trend"} <= set(item)
    northwind = by_company(apps)["Northwind Traders"]
    assert northwind["evidence"]["text"] == "We still have a handful of people to talk to"
    assert northwind["evidence"]["message_id"] == "<nw-2@northwind.example>"
    assert northwind["question"]
    assert set(body["sync"]) == {"state", "done", "total", "last_synced"}


@pytest.mark.parametrize("query, companies", [
    ("?flag=amber", {"Northwind Traders"}),
    ("?flag=red", {"Contoso"}),
    ("?flag=green&flag=red", {"Fabrikam"}),  # the first value counts
    ("?q=fabri", {"Fabrikam"}),
    ("?q=QA%20ENGINEER", {"Tailspin Toys"}),
    ("?q=handful%20of%20people", {"Northwind Traders"}),  # the evidence quote is searched too
    ("?q=nobody-has-this", set()),
])
def test_filters(seeded, query, companies):
    assert {a["company"] for a in listing(seeded, query)} == companies


def test_status_filter_matches_the_status_field(seeded):
    apps = listing(seeded)
    status = by_company(apps)["Contoso"]["status"]
    assert {a["company"] for a in listing(seeded, f"?status={status}")} == {
        a["company"] for a in apps if a["status"] == status}


@pytest.mark.parametrize("query", ["?flag=purple", "?archived=maybe", "?q=" + "x" * 300, "?status="])
def test_bad_filters_are_a_400_sentence(seeded, query):
    response = seeded.get(f"/api/applications{query}")
    assert response.status_code == 400
    assert response.get_json()["error"].endswith(".")


def test_application_detail_has_the_timeline(seeded):
    northwind = by_company(listing(seeded))["Northwind Traders"]
    response = seeded.get(f"/api/applications/{northwind['id']}")
    assert response.status_code == 200
    detail = response.get_json()["application"]
    assert detail["id"] == northwind["id"] and detail["flag"] == "amber"
    timeline = detail["timeline"]
    assert [m["message_id"] for m in timeline] == ["<nw-1@northwind.example>", "<nw-2@northwind.example>"]
    assert [m["label"] for m in timeline] == ["acknowledgement", "noncommittal"]
    assert all(m["direction"] == "in" for m in timeline)
    assert timeline[1]["evidence"][0]["text"] == "We still have a handful of people to talk to"


def test_unknown_application_is_a_404_sentence(seeded):
    response = seeded.get("/api/applications/does-not-exist")
    assert response.status_code == 404
    assert response.get_json() == {"error": "There is no application with that id."}


def test_demo_database_now_comes_from_meta(data_dir):
    seed(data_dir, now_meta="2026-03-20T12:00:00+00:00")
    application = make_app(data_dir)
    try:
        test_client = application.test_client()
        token = test_client.post("/api/pair", json={"code": new_code(data_dir)}).get_json()["token"]
        apps = test_client.get("/api/applications", headers={"Authorization": f"Bearer {token}"}).get_json()
        fabrikam = by_company(apps["applications"])["Fabrikam"]
        assert fabrikam["days_silent"] == 5  # 15 March -> 20 March, not days until the real clock
    finally:
        close_app(application)


# --- corrections -------------------------------------------------------------------------------

def correct(test_client, **payload):
    return test_client.post("/api/corrections", json=payload)


def test_archive_and_unarchive(seeded):
    contoso = by_company(listing(seeded))["Contoso"]
    response = correct(seeded, kind="archive", application_id=contoso["id"])
    assert response.status_code == 200 and response.get_json()["ok"] is True
    assert "Contoso" not in by_company(listing(seeded))
    archived = by_company(listing(seeded, "?archived=1"))["Contoso"]
    assert archived["archived"] is True
    assert correct(seeded, kind="unarchive", application_id=contoso["id"]).status_code == 200
    assert "Contoso" in by_company(listing(seeded))


def test_label_correction_changes_the_standing(seeded):
    response = correct(seeded, kind="label", message_id="<nw-2@northwind.example>", label="advancing")
    assert response.status_code == 200
    assert response.get_json()["correction"]["label"] == "advancing"
    assert by_company(listing(seeded))["Northwind Traders"]["flag"] == "green"


def test_not_job_removes_an_application(seeded):
    assert correct(seeded, kind="not_job", message_id="<ts-1@tailspin.example>").status_code == 200
    assert "Tailspin Toys" not in by_company(listing(seeded))


def test_company_role_correction(seeded):
    fabrikam = by_company(listing(seeded))["Fabrikam"]
    response = correct(seeded, kind="company_role", application_id=fabrikam["id"],
                       company="Fabrikam Labs", role="Platform Engineer")
    assert response.status_code == 200
    renamed = by_company(listing(seeded))["Fabrikam Labs"]
    assert renamed["role"] == "Platform Engineer"


def test_merge(seeded):
    apps = by_company(listing(seeded))
    response = correct(seeded, kind="merge", application_id=apps["Tailspin Toys"]["id"],
                       other_application_id=apps["Fabrikam"]["id"])
    assert response.status_code == 200
    after = listing(seeded)
    assert len(after) == len(apps) - 1
    assert "Fabrikam" not in by_company(after)


def test_split(seeded):
    count = len(listing(seeded))
    assert correct(seeded, kind="split", message_id="<nw-2@northwind.example>").status_code == 200
    assert len(listing(seeded)) == count + 1


@pytest.mark.parametrize("payload, status", [
    ({"kind": "bogus"}, 400),
    ({}, 400),
    ({"kind": "label", "message_id": "<nw-2@northwind.example>", "label": "maybe"}, 400),
    ({"kind": "label", "label": "offer"}, 400),
    ({"kind": "label", "message_id": 42, "label": "offer"}, 400),
    ({"kind": "label", "message_id": "<nobody@nowhere>", "label": "offer"}, 404),
    ({"kind": "not_job", "message_id": "x" * 600}, 400),
    ({"kind": "company_role", "company": "Acme", "role": "Tester"}, 400),
    ({"kind": "company_role", "application_id": "a", "message_id": "b", "company": "A", "role": "B"}, 400),
    ({"kind": "merge", "application_id": "same", "other_application_id": "same"}, 400),
    ({"kind": "merge", "application_id": "nope", "other_application_id": "other"}, 404),
    ({"kind": "archive"}, 400),
    ({"kind": "archive", "application_id": "missing"}, 404),
])
def test_invalid_corrections_are_refused_in_words(seeded, payload, status):
    response = correct(seeded, **payload)
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"].endswith(".")


# --- accounts and sync -------------------------------------------------------------------------

def test_sync_status_and_no_service(paired):
    status = paired.get("/api/sync").get_json()
    assert status["state"] == "idle"
    response = paired.post("/api/sync")
    assert response.status_code == 409
    assert "standing serve" in response.get_json()["error"]


def test_demo_refuses_accounts_and_sync(data_dir):
    application = make_app(data_dir, DEMO=True)
    try:
        test_client = application.test_client()
        token = test_client.post("/api/pair", json={"code": new_code(data_dir)}).get_json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert test_client.post("/api/sync", headers=headers).status_code == 400
        response = test_client.post("/api/accounts", headers=headers,
                                    json={"email": "a@example.com", "password": "pw"})
        assert response.status_code == 400 and "demo" in response.get_json()["error"]
    finally:
        close_app(application)


@pytest.mark.parametrize("payload", [
    {"password": "app-password"},
    {"email": "sam@example.com"},
    {"email": "sam@example.com", "password": "a", "oauth_token": "b"},
    {"email": "sam@example.com", "password": "a", "port": "993"},
    {"email": "sam@example.com", "password": "a", "port": 70000},
    {"email": "sam@example.com", "password": "a", "security": "ssl3"},
    {"email": ["sam@example.com"], "password": "a"},
])
def test_account_form_is_validated(paired, payload):
    response = paired.post("/api/accounts", json=payload)
    assert response.status_code == 400
    assert response.get_json()["error"].endswith(".")


def test_accounts_list_and_delete_unknown(paired):
    assert paired.get("/api/accounts").get_json() == {"accounts": []}
    response = paired.delete("/api/accounts/999")
    assert response.status_code == 404
    assert paired.delete("/api/accounts/not-a-number").status_code == 404


def test_preset_lookup(paired):
    preset = paired.get("/api/accounts/preset?email=someone@gmail.com").get_json()["preset"]
    assert preset["host"] == "imap.gmail.com" and preset["port"] == 993
    assert preset["help_url"].startswith("https://")
    assert paired.get("/api/accounts/preset?email=me@unknown-domain.example").get_json() == {"preset": None}
    assert paired.get("/api/accounts/preset").status_code == 400


def test_failed_account_never_echoes_or_logs_the_password(paired, caplog):
    import socket

    with socket.socket() as sock:  # a port nothing listens on: the connection is refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    secret = "correct-horse-battery-staple-0451"
    with caplog.at_level(logging.DEBUG):
        response = paired.post("/api/accounts", json={
            "email": "sam@example.org", "password": secret, "host": "127.0.0.1", "port": port,
            "security": "plain"})
    assert response.status_code == 400
    assert secret not in response.get_data(as_text=True)
    assert secret not in caplog.text
    assert paired.get("/api/accounts").get_json() == {"accounts": []}


@pytest.mark.parametrize("field, secret, words", [
    ("password", "first-half\r\nA2 SELECT INBOX\r\nA3 EXPUNGE", "line breaks"),  # IMAP command injection
    ("password", "only-a-trailing-newline\n", "line breaks"),
    ("oauth_token", "ya29.token with-a-space", "control characters"),
    ("oauth_token", "ya29.token\x01auth=Bearer other", "control characters"),  # SASL field injection
])
def test_secrets_that_could_smuggle_protocol_are_refused_before_connecting(paired, field, secret, words):
    import socket

    with socket.socket() as listener:  # a server that would see any connection attempt
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.setblocking(False)
        response = paired.post("/api/accounts", json={
            "email": "sam@example.org", field: secret, "host": "127.0.0.1",
            "port": listener.getsockname()[1], "security": "plain"})
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected
    assert response.status_code == 400
    sentence = response.get_json()["error"]
    assert words in sentence and secret not in sentence and "first-half" not in sentence


def test_huge_account_id_is_a_404(paired):
    response = paired.delete("/api/accounts/" + "9" * 30)
    assert response.status_code == 404
    assert response.get_json() == {"error": "There is no account with that id."}


def test_lone_surrogates_are_a_400_not_a_500(paired):
    for body in ('{"kind": "archive", "application_id": "\\ud800"}',
                 '{"kind": "company_role", "message_id": "<a@b>", "company": "x\\udc00", "role": "r"}'):
        response = paired.post("/api/corrections", data=body, content_type="application/json")
        assert response.status_code == 400, response.get_data()
        assert "surrogate" in response.get_json()["error"]


def test_openapi_document_is_json(app):
    from server import api

    path = api.openapi_path()
    assert json.loads(path.read_text())["openapi"].startswith("3.1")


def test_date_fields_are_iso(seeded):
    for item in listing(seeded):
        if item["last_contact"]:
            datetime.fromisoformat(item["last_contact"])
        if item["expected_by"]:
            date.fromisoformat(item["expected_by"])


def test_list_sees_a_write_from_another_connection(seeded, data_dir):
    before = listing(seeded)
    with Store.open(data_dir / "standing.sqlite3") as other:  # e.g. the sync thread
        other.ingest(reading("<wg-1@wingtip.example>", sender="Wingtip Hiring|hr@wingtip.example", when=day(18),
                             label="offer", company="Wingtip", role="Analyst", subject="Offer: Analyst",
                             text="We are delighted to offer you the Analyst position.", phrase="offer you"))
        other.refresh()
    after = by_company(listing(seeded))
    assert len(after) == len(before) + 1 and after["Wingtip"]["flag"] == "green"


def test_account_round_trip_on_a_real_imap_server(paired, dovecot):
    response = paired.post("/api/accounts", json={
        "email": dovecot.user, "password": dovecot.password, "host": dovecot.host, "port": dovecot.port,
        "security": "plain"})
    assert response.status_code == 201, response.get_json()
    account = response.get_json()["account"]
    assert account["email"] == dovecot.user and dovecot.password not in response.get_data(as_text=True)
    listed = paired.get("/api/accounts").get_json()["accounts"]
    assert [a["id"] for a in listed] == [account["id"]]
    assert dovecot.password not in json.dumps(listed)
    assert paired.delete(f"/api/accounts/{account['id']}").get_json() == {"ok": True}
    assert paired.get("/api/accounts").get_json() == {"accounts": []}
