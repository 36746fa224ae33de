"""Activation benchmarks: omniplay sync vs drt-core 1.2.1, same rows, same DuckDB file, same receivers.

    .venv/bin/python benchmarks/bench_activation.py compare --rows 100000 --smtp-rows 10000 \
        --drt /tmp/drtvenv/bin/drt
    .venv/bin/python benchmarks/bench_activation.py memory --rows 1000000 5000000
    .venv/bin/python benchmarks/bench_activation.py noop --rows 1000000
    .venv/bin/python benchmarks/bench_activation.py ceiling --rows 100000 --smtp-rows 10000

`compare` builds one DuckDB file holding an activation queue with three plays (SMS,
store, email), then for each scenario runs drt-core and `omniplay sync` as subprocesses
(drt-core first, or omniplay first with `--omniplay-first`), each twice, each tool against
a fresh receiver process of its own (benchmarks/bench_activation_receivers.py: the same
program and settings for both), timing the whole command and counting what the receiver
got. Per run it also records user/sys CPU, page faults and context switches of the command,
the machine's steal time and memory reclaim meanwhile (/proc/vmstat), MemFree at the start
and a fixed CPU probe taken just before (how fast the machine was then). omniplay's
modules are byte-compiled first, as pip does for drt-core when it installs it. drt-core must be
installed in a separate virtualenv (`python -m venv /tmp/drtvenv && /tmp/drtvenv/bin/pip
install drt-core==1.2.1 duckdb==2.0.0`).

`ceiling` drives each receiver with a minimal client (pipelined raw HTTP/1.1, raw SMTP
from several connections) to show the most the receiver itself takes on this machine.

`memory` pushes 1M and 5M store messages through `store_webhook` (batches of 1,000) and
reports peak RSS of the sync process, then times a no-op re-run over the sent ledger.
Results print as JSON lines and are appended to benchmarks/out/activation.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "out"
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_activation_receivers import ACCOUNT_SID, AUTH_TOKEN, WEBHOOK_SECRET  # noqa: E402

WORKERS = {"twilio": 8, "webhook": 2, "smtp": 4}
DIAGNOSTICS = ("user", "sys", "minflt", "majflt", "vcsw", "ivcsw", "steal", "probe", "mem_free_mb", "vmstat")


# -- data -----------------------------------------------------------------------------------

def build_queue(db: Path, plays: dict[str, tuple[str, str, int]]) -> None:
    """One activation_queue with a play per (channel, destination, rows), generated in a child
    process: a tool's process is forked from this one, and until it execs, its RSS includes
    this process's, so building a 5M-row queue here would set a floor under every peak RSS
    read with wait4 (about 410 MiB)."""
    subprocess.run([sys.executable, str(Path(__file__).resolve()), "_queue", str(db), json.dumps(plays)],
                   check=True, cwd=REPO)


def _build_queue(db: Path, plays: dict[str, tuple[str, str, int]]) -> None:
    import duckdb

    addresses = {
        "sms": "'+1415' || lpad(cast(1000000 + i as varchar), 7, '0')",
        "store": "'S' || lpad(cast(i % 50 + 1 as varchar), 3, '0')",
        "email": "'user' || i || '@example.com'",
    }
    parts = []
    for play, (channel, destination, rows) in plays.items():
        parts.append(f"""
            select md5('{play}|' || i) as message_id, date '2026-11-22' as run_date,
                   timestamp '2026-11-22 06:00:00' as decided_at, '{play}' as play_id, 'v1' as play_version,
                   'p' || lpad(cast(i as varchar), 9, '0') as profile_id, '{channel}' as channel,
                   '{destination}' as destination, {addresses[channel]} as address,
                   'Europe/London' as recipient_timezone, timestamp '2020-01-01' as not_before,
                   timestamp '2100-01-01' as not_after, 'default' as template,
                   cast(json_object('first_name', 'Ann' || i, 'product_name', 'Lamp ' || (i % 97)) as json)
                       as payload
            from range({rows}) t(i)""")
    if db.exists():
        db.unlink()
    con = duckdb.connect(str(db), config={"memory_limit": "2GB"})
    con.execute("create schema activation")
    con.execute("create table activation.activation_queue as " + " union all ".join(parts))
    con.close()


def omniplay_project(root: Path, ports: dict[str, int]) -> Path:
    project = root / "omniplay_project"
    (project / "activation").mkdir(parents=True, exist_ok=True)
    templates = project / "activation" / "templates"
    if not templates.exists():
        templates.symlink_to(REPO / "activation" / "templates")
    (project / "activation" / "destinations.yml").write_text(f"""
