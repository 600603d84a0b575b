"""`standing classify` (the machine-readable contract) and server.sources, on real files.

The command runs as a real subprocess, the way scripts and independent checks call it.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from parsers.model import LABELS
from server import sources

FIXTURES = Path(__file__).parent / "fixtures" / "mail"
KEYS = {"id", "label", "confidence", "company", "role", "evidence", "expected_by"}
EVIDENCE_KEYS = {"rule", "label", "text", "start", "end", "explanation"}


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def run_classify(*args: str, cwd: Path) -> tuple[int, list[dict], str]:
    exe = shutil.which("standing")
    command = [exe] if exe else [sys.executable, "-m", "server.cli"]
    proc = subprocess.run([*command, "classify", *args], cwd=cwd, capture_output=True, timeout=120)
    lines = [json.loads(line) for line in proc.stdout.decode("utf-8").splitlines()]
    return proc.returncode, lines, proc.stderr.decode("utf-8", "replace")


def mbox_bytes(messages: list[bytes]) -> bytes:
    out = b""
    for number, raw in enumerate(messages):
        body = raw.replace(b"\r\n", b"\n")
        escaped = b"\n".join(b">" + line if line.lstrip(b">").startswith(b"From ") else line
                             for line in body.split(b"\n"))
        out += f"From 17{number:02d}@xxx Mon Apr 14 16:02:11 +0000 2025\n".encode() + escaped.rstrip(b"\n") + b"\n\n"
    return out


SHORT_ACK = (b"Message-ID: <ack-1@mapleridge.example>\nDate: Tue, 4 Mar 2025 09:00:00 +0000\n"
             b"From: Mapleridge Careers <careers@mapleridge.example>\nTo: me@example.com\n"
             b"Subject: We received your application\n\n"
             b"Thank you for applying for the Payroll Clerk position at Mapleridge.\n"
             b"From time to time we add new roles, so keep an eye on our site.\n\n"
             b"From the Mapleridge recruiting team\n")


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, Path]:
    eml_dir = tmp_path / "eml"
    eml_dir.mkdir()
    (eml_dir / "rejection.eml").write_bytes(fixture("gmail_html_rejection.eml"))
    (eml_dir / "empty.eml").write_bytes(b"")
    (eml_dir / "noise.eml").write_bytes(bytes(range(256)) * 8)
    mbox = tmp_path / "takeout.mbox"
    mbox.write_bytes(mbox_bytes([fixture("outlook_noncommittal.eml"), SHORT_ACK, fixture("cp1252_offer.eml")]))
    maildir = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (maildir / "cur" / "1741600000.M1P1.host:2,S").write_bytes(fixture("calendar_invite.eml"))
    (maildir / "new" / "1741600001.M2P1.host").write_bytes(fixture("forwarded_note.eml"))
    (maildir / "tmp" / "1741600002.M3P1.host").write_bytes(b"half-delivered")
    return {"eml": eml_dir, "mbox": mbox, "maildir": maildir, "root": tmp_path}


def test_classify_eml_mbox_maildir_with_broken_messages_among_good_ones(inputs):
    code, lines, stderr = run_classify(
        str(inputs["eml"] / "rejection.eml"), str(inputs["eml"] / "empty.eml"),
        str(inputs["eml"] / "noise.eml"), str(inputs["mbox"]), str(inputs["maildir"]),
        str(inputs["root"] / "missing.eml"), cwd=inputs["root"])
    assert code == 0, stderr
    assert stderr == ""  # no progress bar when stderr is not a terminal
    by_id = {line["id"]: line for line in lines}
    mbox = str(inputs["mbox"])
    assert list(by_id) == [
        str(inputs["eml"] / "rejection.eml"), str(inputs["eml"] / "empty.eml"), str(inputs["eml"] / "noise.eml"),
        f"{mbox}#1", f"{mbox}#2", f"{mbox}#3",
        str(inputs["maildir"] / "cur" / "1741600000.M1P1.host:2,S"),
        str(inputs["maildir"] / "new" / "1741600001.M2P1.host"),
        str(inputs["root"] / "missing.eml"),
    ]
    for line in lines:
        assert KEYS <= set(line)
        assert line["label"] in LABELS
        for evidence in line["evidence"]:
            assert set(evidence) == EVIDENCE_KEYS
    broken = [str(inputs["eml"] / "empty.eml"), str(inputs["eml"] / "noise.eml"), str(inputs["root"] / "missing.eml")]
    for ident in broken:
        assert by_id[ident]["label"] == "unrelated"
        assert by_id[ident]["error"].endswith(".")
    good = [line for line in lines if line["id"] not in broken]
    assert all("error" not in line for line in good)
    rejection = by_id[str(inputs["eml"] / "rejection.eml")]
    assert rejection["label"] == "rejected"
    assert rejection["evidence"] and rejection["evidence"][0]["label"] == "rejected"
    assert by_id[f"{mbox}#3"]["label"] == "offer"
    assert by_id[f"{mbox}#1"]["label"] == "noncommittal"
    # every label but unrelated carries evidence
    assert all(line["evidence"] for line in good if line["label"] != "unrelated")


def test_classify_jsonl_with_broken_lines(tmp_path):
    path = tmp_path / "mail.jsonl"
    rows = [
        json.dumps({"id": "a", "subject": "Your application to Fernhill Bakery",
                    "sender": "Fernhill Bakery <jobs@fernhill.example>", "date": "2025-03-03T10:00:00+00:00",
                    "body": "Hi Ada,\n\nUnfortunately we have decided not to move forward with your application "
                            "for the Pastry Chef position.\n\nKind regards,\nFernhill Bakery"}),
        "{not json",
        json.dumps(["a", "list"]),
        "",
        json.dumps({"id": "d", "subject": "Weekly deals", "sender": "deals@shop.example",
                    "date": "Mon, 3 Mar 2025 10:00:00 +0000", "body": "50% off garden furniture this week only."}),
        json.dumps({"id": "e", "subject": 3, "sender": "x@example.com", "body": "hi"}),
        json.dumps({"subject": "No id", "sender": "x@example.com", "date": "not a date", "body": "hello"}),
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    code, lines, stderr = run_classify("--jsonl", str(path), cwd=tmp_path)
    assert code == 0, stderr
    ids = [line["id"] for line in lines]
    assert ids == ["a", f"{path}#2", f"{path}#3", "d", "e", f"{path}#7"]
    by_id = {line["id"]: line for line in lines}
    assert by_id["a"]["label"] == "rejected" and "error" not in by_id["a"]
    assert by_id["d"]["label"] == "unrelated" and "error" not in by_id["d"]
    for ident in (f"{path}#2", f"{path}#3", "e"):
        assert by_id[ident]["label"] == "unrelated" and by_id[ident]["error"]
    assert "error" not in by_id[f"{path}#7"]


def test_classify_without_inputs_is_a_usage_error(tmp_path):
    code, lines, stderr = run_classify(cwd=tmp_path)
    assert code == 2 and lines == []
    assert "--jsonl" in stderr and "Traceback" not in stderr


def test_own_mail_is_unrelated(tmp_path):
    path = tmp_path / "own.eml"
    path.write_bytes(fixture("gmail_html_rejection.eml"))
    code, lines, _ = run_classify(str(path), "--user-address", "Oliver@Quillmark.example", cwd=tmp_path)
    assert code == 0 and lines[0]["label"] == "unrelated" and "error" not in lines[0]


# --- server.sources in process ------------------------------------------------------------

def test_mbox_split_only_on_separator_lines_and_unescapes(inputs):
    entries = list(sources.iter_raw_messages([inputs["mbox"]]))
    assert [e[0] for e in entries] == [f"{inputs['mbox']}#{n}" for n in (1, 2, 3)]
    ack = entries[1][1]
    # "From time to time" follows a non-blank line and was escaped; "From the ..." follows a blank
    # line, so the writer escaped it and the reader restores it
    assert b"\nFrom time to time" in ack and b"\nFrom the Mapleridge" in ack
    assert not ack.endswith(b"\n\n")
    assert all(error is None for _, _, error in entries)


def test_mbox_is_streamed(tmp_path):
    path = tmp_path / "big.mbox"
    message = b"From x@y Mon Jan  1 00:00:00 2025\nSubject: s\n\n" + b"line of body text\n" * 50 + b"\n"
    path.write_bytes(message * 2000)
    iterator = sources.iter_raw_messages([path])
    first = next(iterator)
    assert first[0].endswith("#1") and first[1].startswith(b"Subject: s")
    assert sum(1 for _ in iterator) == 1999


def test_folder_is_searched_recursively_and_maildir_tmp_is_skipped(inputs):
    ids = [ident for ident, _, _ in sources.iter_raw_messages([inputs["root"]])]
    assert any(ident.endswith("rejection.eml") for ident in ids)
    assert any(ident.endswith("takeout.mbox#3") for ident in ids)
    assert any("/cur/" in ident for ident in ids) and any("/new/" in ident for ident in ids)
    assert not any("/tmp/1741600002" in ident for ident in ids)


def test_unreadable_path_gives_an_error_entry_and_the_run_goes_on(tmp_path):
    good = tmp_path / "good.eml"
    good.write_bytes(SHORT_ACK)
    entries = list(sources.iter_raw_messages([tmp_path / "nope", good]))
    assert entries[0][1] is None and "no such file" in entries[0][2]
    assert entries[1] == (str(good), SHORT_ACK, None)


def test_iter_jsonl_dates(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps({"id": "1", "subject": "s", "sender": "A <a@x.example>",
                                "date": "2025-03-03T10:00:00Z", "body": "b"}) + "\n", encoding="utf-8")
    [(ident, found, error)] = list(sources.iter_jsonl(path))
    assert (ident, error) == ("1", None)
    assert found.date.isoformat() == "2025-03-03T10:00:00+00:00"
    assert (found.from_name, found.from_addr) == ("A", "a@x.example")
    assert sources.parse_date("Mon, 3 Mar 2025 10:00:00 +0100").utcoffset().total_seconds() == 3600
    assert sources.parse_date("2025-03-03").tzinfo is not None
    assert sources.parse_date("soon") is None


def test_eml_with_an_envelope_line_is_one_message_and_a_line_without_end_is_bounded(tmp_path):
    eml = tmp_path / "saved.eml"
    eml.write_bytes(b"From someone@example.com Mon Mar  3 10:00:00 2025\n" + SHORT_ACK)
    assert [e[0] for e in sources.iter_raw_messages([eml])] == [str(eml)]
    mbox = tmp_path / "odd.mbox"
    mbox.write_bytes(b"From a@b Mon Jan  1 00:00:00 2025\nSubject: x\n\n" + b"y" * 3_000_000
                     + b"From not-a-separator\n\nFrom a@b Tue Jan  2 00:00:00 2025\nSubject: z\n\nbody\n")
    entries = list(sources.iter_raw_messages([mbox]))
    assert [e[0].rsplit("#", 1)[1] for e in entries] == ["1", "2"]
    assert entries[0][1].endswith(b"From not-a-separator\n")
    assert entries[1][1] == b"Subject: z\n\nbody\n"
