"""Sync benchmark: a generated 20,000-message (~220 MB) mailbox on the test Dovecot.

Prints, from one run:
- baseline: raw imapclient BODY.PEEK[] of every message in batches of 500
- our first full sync (fetch, parse, classify, store, standings) in a subprocess: time,
  ratio to the baseline (target <= 0.75), peak RSS (<= 250 MB), bytes on the wire from
  Dovecot's own `out=` counters as a share of the mailbox (<= 8%)
- both in --rounds rounds (default 3), each on a fresh copy of the mailbox (cold server caches,
  as for a new account): the machines are shared and noisy, the median ratio is the figure
- prefilter recall on the generated employer mail (>= 0.99)
- a no-change resync (<= 0.2 s)
- the delay from an APPEND to the message in the store over IDLE (<= 3 s)

    python3 bench/sync.py [--messages 20000] [--rounds 3] [--results bench/RESULTS.md]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.dovecot import DovecotServer  # noqa: E402

NOW = datetime.now(timezone.utc)
ME = "me@example.org"
WORDS = ("the quick update about our plans for next quarter and how the team will handle "
         "shipping schedules invoices travel dinner garden weekend photos project meeting "
         "notes review budget coffee soon thanks again let me know what you think").split()

COMPANIES = ["Harbourline", "Quillstone", "Brightmoor", "Tesselate", "Oakhaven", "Northgate",
             "Cinderpath", "Lumenfield", "Marrowby", "Starling Works", "Pebblecrest", "Veldt Labs"]
ROLES = ["Data Analyst", "Backend Engineer", "Product Designer", "Support Lead", "Account Manager",
         "QA Engineer", "Operations Coordinator", "Site Reliability Engineer"]
ATS = ["no-reply@greenhouse.io", "no-reply@hire.lever.co", "notification@jobvite.com",
       "noreply@workablemail.com", "{slug}@myworkday.com", "no-reply@ashbyhq.com"]
EMPLOYER_TEXT = [
    "Thank you for applying for the {role} position at {co}. Our hiring team is reviewing "
    "applications and will contact you if your background matches what we need.",
    "Thanks for your time speaking with us about the {role} role. After careful thought we have "
    "decided to continue with other candidates whose experience is closer to our needs.",
    "We enjoyed your first conversation and would like to invite you to a panel interview for "
    "the {role} role. Could you share a few times that work for you next week?",
    "A quick update on the {role} search: we are still meeting a few more people and expect to "
    "have news for you in the next couple of weeks. Thanks for your patience.",
    "I'm delighted to offer you the {role} position at {co}. The offer letter is attached; "
    "please let us know if you have any questions before signing.",
    "We'd like you to complete a short take-home exercise for the {role} role. It should take "
    "about two hours; please send it back by Friday.",
]
EMPLOYER_SUBJECT = ["Your application to {co}", "{role} – update", "Interview invitation: {role}",
                    "Next steps for the {role} role", "Offer – {role} at {co}",
                    "{co}: {role} exercise"]


def _words(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _msg(headers: list[tuple[str, str]], body: bytes, content_type: str) -> bytes:
    head = "".join(f"{k}: {v}\r\n" for k, v in headers)
    return (head + f"MIME-Version: 1.0\r\nContent-Type: {content_type}\r\n\r\n").encode() + body


def _attachment_mail(headers, text: str, rng, size: int) -> bytes:
    import base64
    blob = base64.encodebytes(rng.randbytes(size))
    body = (b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text.encode() +
            b"\r\n--b1\r\nContent-Type: application/pdf; name=file.pdf\r\n"
            b"Content-Disposition: attachment; filename=file.pdf\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n" + blob + b"\r\n--b1--\r\n")
    return _msg(headers, body, 'multipart/mixed; boundary="b1"')


def generate(n: int, seed: int = 7):
    """[(folder, raw, date, kind, message_id)] with ~5% employer mail."""
    rng = random.Random(seed)
    out = []
    sent_ids = []
    for i in range(n):
        when = NOW - timedelta(days=rng.uniform(1, 330), minutes=rng.randint(0, 1440))
        mid = f"<gen-{i}@bench.example>"
        base = [("Date", format_datetime(when)), ("Message-ID", mid), ("To", ME)]
        r = rng.random()
        if r < 0.05:  # employer
            co, role = rng.choice(COMPANIES), rng.choice(ROLES)
            k = rng.randrange(len(EMPLOYER_TEXT))
            slug = co.lower().replace(" ", "")
            if rng.random() < 0.5:
                sender = f"{co} <{rng.choice(ATS).format(slug=slug)}>"
            else:
                sender = f"{rng.choice(['Maya', 'Tom', 'Iris', 'Raj'])} Person <talent@{slug}.example>"
            headers = base + [("From", sender),
                              ("Subject", EMPLOYER_SUBJECT[k].format(co=co, role=role))]
            if sent_ids and rng.random() < 0.3:
                parent = rng.choice(sent_ids)
                headers += [("In-Reply-To", parent), ("References", parent)]
            text = f"Hi,\r\n\r\n{EMPLOYER_TEXT[k].format(co=co, role=role)}\r\n\r\nBest,\r\n{co} Recruiting\r\n"
            raw = (_attachment_mail(headers, text, rng, 120_000) if k == 4 else
                   _msg(headers, text.encode(), "text/plain; charset=utf-8"))
            out.append(("INBOX", raw, when, "employer", mid))
        elif r < 0.07:  # the user's own mail
            co = rng.choice(COMPANIES)
            headers = [("Date", format_datetime(when)), ("Message-ID", mid), ("From", f"Me <{ME}>"),
                       ("To", f"talent@{co.lower().replace(' ', '')}.example"),
                       ("Subject", "Following up on my application")]
            raw = _msg(headers, (_words(rng, 80) + "\r\n").encode(), "text/plain; charset=utf-8")
            sent_ids.append(mid)
            out.append(("Sent", raw, when, "own", mid))
        elif r < 0.47:  # newsletters and marketing: HTML, list headers
            shop = rng.choice(["dailybrief", "shoply", "gadgetnews", "recipebox", "travelnow"])
            html = ("<html><body>" + "".join(
                f"<table><tr><td style='padding:8px;font-family:Arial'><h2>{_words(rng, 6)}</h2>"
                f"<p>{_words(rng, 60)}</p><a href='https://{shop}.example/x/{j}'>Read more</a>"
                f"</td></tr></table>" for j in range(rng.randint(4, 12))) + "</body></html>").encode()
            headers = base + [("From", f"{shop.title()} <news@{shop}.example>"),
                              ("Subject", _words(rng, 7).capitalize()),
                              ("List-Unsubscribe", f"<https://{shop}.example/unsub>"),
                              ("List-Id", f"<weekly.{shop}.example>")]
            out.append(("INBOX", _msg(headers, html, "text/html; charset=utf-8"), when, "bulk", mid))
        elif r < 0.77:  # notifications: receipts, alerts, social
            svc = rng.choice(["bank", "cloudhost", "socialnet", "delivery", "calendarapp"])
            html = ("<html><body><div>" + f"<p>{_words(rng, 120)}</p>" * rng.randint(3, 8)
                    + "</div></body></html>").encode()
            headers = base + [("From", f"{svc.title()} <noreply@{svc}.example>"),
                              ("Subject", f"Your {svc} notification {_words(rng, 3)}")]
            if rng.random() < 0.7:
                headers.append(("List-Unsubscribe", f"<mailto:unsub@{svc}.example>"))
            out.append(("INBOX", _msg(headers, html, "text/html; charset=utf-8"), when, "notice", mid))
        else:  # personal mail, some with photos/documents attached
            friend = rng.choice(["alex", "sam", "jo", "kim", "lee", "pat"])
            headers = base + [("From", f"{friend.title()} <{friend}{rng.randint(1, 40)}@gmail.com>"),
                              ("Subject", _words(rng, 4).capitalize())]
            text = _words(rng, rng.randint(40, 160)) + "\r\n"
            if rng.random() < 0.08:
                raw = _attachment_mail(headers, text, rng, rng.randint(100_000, 350_000))
            else:
                raw = _msg(headers, text.encode(), "text/plain; charset=utf-8")
            out.append(("INBOX", raw, when, "personal", mid))
    return out


CHILD = r"""
import json, os, resource, sys, time
from datetime import datetime, timezone
sys.path.insert(0, {repo!r})
from server.store import Store
from server import sync
store = Store.open({db!r})
profile = {profile!r}
if profile:
    import cProfile
    prof = cProfile.Profile()
    prof.enable()
