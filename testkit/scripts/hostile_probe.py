#!/usr/bin/env python3
"""Probe a fake-attio binary the way someone hostile on the same host would.

usage: python3 testkit/scripts/hostile_probe.py PATH/TO/fake-attio [ROW ...]

Rows follow issue 8's table: 1 control routes without a token, 2 binding
beyond loopback and tokens on the command line, 3 seeding and delivery to
loopback, 4 memory under unauthenticated 1 MiB requests and the delivery
log, 5 slow and idle sockets with a 1,024 fd limit, 6 large creates beside
a GET, 8 SIGTERM and SIGINT. (Row 7, in-process against HTTP, is the
door-equivalence test in testkit/tests/doors.rs.) Loopback only; every
process it starts is killed at the end. Build the binary in release first:
cargo build --release -p attio-webhooks-testkit --bin fake-attio
"""
import http.client, json, os, resource, signal, socket, subprocess, sys, threading, time

BIN = sys.argv[1]
ROWS = [int(r) for r in sys.argv[2:]] or [1, 2, 3, 4, 5, 6, 8]
CHILDREN = []


def start(args, env=None, shell_prefix=None, wait=5):
    cmd = [BIN] + args
    if shell_prefix:
        cmd = ["sh", "-c", shell_prefix + " exec " + " ".join(cmd)]
    e = dict(os.environ)
    e.pop("FAKE_ATTIO_TOKENS", None)
    e.pop("FAKE_ATTIO_CONTROL_TOKEN", None)
    e.update(env or {})
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e)
    CHILDREN.append(p)
    line = p.stdout.readline().decode().strip()
    if not line:
        p.wait(wait)
        return p, None
    host, port = line[len("http://"):].rsplit(":", 1)
    return p, (host.strip("[]"), int(port))


def req(addr, method, path, body=b"", headers=None, timeout=30):
    c = http.client.HTTPConnection(addr[0], addr[1], timeout=timeout)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def rss_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024


def out(row, what, value):
    print(f"row {row} | {what}: {value}", flush=True)


def row1():
    for label, extra in [("no control token", []), ("--control-token ctl", ["--control-token", "ctl"])]:
        p, a = start(["--token", "sk_real"] + extra)
        if a is None:
            out(1, label, f"not started (exit {p.returncode}): {p.stderr.read().decode().splitlines()[0][:100]}")
            continue
        auth = {"Authorization": "Bearer sk_real", "Content-Type": "application/json"}
        body = json.dumps({"data": {"target_url": "https://x.test/h", "subscriptions": [{"event_type": "note.created", "filter": None}]}})
        s, created = req(a, "POST", "/v2/webhooks", body, auth)
        secret = json.loads(created)["data"]["secret"]
        s, data = req(a, "GET", "/__fake/requests")
        out(1, f"{label}: GET /__fake/requests no token", f"{s}, token in clear: {b'sk_real' in data}")
        s, data = req(a, "GET", "/__fake/webhooks")
        out(1, f"{label}: GET /__fake/webhooks no token", f"{s}, secret shown: {secret.encode() in data}")
        s, _ = req(a, "POST", "/__fake/reset")
        _, listed = req(a, "GET", "/v2/webhooks", headers=auth)
        out(1, f"{label}: POST /__fake/reset no token", f"{s}, webhooks left: {len(json.loads(listed)['data'])}")
        p.kill()


def row2():
    p, a = start(["--host", "0.0.0.0", "--token", "sk_real"])
    if a:
        out(2, "--host 0.0.0.0 --token sk_real", f"started on {a}")
        p.kill()
    else:
        out(2, "--host 0.0.0.0 --token sk_real", f"exit {p.returncode}: {p.stderr.read().decode().splitlines()[0][:150]}")
    p, a = start([], env={"FAKE_ATTIO_TOKENS": "sk_env"})
    s, _ = req(a, "GET", "/v2/webhooks", headers={"Authorization": "Bearer sk_env"})
    # (An older binary ignores the variable: the token is then refused.)
    cmdline = open(f"/proc/{p.pid}/cmdline", "rb").read()
    out(2, "FAKE_ATTIO_TOKENS=sk_env", f"API answers {s}; token in ps: {b'sk_env' in cmdline}")
    p.kill()


def listener():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.2)
    hits = []

    def run():
        end = time.time() + 3
        while time.time() < end:
            try:
                c, _ = srv.accept()
                hits.append(c.recv(4096))
                c.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                c.close()
            except OSError:
                pass

    t = threading.Thread(target=run)
    t.start()
    return srv.getsockname()[1], hits, t


EVENT = json.dumps({"data": {"event_type": "note.created", "id": {"workspace_id": "14beef7a-99f7-4534-a87e-70b564330a4c", "note_id": "n"}, "actor": {"type": "system", "id": None}}})


def seed(a, url, subs=None):
    subs = [{"event_type": "note.created", "filter": None}] if subs is None else subs
    return req(a, "POST", "/__fake/webhooks", json.dumps({"data": [{"target_url": url, "subscriptions": subs}]}))


def row3():
    p, a = start([])
    port, hits, t = listener()
    s, _ = seed(a, f"http://127.0.0.1:{port}/x")
    req(a, "POST", "/__fake/events", EVENT)
    t.join()
    out(3, "https-only: seed http://127.0.0.1:PORT/x, emit", f"seed {s}; fake POSTed to the loopback port: {len(hits) > 0}")
    s, _ = seed(a, "not a url", [])
    _, listed = req(a, "GET", "/__fake/webhooks")
    out(3, "seed 'not a url' with 0 subscriptions", f"{s}; stored: {len(json.loads(listed)['data'])}")
    p.kill()
    p, a = start(["--allow-http-targets"])
    seed(a, f"http://127.0.0.1:{a[1]}/__fake/reset")
    seed(a, "https://x.test/other")
    req(a, "POST", "/__fake/events", EVENT)
    time.sleep(1)
    _, listed = req(a, "GET", "/__fake/webhooks")
    out(3, "webhook aimed at the fake's own /__fake/reset, emit", f"webhooks left: {len(json.loads(listed)['data'])} of 2")
    p.kill()


