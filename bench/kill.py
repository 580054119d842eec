#!/usr/bin/env python3
"""kill -9 of `norreg serve` at random points while it takes producer writes, mailbox uploads and
confirms; then every answered write must be in the register exactly once. Used by bench/kill.sh.

Usage: python3 bench/kill.py NORREG_BINARY WORK_DIR KILLS [PORT] [POSTGRESQL_URL]

Each round starts the server on the same data folder (SQLite), lets three clients write at once
for a random 50-600 ms, and kills the server with SIGKILL (no shutdown of any kind). With a
PostgreSQL URL the server uses that database (--db) and runs throughout; each round instead cuts
every connection it has to the database (pg_terminate_backend) and lets it reconnect. The clients
note what was answered 200:
  - producer writes (POST /norreg/register/v1/personer): a person document whose current
    fornavn is KILL<i>, and the sisteSekvensnummer answered;
  - uploads (POST /inbound/upload): Melding id a<j in hex> and the mottakId answered;
  - confirms (PUT /outbound/confirm) of replies published before the first round.
After the last round the server starts once more and the checks run: every answered write's name
is in its person's history exactly once (an unanswered one at most once); the answered
sekvensnumre are distinct, each names its own event, and the feed runs 1..latest without a gap
or a repeat; every answered upload is stored once under its mottakId with exactly one receipt;
every answered confirm is confirmed. Prints one Markdown table; exits 1 when a check fails.
"""
import atexit
import http.client
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time

BIN, WORK, KILLS = sys.argv[1], sys.argv[2], int(sys.argv[3])
PORT = int(sys.argv[4]) if len(sys.argv) > 4 else 18731
DB = sys.argv[5] if len(sys.argv) > 5 else ""
DATA = os.path.join(WORK, "data")
API = "/folkeregisteret/offentlig-med-hjemmel/api/v1"
ORG = "310000019"
BOUNDARY = "killbench7d1f"
PERSONS = 100


SERVERS = []


def stop_servers():
    for proc in SERVERS:
        if proc.poll() is None:
            proc.kill()


atexit.register(stop_servers)


def serve():
    log = open(os.path.join(WORK, "server.log"), "ab")
    proc = subprocess.Popen(
        [BIN, "serve", "--data", DATA, "--listen", f"127.0.0.1:{PORT}", "--demo-persons",
         str(PERSONS), "--token-lifetime", "86400", "--rate-limit", "100000000",
         "--mottak-retention", "100000", "--access-log", "false", "--log-level", "warn"] +
        (["--db", DB] if DB else []),
        stdout=log, stderr=log)
    SERVERS.append(proc)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
            c.request("GET", "/health/ready")
            if c.getresponse().status == 200:
                return proc
        except OSError:
            pass
        if proc.poll() is not None:
            sys.exit(f"norreg serve exited with {proc.returncode}; see {WORK}/server.log")
        time.sleep(0.02)
    sys.exit("norreg serve did not get ready")


def psql(sql):
    out = subprocess.run(["psql", "-X", "-A", "-t", "-q", DB, "-c", sql], check=True,
                         capture_output=True, text=True).stdout
    return [line.split("|") for line in out.splitlines() if line]


def cut_connections():
    """Every connection of the database but this one, terminated: the server's pools reconnect."""
    return int(psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                    "datname = current_database() AND pid <> pg_backend_pid()")[0][0])


def token(scope, org=None):
    args = [BIN, "token", "--data", DATA, "--no-cache", "--scope", scope]
    if org:
        args += ["--org", "0192:" + org]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()


def call(method, path, body=b"", headers=None, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=timeout)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    return r.status, r.read()


def upload_body(melding_id):
    xml = ('<?xml version="1.0" encoding="UTF-8"?>\n'
           '<Melding xmlns="http://schema.brreg.no/postmottak/henvendelse" versjon="1.0" '
           f'id="{melding_id}" tjeneste="Tinglysing" tjenestehandling="innsending">'
           '<Mottaker id="974760673" idType="orgnr">Brønnøysundregistrene</Mottaker>'
           f'<Avsender id="{ORG}" idType="orgnr">Avsender AS</Avsender>'
           '<Innhold><Data format="text/plain">Søknad</Data></Innhold></Melding>')
    return (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"payload\"; "
            f"filename=\"melding.xml\"\r\nContent-Type: application/xml\r\n\r\n{xml}\r\n"
            f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"attachments\"; "
            f"filename=\"v.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-{melding_id}\r\n"
            f"--{BOUNDARY}--\r\n").encode()


def upload_id(j):
    """Melding ids are 32 hex digits: the uploads' start with a, the replies' with b."""
    return f"a{j:031x}"