destinations:
  twilio:
    type: twilio
    max_concurrency: {WORKERS['twilio']}
    worker_processes: true
    batch_size: 500
    settings:
      base_url: http://127.0.0.1:{ports.get('twilio', 9)}
      account_sid: ${{TWILIO_ACCOUNT_SID}}
      auth_token: ${{TWILIO_AUTH_TOKEN}}
      from_number: "+15005550006"
  store_webhook:
    type: store_webhook
    max_concurrency: {WORKERS['webhook']}
    batch_size: 1000
    settings:
      url: http://127.0.0.1:{ports.get('webhook', 9)}/tasks
      secret: ${{OMNIPLAY_STORE_WEBHOOK_SECRET}}
  smtp:
    type: smtp
    max_concurrency: {WORKERS['smtp']}
    worker_processes: true
    batch_size: 100
    settings:
      host: 127.0.0.1
      port: {ports.get('smtp', 9)}
""")
    return project


def drt_project(root: Path, db: Path, ports: dict[str, int]) -> tuple[Path, Path]:
    project, home = root / "drt_project", root / "drt_home"
    (project / "syncs").mkdir(parents=True, exist_ok=True)
    (home / ".drt").mkdir(parents=True, exist_ok=True)
    (home / ".drt" / "profiles.yml").write_text(f"bench:\n  type: duckdb\n  database: {db}\n")
    (project / "drt_project.yml").write_text('name: bench\nversion: "0.1"\nprofile: bench\n')
    sms_body = ('Hi {{ row.first_name }}! {{ row.product_name }} is waiting for you. Reply STOP to opt out.')
    (project / "syncs" / "twilio_one.yml").write_text(f"""
name: twilio_one
model: "select message_id, address, payload->>'first_name' as first_name, payload->>'product_name' as product_name from activation.activation_queue where play_id = 'bench_sms'"
destination:
  type: rest_api
  url: "http://127.0.0.1:{ports.get('twilio', 9)}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
  method: POST
  headers: {{Content-Type: application/json}}
  auth: {{type: basic, username_env: TWILIO_ACCOUNT_SID, password_env: TWILIO_AUTH_TOKEN}}
  body_template: '{{"To": "{{{{ row.address }}}}", "From": "+15005550006", "Body": "{sms_body}"}}'
sync:
  mode: full
  batch_size: 1000
  rate_limit: {{requests_per_second: 1000000}}
  on_error: skip
""")
    (project / "syncs" / "webhook_batch.yml").write_text(f"""
name: webhook_batch
model: "select message_id, address, payload->>'first_name' as first_name, payload->>'product_name' as product_name from activation.activation_queue where play_id = 'bench_store'"
destination:
  type: rest_api
  url: "http://127.0.0.1:{ports.get('webhook', 9)}/tasks"
  method: POST
  headers: {{Content-Type: application/json}}
  body_mode: batch
  max_records_per_request: 1000
  batch_template: '{{"items": [{{% for row in rows %}}{{"message_id": "{{{{ row.message_id }}}}", "store_id": "{{{{ row.address }}}}", "talking_points": "Mention {{{{ row.product_name }}}}."}}{{% if not loop.last %}},{{% endif %}}{{% endfor %}}]}}'
sync:
  mode: full
  batch_size: 1000
  rate_limit: {{requests_per_second: 1000000}}
  on_error: skip
""")
    (project / "syncs" / "smtp_mail.yml").write_text(f"""
name: smtp_mail
model: "select message_id, address, payload->>'first_name' as first_name, payload->>'product_name' as product_name from activation.activation_queue where play_id = 'bench_email'"
destination:
  type: email_smtp
  host: 127.0.0.1
  port: {ports.get('smtp', 9)}
  use_tls: false
  username_env: BENCH_SMTP_USER
  password_env: BENCH_SMTP_PASSWORD
  sender: "Shop <shop@example.com>"
  recipients: ["bench@example.com"]
  subject_template: "{{{{ row.first_name }}}}, something picked for you"
  body_template: "Hi {{{{ row.first_name }}}}, we thought you'd like {{{{ row.product_name }}}}."