t = time.perf_counter()
result = sync.sync_all(store, batch_size=500)
apps = store.standings(datetime.now(timezone.utc))
first = time.perf_counter() - t
if profile:
    prof.disable()
    prof.dump_stats(profile)
t = time.perf_counter()
again = sync.sync_all(store)
resync = time.perf_counter() - t
hwm = 0
for line in open("/proc/self/status"):
    if line.startswith("VmHWM"):
        hwm = int(line.split()[1]) * 1024
readers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # reader processes' peak
print(json.dumps({{"first": first, "resync": resync, "apps": len(apps), "seen": result.seen,
                  "candidates": result.candidates, "stored": result.stored,
                  "errors": result.errors, "payload": result.bytes_fetched,
                  "again_seen": again.seen, "hwm": hwm, "readers": readers}}))
"""


def _out_bytes(log: str, user: str) -> int:
    return sum(int(m.group(1)) for m in re.finditer(
        rf"imap\({re.escape(user)}\).*?Disconnected:.*? out=(\d+)", log))


def _round(server, root: Path, mail, profile: str | None = None) -> dict:
    """A fresh mail user holding `mail`; the baseline fetch of all of it, then our first full sync
    of it in a child process (peak RSS of the sync alone)."""
    from imapclient import IMAPClient

    from server import accounts
    from server.store import Store
    user, password = server.add_user()
    for folder in ("INBOX", "Sent"):
        server.write_maildir(user, folder, [(raw, when) for f, raw, when, _, _ in mail if f == folder])
    # Baseline: every message's full bytes with imapclient, batches of 500.
    client = IMAPClient(server.host, server.port, ssl=False, timeout=120)
    client.login(user, password)
    baseline = 0.0
    for folder in ("INBOX", "Sent"):
        client.select_folder(folder, readonly=True)
        uids = client.search("ALL")
        t = time.perf_counter()
        for i in range(0, len(uids), 500):
            client.fetch(uids[i:i + 500], ["BODY.PEEK[]"])
        baseline += time.perf_counter() - t
    client.logout()
    data = root / "data"
    data.mkdir(parents=True)
    env = {**os.environ, "STANDING_DATA_DIR": str(data), "STANDING_KEYRING": "0"}
    os.environ.update({"STANDING_DATA_DIR": str(data), "STANDING_KEYRING": "0"})
    with Store.open(data / "standing.sqlite3") as store:
        accounts.add_account(store, email=user, secret=password, host="127.0.0.1",
                             port=server.port, security="plain")
    log_from = server.log_offset()
    code = CHILD.format(repo=str(REPO), db=str(data / "standing.sqlite3"), profile=profile)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=1800)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    child = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"baseline": baseline, "child": child, "data": data, "user": user, "password": password,
            "wire": _out_bytes(server.log_since(log_from), user)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3,
                        help="fresh mailboxes, each with its own baseline and sync; the median ratio is the figure")
    parser.add_argument("--results", default=None, help="append a '## Sync' section here")
    parser.add_argument("--profile", default=None, help="write cProfile stats of the first sync here")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="standing-bench-sync-"))
    os.chmod(root, 0o755)  # the auth process (user dovecot) must reach the passwd file
    server = DovecotServer.start(root / "dovecot")
    try:
        t = time.perf_counter()
        mail = generate(args.messages)
        total_bytes = sum(len(m[1]) for m in mail)
        employer_ids = {m[4] for m in mail if m[3] == "employer"}
        print(f"generated {len(mail)} messages, {total_bytes / 1e6:.0f} MB, "
              f"{len(employer_ids)} employer, in {time.perf_counter() - t:.1f} s")
        sys.path.insert(0, str(REPO))
        rounds = []
        for n in range(args.rounds):
            rounds.append(_round(server, root / f"round{n}", mail, args.profile if n == 0 else None))
            r = rounds[-1]
            print(f"round {n + 1}: baseline {r['baseline']:.2f} s, first full sync {r['child']['first']:.2f} s "
                  f"= {r['child']['first'] / r['baseline']:.2f}x", flush=True)
        last = rounds[-1]
        child, baseline, data, user, password = (last["child"], last["baseline"], last["data"],
                                                 last["user"], last["password"])
        wire = last["wire"]
        from server import sync
        from server.store import Store
        with Store.open(data / "standing.sqlite3") as store:
            found = sum(1 for mid in employer_ids if store.has_message_id(mid))
        recall = found / len(employer_ids)

        # New mail over IDLE: APPEND, then time until it is in the store.
        service = sync.SyncService(data / "standing.sqlite3").start()
        service.first_sync_done.wait(120)
        time.sleep(1.0)  # let the IDLE thread enter IDLE
        raw = (f"From: Ana Reyes <ana@harbourline.example>\r\nTo: {ME}\r\n"
               f"Subject: Interview invitation – Data Analyst\r\nMessage-ID: <idle-bench@x>\r\n"
               f"Date: {format_datetime(datetime.now(timezone.utc))}\r\n\r\n"
               "We would like to invite you to a second interview next week.\r\n").encode()
        with Store.open(data / "standing.sqlite3") as reader:
            t = time.perf_counter()
            server.append(user, password, "INBOX", raw)
            idle_delay = None
            while time.perf_counter() - t < 60:
                if reader.has_message_id("<idle-bench@x>"):
                    idle_delay = time.perf_counter() - t
                    break
                time.sleep(0.05)
        service.stop()

        ratios = sorted(r["child"]["first"] / r["baseline"] for r in rounds)
        share = wire / total_bytes
        per_round = "; ".join(f"{r['child']['first']:.2f} s / {r['baseline']:.2f} s" for r in rounds)
        lines = [
            f"- mailbox: {len(mail)} messages, {total_bytes / 1e6:.0f} MB, {len(employer_ids)} employer",
            f"- {len(rounds)} rounds, each a fresh copy of the mailbox: the raw imapclient BODY.PEEK[] fetch "
            f"of every message (batches of 500), then our first full sync (fetch, parse, classify, store, "
            f"standings): {per_round}",
            f"- first full sync / baseline: median {statistics.median(ratios):.2f}x "
            f"(rounds {', '.join(f'{x:.2f}' for x in ratios)}) (target <= 0.75x)",
            f"- bytes sent by Dovecot during the sync (its `out=` counters): {wire / 1e6:.1f} MB "
            f"= {share:.1%} of the mailbox (target <= 8%); payload {child['payload'] / 1e6:.1f} MB",
            f"- headers read {child['seen']}, bodies fetched {child['candidates']}, "
            f"stored {child['stored']}, errors {child['errors']}, applications {child['apps']}",
            f"- prefilter recall on employer mail: {recall:.3f} ({found}/{len(employer_ids)}) (target >= 0.99)",
            f"- peak RSS of the sync process (VmHWM): {child['hwm'] / 1e6:.0f} MB, + reader process "
            f"{child['readers'] / 1e6:.0f} MB = {(child['hwm'] + child['readers']) / 1e6:.0f} MB (target <= 250 MB)",
            f"- no-change resync: {child['resync']:.3f} s (target <= 0.2 s)",
            f"- APPEND to stored over IDLE: "
            + (f"{idle_delay:.2f} s" if idle_delay is not None else "not seen in 60 s")
            + " (target <= 3 s)",
        ]
        print("\n".join(lines))
        if args.results:
            with open(args.results, "a") as fh:
                fh.write("\n## Sync\n\n`python3 bench/sync.py` on this machine (2 shared cores), "
                         f"{datetime.now(timezone.utc):%Y-%m-%d}:\n\n" + "\n".join(lines) + "\n")
        return 0
    finally:
        server.stop()
        import shutil
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