def reply_xml(n):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<Melding xmlns="http://schema.brreg.no/postmottak/henvendelse" versjon="1.0" '
            f'id="b{n:031x}" tjeneste="Tinglysing" tjenestehandling="vedtak">'
            f'<Mottaker id="{ORG}" idType="orgnr">Mottaker AS</Mottaker>'
            '<Avsender id="974760673" idType="orgnr">Brønnøysundregistrene</Avsender>'
            f'<Referanse referanse="c{n:031x}" referanseType="MeldingsReferanse"/>'
            '<Innhold><Data format="text/plain">Vedtak</Data></Innhold></Melding>').encode()


os.makedirs(WORK, exist_ok=True)
server = serve()
read_h = {"Authorization": "Bearer " + token("folkeregister:deling/offentligmedhjemmel")}
write_h = {"Authorization": "Bearer " + token("norreg:register"),
           "Content-Type": "application/json"}
org_h = {"Authorization": "Bearer " + token("brreg:mottak", ORG)}
producer_h = {"Authorization": "Bearer " + token("norreg:mottak"),
              "Content-Type": "application/xml"}

# The persons written to, and their documents with history.
fnrs, seen = [], set()
status, body = call("GET", API + "/hendelser/feed?seq=1", headers=read_h)
for e in json.loads(body):
    f = e["hendelse"]["folkeregisteridentifikator"]
    if f not in seen:
        seen.add(f)
        fnrs.append(f)
fnrs = fnrs[:PERSONS]
documents = {}
for f in fnrs:
    status, body = call("GET", f"{API}/personer/{f}?part=historikk", headers=read_h)
    assert status == 200, (f, status)
    documents[f] = json.loads(body)

status, body = call("GET", API + "/hendelser/siste/sekvensnummer", headers=read_h)
loaded = int(body)  # the events after it are the producer writes'

# Replies to confirm during the rounds.
to_confirm = []
for n in range(KILLS * 8):
    status, body = call("POST", "/norreg/mottak/v1/svar", reply_xml(n), producer_h)
    assert status == 200, body
    to_confirm.append(json.loads(body)["mottakId"])

answered_writes = {}   # i -> (fnr, sisteSekvensnummer)
tried_writes = {}      # i -> fnr
answered_uploads = {}  # j -> mottakId
answered_confirms = set()
lock = threading.Lock()
counters = {"write": 0, "upload": 0}


def writer(stop):
    while not stop.is_set():
        with lock:
            i = counters["write"]
            counters["write"] += 1
        fnr = fnrs[i % len(fnrs)]
        doc = json.loads(json.dumps(documents[fnr]))
        for row in doc.get("navn", []):
            if row.get("erGjeldende"):
                row["fornavn"] = f"KILL{i}"
        tried_writes[i] = fnr
        try:
            status, body = call("POST", "/norreg/register/v1/personer", json.dumps(doc).encode(),
                                write_h)
        except OSError:
            return
        if status == 200:
            answered_writes[i] = (fnr, json.loads(body)["sisteSekvensnummer"])


def uploader(stop):
    headers = dict(org_h)
    headers["Content-Type"] = f"multipart/form-data; boundary={BOUNDARY}"
    while not stop.is_set():
        with lock:
            j = counters["upload"]
            counters["upload"] += 1
        try:
            status, body = call("POST", "/inbound/upload", upload_body(upload_id(j)), headers)
        except OSError:
            return
        if status == 200:
            answered_uploads[j] = json.loads(body)["mottakId"]


def confirmer(stop):
    while not stop.is_set():
        with lock:
            if not to_confirm:
                return
            mottak_id = to_confirm.pop()
        try:
            status, _ = call("PUT", "/outbound/confirm?mottakId=" + mottak_id, b"", org_h)
        except OSError:
            return
        if status == 200:
            answered_confirms.add(mottak_id)


random.seed(int(os.environ.get("KILL_SEED", "1")))
started = time.time()
cuts = 0
if DB:
    # One server throughout; the clients go on across the cuts (a request cut mid-way fails or is
    # retried by the server, and either way its answer says what happened).
    def keep_going(fn, stop):
        while not stop.is_set():
            fn(stop)
            time.sleep(0.01)
    stop = threading.Event()
    threads = [threading.Thread(target=keep_going, args=(t, stop))
               for t in (writer, uploader, confirmer)]
    for t in threads:
        t.start()
    for round_ in range(KILLS):
        time.sleep(random.uniform(0.05, 0.6))
        cuts += cut_connections()
    time.sleep(1)
    stop.set()
    for t in threads:
        t.join()
    server.send_signal(signal.SIGTERM)
    server.wait()
else:
    for round_ in range(KILLS):
        if round_ > 0:
            server = serve()
        stop = threading.Event()
        threads = [threading.Thread(target=t, args=(stop,)) for t in (writer, uploader, confirmer)]
        for t in threads:
            t.start()
        time.sleep(random.uniform(0.05, 0.6))
        server.send_signal(signal.SIGKILL)
        server.wait()
        stop.set()
        for t in threads:
            t.join()