sync:
  mode: full
  batch_size: 1000
  rate_limit: {{requests_per_second: 1000000}}
  on_error: skip
""")
    return project, home


# -- processes ------------------------------------------------------------------------------

def start_receiver(kind: str) -> tuple[subprocess.Popen, int, int]:
    proc = subprocess.Popen([sys.executable, str(REPO / "benchmarks" / "bench_activation_receivers.py"), kind],
                            stdout=subprocess.PIPE, text=True, cwd=REPO)
    line = proc.stdout.readline().split()
    assert line and line[0] == "READY", f"receiver {kind} did not start"
    return proc, int(line[1]), int(line[2])


def receiver_stats(port: int, reset: bool = False) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/{'_reset' if reset else '_stats'}", timeout=30) as r:
        return json.loads(r.read())


def _mem_free_mb() -> int:
    """MemFree when a command starts: with little free, its page faults wait on reclaim."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemFree:"):
            return int(line.split()[1]) // 1024
    return -1


def steal_seconds() -> float:
    """The machine's steal time so far (all CPUs, /proc/stat): time the hypervisor ran someone else."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    return int(fields[8]) / os.sysconf("SC_CLK_TCK")


VMSTAT = ("pgfault", "pgmajfault", "allocstall_normal", "pgscan_direct", "pgscan_kswapd", "compact_stall")


def vmstat() -> dict[str, int]:
    """The kernel's memory counters (whole machine) that say whether page faults had to
    reclaim memory first (direct reclaim, compaction) while a command ran."""
    values = dict(line.split() for line in Path("/proc/vmstat").read_text().splitlines())
    return {k: int(values.get(k, 0)) for k in VMSTAT}


def cpu_probe() -> float:
    """CPU seconds this process needs for a fixed pure-Python workload (about 0.1 s on an idle
    machine): taken right before each command, it shows whether the machine itself is slower
    then (a throttled or shared vCPU), independently of the tool that runs next."""
    start = time.process_time()
    total = 0
    for i in range(2_000_000):
        total += i & 7
    return round(time.process_time() - start, 3)


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> dict:
    """Run a command; wall seconds, exit code and peak RSS (MB) of the process tree's largest,
    with its user/sys CPU, page faults and context switches (wait4: the command and the
    children it reaped), the machine's steal time meanwhile and a CPU probe taken just before."""
    probe = cpu_probe()
    steal, memory_before, free_mb = steal_seconds(), vmstat(), _mem_free_mb()
    utc = time.strftime("%H:%M:%S", time.gmtime())
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    out, err = proc.stdout.read().decode(), proc.stderr.read().decode()
    code = os.waitstatus_to_exitcode(status)
    return {"seconds": round(seconds, 2), "utc": utc, "exit": code, "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
            "user": round(usage.ru_utime, 2), "sys": round(usage.ru_stime, 2),
            "minflt": usage.ru_minflt, "majflt": usage.ru_majflt,
            "vcsw": usage.ru_nvcsw, "ivcsw": usage.ru_nivcsw,
            "steal": round(steal_seconds() - steal, 2), "probe": probe, "mem_free_mb": free_mb,
            "vmstat": {k: v - memory_before[k] for k, v in vmstat().items()},
            "stdout": out[-2000:], "stderr": err[-2000:]}


def base_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=AUTH_TOKEN,
               OMNIPLAY_STORE_WEBHOOK_SECRET=WEBHOOK_SECRET.decode(), BENCH_SMTP_USER="bench",
               BENCH_SMTP_PASSWORD="bench", OMNIPLAY_TARGET="duckdb", PYTHONUNBUFFERED="1")
    env.pop("OMNIPLAY_DESTINATIONS_FILE", None)
    return env