def flood(a, n, size, threads=4):
    body = b"x" * size

    def run(k):
        c = http.client.HTTPConnection(a[0], a[1], timeout=60)
        for _ in range(k):
            c.request("POST", "/nope", body=body)
            c.getresponse().read()
        c.close()

    ts = [threading.Thread(target=run, args=(n // threads,)) for _ in range(threads)]
    t0 = time.time()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return time.time() - t0


def row4():
    p, a = start([])
    before = rss_mib(p.pid)
    took = flood(a, 1200, 1024 * 1024)
    after = rss_mib(p.pid)
    s, data = req(a, "GET", "/__fake/requests")
    after_get = rss_mib(p.pid)
    log = json.loads(data)
    kept = len(log["data"]) if isinstance(log.get("data"), list) else "?"
    out(4, "1,200 unauthenticated 1 MiB POSTs to /nope", f"RSS {before} -> {after} MiB (+{after - before}) in {took:.1f} s; recorded {kept}, dropped {log.get('dropped', 'not reported')}")
    out(4, "then GET /__fake/requests", f"{len(data) >> 20} MiB answer; RSS -> {after_get} MiB (+{after_get - after})")
    p.kill()
    p, a = start([])
    seeds = [{"target_url": f"https://x.test/{i}", "subscriptions": [{"event_type": "note.created", "filter": None}]} for i in range(2000)]
    req(a, "POST", "/__fake/webhooks", json.dumps({"data": seeds}))
    for _ in range(50):
        req(a, "POST", "/__fake/events", EVENT)
    last = -1
    while True:
        time.sleep(1)
        _, data = req(a, "GET", "/__fake/deliveries")
        log = json.loads(data)
        n = len(log["data"])
        if n == last:
            break
        last = n
    out(4, "2,000 webhooks x 50 events: delivery log", f"{n} entries kept, dropped {log.get('dropped', 'not reported')}; RSS {rss_mib(p.pid)} MiB")
    p.kill()


def row5():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    p, a = start([], shell_prefix="ulimit -n 1024;")
    socks = []
    for i in range(500):
        s = socket.create_connection(a)
        s.sendall(b"GET /v2/webhooks HTTP/1.1\r\nHost: x\r\n")
        socks.append(s)
    for i in range(1100):
        try:
            socks.append(socket.create_connection(a, timeout=2))
        except OSError:
            break
    t0 = time.time()
    try:
        s, _ = req(a, "GET", "/v2/webhooks", headers={"Authorization": "Bearer fake-attio-token"}, timeout=20)
        got = f"answered {s} in {time.time() - t0:.2f} s"
    except Exception as e:
        got = f"no answer after {time.time() - t0:.1f} s ({type(e).__name__})"
    out(5, f"{len(socks)} slow/idle sockets (fd limit 1024), then a normal GET", got)
    time.sleep(12)
    closed = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
        s.close()
    out(5, "12 s later, sockets closed by the server", f"{closed} of {len(socks)}")
    p.kill()


def big_create(salt):
    # As many subscriptions as a webhook may have (1,000), 16 conditions each.
    subs = [{"event_type": "note.created", "filter": {"$or": [{"field": "f", "operator": "equals", "value": f"{salt}-{i:05}-{j:02}"} for j in range(16)]}} for i in range(1000)]
    return json.dumps({"data": {"target_url": "https://x.test/big", "subscriptions": subs}}, separators=(",", ":"))


def row6():
    p, a = start([])
    auth = {"Authorization": "Bearer fake-attio-token", "Content-Type": "application/json"}
    s, data = seed(a, "https://x.test/small")
    small = json.loads(data)["data"][0]["id"]["webhook_id"]
    bodies = [big_create(i).encode() for i in range(3)]
    gets, stop = [], [False]

    def reader():
        while not stop[0]:
            t0 = time.time()
            req(a, "GET", f"/v2/webhooks/{small}", headers=auth)
            gets.append(time.time() - t0)
            time.sleep(0.005)

    t = threading.Thread(target=reader)
    t.start()
    took = []
    for body in bodies:
        t0 = time.time()
        s, _ = req(a, "POST", "/v2/webhooks", body, auth, timeout=120)
        took.append(f"{time.time() - t0:.2f} s ({s})")
    stop[0] = True
    t.join()
    gets.sort()
    out(6, f"3 creates of {len(bodies[0]) >> 10} KiB, 16,000 conditions each", ", ".join(took))
    out(6, "concurrent GET", f"{len(gets)} GETs, p99 {gets[int(len(gets) * 0.99)] * 1000:.1f} ms, max {gets[-1] * 1000:.1f} ms")
    p.kill()


def row8():
    for sig, name in [(signal.SIGTERM, "TERM"), (signal.SIGINT, "INT")]:
        p, a = start([], shell_prefix="trap '' INT;")
        time.sleep(0.2)
        os.kill(p.pid, sig)
        try:
            code = p.wait(5)
            out(8, f"kill -{name} (started with SIGINT ignored)", f"exit status {code if code >= 0 else 128 - code}")
        except subprocess.TimeoutExpired:
            out(8, f"kill -{name} (started with SIGINT ignored)", "still running after 5 s")
            p.kill()


try:
    for r in ROWS:
        globals()[f"row{r}"]()
finally:
    for c in CHILDREN:
        if c.poll() is None:
            c.kill()
        c.wait()