rounds_s = time.time() - started

# --- the checks, on a server started once more ---
server = serve()
failures = []
seqs = [s for _, s in answered_writes.values()]
if len(set(seqs)) != len(seqs):
    failures.append("an answered sekvensnummer was given to two writes")
status, body = call("GET", API + "/hendelser/siste/sekvensnummer", headers=read_h)
latest = int(body)
feed, seq = [], 1
while seq <= latest:
    status, body = call("GET", f"{API}/hendelser/feed?seq={seq}", headers=read_h)
    page = json.loads(body)
    if not page:
        break
    feed += [e["sekvensnummer"] for e in page]
    seq = feed[-1] + 1
if feed != list(range(1, latest + 1)):
    failures.append(f"the feed is not 1..{latest} without gaps or repeats")
# Every event after the load is a write: the version it made has that write's name as the
# current fornavn. A write is in the register once when exactly one version has its name; an
# answered write's version is the one at the sekvensnummer it was answered.
made = {}  # name -> [(seq, fnr)]
seq = loaded + 1
while seq <= latest:
    status, body = call("GET", f"{API}/hendelser/feed?seq={seq}", headers=read_h)
    page = json.loads(body)
    if not page:
        break
    for e in page:
        status, doc = call("GET", f"{API}/personer/arkiv/{e['hendelse']['persondokument']}"
                           "?part=navn", headers=read_h)
        current = [r["fornavn"] for r in json.loads(doc).get("navn", []) if r.get("erGjeldende")]
        name = current[0] if current else None
        made.setdefault(name, []).append((e["sekvensnummer"],
                                          e["hendelse"]["folkeregisteridentifikator"]))
    seq = page[-1]["sekvensnummer"] + 1
lost = [i for i, (fnr, s) in answered_writes.items() if made.get(f"KILL{i}") != [(s, fnr)]]
twice = [i for i in tried_writes if len(made.get(f"KILL{i}", [])) > 1]
strangers = sum(len(v) for k, v in made.items() if not (k or "").startswith("KILL"))
if lost:
    failures.append(f"{len(lost)} answered writes not present exactly once at their "
                    f"sekvensnummer, e.g. {lost[:5]}")
if twice:
    failures.append(f"{len(twice)} writes present more than once")
if strangers:
    failures.append(f"{strangers} events after the load that are no write of this test")
server.send_signal(signal.SIGTERM)
server.wait()

if DB:
    def rows(sql):
        return psql(sql.replace("?", f"'{ORG}'"))
else:
    db = sqlite3.connect(os.path.join(DATA, "mottak", "mottak.db"))

    def rows(sql):
        return list(db.execute(sql.replace("confirmed", "confirmed = 1"), (ORG,)))
inbound = {}
for melding_id, mottak_id in rows("SELECT melding_id, mottak_id FROM inbound WHERE orgnr = ?"):
    inbound.setdefault(melding_id, []).append(mottak_id)
receipts = {}
for (ref,) in rows("SELECT melding_referanse FROM outbound WHERE orgnr = ? AND "
                   "melding_referanse LIKE 'a%'"):
    receipts[ref] = receipts.get(ref, 0) + 1
bad_uploads = [j for j, m in answered_uploads.items() if inbound.get(upload_id(j)) != [m]]
bad_receipts = [j for j in answered_uploads if receipts.get(upload_id(j)) != 1]
orphans = [r for r in receipts if r not in inbound]
confirmed = {m for (m,) in rows("SELECT mottak_id FROM outbound WHERE orgnr = ? AND confirmed")}
bad_confirms = [m for m in answered_confirms if m not in confirmed]
if bad_uploads:
    failures.append(f"{len(bad_uploads)} answered uploads not stored once under their mottakId")
if bad_receipts or orphans:
    failures.append(f"receipts: {len(bad_receipts)} answered uploads without exactly one, "
                    f"{len(orphans)} without their upload")
if bad_confirms:
    failures.append(f"{len(bad_confirms)} answered confirms not confirmed")

what = f"{KILLS} cuts ({cuts} connections)" if DB else f"{KILLS} kills"
print(f"| store | faults | rounds (s) | producer writes answered / sent | uploads answered / sent | "
      f"confirms answered / sent | feed | result |")
print("|---|---|---|---|---|---|---|---|")
print(f"| {'PostgreSQL' if DB else 'SQLite'} | {what} | {rounds_s:.0f} | "
      f"{len(answered_writes)} / {counters['write']} | "
      f"{len(answered_uploads)} / {counters['upload']} | {len(answered_confirms)} / "
      f"{KILLS * 8 - len(to_confirm)} | 1..{latest}, {len(feed)} events | "
      f"{'every check passed' if not failures else '; '.join(failures)} |")
sys.exit(1 if failures else 0)