def byte_compile() -> None:
    """Write omniplay's .pyc files, as `pip install` does for drt-core in its virtualenv:
    with PYTHONDONTWRITEBYTECODE=1 in the environment (as on this machine) and a fresh
    checkout, every omniplay command would otherwise compile its ~40 modules from source
    (about 0.05-0.1 CPU-s each time), a cost no installed copy pays."""
    import compileall

    for package in ("activation", "cli", "omniplay"):
        compileall.compile_dir(REPO / package, quiet=1)


def run_omniplay(project: Path, db: Path, play: str) -> dict:
    env = base_env()
    env["OMNIPLAY_DUCKDB_PATH"] = str(db)
    return timed([str(REPO / ".venv" / "bin" / "python"), "-m", "cli.main", "sync", "--project-dir", str(project),
                  "--play", play, "--json"], env, REPO)


def run_drt(drt: str, project: Path, home: Path, sync_name: str) -> dict:
    env = base_env()
    env["HOME"] = str(home)
    return timed([drt, "run", "--select", sync_name], env, project)


# -- scenarios ------------------------------------------------------------------------------

def compare(args) -> list[dict]:
    root = OUT / "activation_compare"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    db = root / "queue.duckdb"
    twilio_rows = args.twilio_rows or args.rows
    build_queue(db, {"bench_sms": ("sms", "twilio", twilio_rows), "bench_store": ("store", "store_webhook", args.rows),
                     "bench_email": ("email", "smtp", args.smtp_rows)})
    scenarios = [("twilio", "twilio_one", "bench_sms", twilio_rows),
                 ("webhook", "webhook_batch", "bench_store", args.rows),
                 ("smtp", "smtp_mail", "bench_email", args.smtp_rows)]
    results = []
    for kind, drt_sync, play, rows in scenarios:
        if args.only and kind not in args.only:
            continue
        row = {"scenario": kind, "rows": rows, "utc": time.strftime("%H:%M:%S", time.gmtime()),
               "load_avg": [round(x, 2) for x in os.getloadavg()]}
        for tool in ("omniplay", "drt") if args.omniplay_first else ("drt", "omniplay"):
            # Each tool gets a fresh receiver process of its own (same program, same
            # settings): neither pays for the other's warm-up (a new process allocating its
            # counters and idempotency cache) nor inherits its state; each tool's second
            # run meets the receiver its own first run warmed, whichever tool goes first.
            proc, port, stats_port = start_receiver(kind)
            try:
                ports = {kind: port}
                project = omniplay_project(root, ports)
                drt_dir, drt_home = drt_project(root, db, ports)
                for attempt in ("first", "second"):
                    receiver_stats(stats_port, reset=True)
                    receiver_cpu = _children_cpu(proc.pid)
                    if tool == "drt":
                        r = run_drt(args.drt, drt_dir, drt_home, drt_sync)
                    else:
                        r = run_omniplay(project, db, play)
                    got = receiver_stats(stats_port)
                    key = f"{tool}_{attempt}"
                    row[key] = {"seconds": r["seconds"], "cpu_seconds": r["cpu_seconds"], "exit": r["exit"],
                                "utc": r["utc"], **{k: r[k] for k in DIAGNOSTICS},
                                "receiver_cpu": round(_children_cpu(proc.pid) - receiver_cpu, 2),
                                "delivered": got["messages"],
                                "duplicates": got["duplicates"], "requests": got["requests"],
                                "per_second": round(got["messages"] / r["seconds"], 1) if r["seconds"] else None}
                    if r["exit"] != 0:
                        row[key]["stderr"] = r["stderr"][-500:]
                    print(json.dumps({kind: {key: row[key]}}), flush=True)
            finally:
                proc.terminate()
                proc.wait(timeout=10)
        d, o = row["drt_first"]["per_second"], row["omniplay_first"]["per_second"]
        row["speedup"] = round(o / d, 2) if d else None
        results.append(row)
    return results


def memory(args) -> list[dict]:
    results = []
    for rows in args.rows:
        root = OUT / f"activation_memory_{rows}"
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        db = root / "queue.duckdb"
        build_queue(db, {"bench_store": ("store", "store_webhook", rows)})
        proc, port, stats_port = start_receiver("webhook")
        try:
            project = omniplay_project(root, {"webhook": port})
            first = run_omniplay(project, db, "bench_store")
            got = receiver_stats(stats_port)
            receiver_stats(stats_port, reset=True)
            second = run_omniplay(project, db, "bench_store")
            again = receiver_stats(stats_port)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        row = {"scenario": "memory", "rows": rows,
               "first": {k: first[k] for k in ("seconds", "cpu_seconds", "exit", "peak_rss_mb")},
               "delivered": got["messages"], "duplicates": got["duplicates"],
               "noop_rerun": {k: second[k] for k in ("seconds", "cpu_seconds", "exit", "peak_rss_mb")},
               "rerun_delivered": again["messages"]}
        if first["exit"] != 0:
            row["stderr"] = first["stderr"][-800:]
        print(json.dumps(row), flush=True)
        results.append(row)
        shutil.rmtree(root, ignore_errors=True)
    return results


# -- the receivers' own ceiling ----------------------------------------------------------------

def _http_load(port: int, request: bytes, total: int, connections: int, window: int) -> None:
    """Pipelined HTTP/1.1 requests, `window` outstanding per connection: the cheapest client
    there is (about 15 us of CPU a request), so the receiver's rate is what gets measured."""
    import selectors
    import socket

    sel = selectors.DefaultSelector()
    left = {"to_send": total}
    for _ in range(connections):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        n = min(window, left["to_send"])
        left["to_send"] -= n
        sock.sendall(request * n)
        sel.register(sock, selectors.EVENT_READ, {"outstanding": n, "buffer": b""})
    done = 0
    while done < total:
        for key, _ in sel.select():
            state, sock = key.data, key.fileobj
            state["buffer"] += sock.recv(1 << 20)
            while True:
                head_end = state["buffer"].find(b"\r\n\r\n")
                if head_end < 0:
                    break
                head = state["buffer"][:head_end].lower()
                length = int(head.split(b"content-length:")[1].split(b"\r\n")[0])
                if len(state["buffer"]) < head_end + 4 + length:
                    break
                state["buffer"] = state["buffer"][head_end + 4 + length:]
                done += 1
                state["outstanding"] -= 1
                if left["to_send"]:
                    left["to_send"] -= 1
                    state["outstanding"] += 1
                    sock.sendall(request)
    for key in list(sel.get_map().values()):
        key.fileobj.close()


def _smtp_load(port: int, total: int, connections: int) -> None:
    """Raw SMTP from `connections` threads: MAIL, RCPT and DATA written together, then the
    message; the server does the same work per message as for a real client."""
    import socket
    import threading

    def worker(start: int, count: int) -> None:
        sock = socket.create_connection(("127.0.0.1", port))
        reader = sock.makefile("rb")

        def replies(n: int) -> None:
            for _ in range(n):
                while True:
                    line = reader.readline()
                    if line[3:4] != b"-":
                        break

        replies(1)
        sock.sendall(b"EHLO bench\r\n")
        replies(1)
        for i in range(start, start + count):
            sock.sendall(b"MAIL FROM:<shop@example.com>\r\nRCPT TO:<user%d@example.com>\r\nDATA\r\n" % i)
            replies(3)
            sock.sendall(b"Message-ID: <%d@bench>\r\nSubject: hi\r\n\r\nHello there.\r\n.\r\n" % i)
            replies(1)
        sock.sendall(b"QUIT\r\n")
        sock.close()

    per = total // connections
    threads = [threading.Thread(target=worker, args=(k * per, per)) for k in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def ceiling(args) -> list[dict]:
    """Each receiver driven by a minimal client: the most it can take on this machine."""
    import base64

    results = []
    form = b"To=%2B14155550100&From=%2B15005550006&Body=Hi+Ann%21+Lamp+3+is+waiting+for+you.+Reply+STOP+to+opt+out."
    auth = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode())
    twilio = (b"POST /2010-04-01/Accounts/%s/Messages.json HTTP/1.1\r\nHost: bench\r\nAuthorization: Basic %s\r\n"
              b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s"
              % (ACCOUNT_SID.encode(), auth, len(form), form))
    items = ",".join(f'{{"message_id": "m{i:08d}", "store_id": "S001", "talking_points": "Mention Lamp 3."}}'
                     for i in range(1000))
    body = ('{"items": [' + items + "]}").encode()
    webhook = (b"POST /tasks HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
               % (len(body), body))
    for kind in args.only or ("twilio", "webhook", "smtp"):
        proc, port, stats_port = start_receiver(kind)
        try:
            start, cpu = time.perf_counter(), _children_cpu(proc.pid)
            if kind == "twilio":
                _http_load(port, twilio, args.rows, connections=8, window=8)
            elif kind == "webhook":
                _http_load(port, webhook, args.rows // 1000, connections=2, window=2)
            else:
                _smtp_load(port, args.smtp_rows, connections=8)
            seconds = time.perf_counter() - start
            receiver_cpu = _children_cpu(proc.pid) - cpu
            got = receiver_stats(stats_port)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        row = {"scenario": f"ceiling_{kind}", "messages": got["messages"], "seconds": round(seconds, 2),
               "per_second": round(got["messages"] / seconds), "receiver_cpu_seconds": round(receiver_cpu, 2),
               "load_avg": os.getloadavg()}
        print(json.dumps(row), flush=True)
        results.append(row)
    return results


def _children_cpu(pid: int) -> float:
    """user+sys seconds used so far by a running process (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def noop(args) -> list[dict]:
    """A re-run over N messages the ledger already records as sent (ledger written by SQL)."""
    sys.path.insert(0, str(REPO))
    import duckdb

    from activation.ledger import ddl

    results = []
    for rows in args.rows:
        root = OUT / f"activation_noop_{rows}"
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        db = root / "queue.duckdb"
        build_queue(db, {"bench_store": ("store", "store_webhook", rows)})
        con = duckdb.connect(str(db), config={"memory_limit": "1GB"})
        for statement in ddl():
            con.execute(statement)
        con.execute("""
            insert into omniplay_state.sends (message_id, status, attempts, run_id, play_id, profile_id, channel,
                                              destination, first_attempt_at, finished_at, updated_at)
            select message_id, 'sent', 1, 'seeded', play_id, profile_id, channel, destination,
                   now()::timestamp, now()::timestamp, now()::timestamp
            from activation.activation_queue""")
        con.close()
        proc, port, stats_port = start_receiver("webhook")
        try:
            r = run_omniplay(omniplay_project(root, {"webhook": port}), db, "bench_store")
            got = receiver_stats(stats_port)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        row = {"scenario": "noop_rerun", "rows": rows, "delivered": got["messages"],
               **{k: r[k] for k in ("seconds", "cpu_seconds", "exit", "peak_rss_mb")},
               "totals": json.loads(r["stdout"])["totals"] if r["exit"] == 0 else r["stderr"][-500:]}
        print(json.dumps(row), flush=True)
        results.append(row)
        shutil.rmtree(root, ignore_errors=True)
    return results


def machine() -> dict:
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
            "load_avg": os.getloadavg()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("compare")
    c.add_argument("--rows", type=int, default=100_000)
    c.add_argument("--smtp-rows", type=int, default=10_000)
    c.add_argument("--twilio-rows", type=int, default=None, help="default: --rows")
    c.add_argument("--drt", default="/tmp/drtvenv/bin/drt")
    c.add_argument("--only", nargs="*")
    c.add_argument("--omniplay-first", action="store_true",
                   help="in each scenario run omniplay (twice) before drt-core (default: drt-core first)")
    m = sub.add_parser("memory")
    m.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 5_000_000])
    e = sub.add_parser("ceiling", help="the receivers' own maximum rate, driven by a minimal client")
    e.add_argument("--rows", type=int, default=100_000)
    e.add_argument("--smtp-rows", type=int, default=10_000)
    e.add_argument("--only", nargs="*")
    n = sub.add_parser("noop")
    n.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    byte_compile()
    results = {"compare": compare, "memory": memory, "noop": noop, "ceiling": ceiling}[args.command](args)
    with open(OUT / "activation.jsonl", "a") as handle:
        handle.write(json.dumps({"started": started, "command": sys.argv[1:], "machine": machine(),
                                 "results": results}) + "\n")
    print(json.dumps({"machine": machine(), "results": results}, indent=1))


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
    if sys.argv[1:2] == ["_queue"]:  # build_queue's child process
        _build_queue(Path(sys.argv[2]), json.loads(sys.argv[3]))
    else:
        main()
