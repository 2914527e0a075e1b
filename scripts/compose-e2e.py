#!/usr/bin/env python3
"""The images end to end, with a real docker daemon: run from the repo root
after scripts/build-image.sh and scripts/build-wheel.sh.

Checks the fake's image on its own (size under 15 MB, a non-root user,
refusal to start without a control token, time to first answer, a clean
exit 0 on SIGTERM as PID 1, also when the signal comes the moment the port
accepts), then runs examples/compose/docker-compose.yml: the CLI creates a
webhook on http://fake-attio:8080, the receiver starts with its secret as a
compose secret, an event triggered on the fake arrives at
http://receiver:3000 by service name and is verified there. Last, one
fake container serves pytest-xdist: the wheel (target/wheels) and
pytest-xdist (.ci/pytest-requirements.txt) in a fresh venv run
python/tests/test_workspaces.py with four workers attached to the
container (FAKE_ATTIO_URL), 64 tests each in its own workspace, and its
settle test's receiver on the host gets a delivery from the container
through `--add-host host.docker.internal:host-gateway` and
FAKE_ATTIO_ALLOW_HTTP_TARGETS_TO (the route testkit/README.md gives).
Everything it starts is removed at the end (the images are kept; CI
removes them).

Prints one line per check and the figures; exits 1 at the first failure.
"""

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ElementTree
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "examples" / "compose" / "docker-compose.yml"
CLI = ROOT / "target" / "static" / "attio-webhooks"
FAKE_IMAGE = "fake-attio:local"
CLI_IMAGE = "attio-webhooks:local"
IMAGE_LIMIT = 15 * 1000 * 1000
WHEELS = ROOT / "target" / "wheels"
PYTEST_REQUIREMENTS = ROOT / ".ci" / "pytest-requirements.txt"
WORKSPACE_TESTS = ROOT / "python" / "tests" / "test_workspaces.py"
# test_workspaces.py: 64 isolation tests and the settle test.
WORKSPACE_TEST_COUNT = 65
STOP_LIMIT = 1.0
WAIT = 30.0


class Failed(Exception):
    pass


def run(args, env=None, timeout=120, check=True):
    done = subprocess.run(
        args, env=env, capture_output=True, text=True, timeout=timeout
    )
    if check and done.returncode != 0:
        raise Failed(
            f"{' '.join(map(str, args))} exited {done.returncode}\n"
            f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        )
    return done


def compose_command():
    if run(["docker", "compose", "version"], check=False).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    raise Failed("neither `docker compose` nor docker-compose is installed")


def http(method, url, token=None, body=None, timeout=2.0):
    """(status, parsed JSON or None); status 0 when nothing answered."""
    request = urllib.request.Request(url, method=method, data=body)
    if token:
        request.add_header("authorization", f"Bearer {token}")
    if body is not None:
        request.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            raw = answer.read()
            return answer.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        return error.code, None
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return 0, None


def wait_for(what, probe, limit=WAIT, every=0.01):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(every)
    raise Failed(f"waited {limit:.0f} s for {what}")


def ok(message):
    print(f"ok: {message}", flush=True)


def published_port(container):
    out = run(["docker", "port", container, "8080/tcp"]).stdout
    line = out.splitlines()[0].strip()
    return int(line.rsplit(":", 1)[1])


def check_image():
    size = int(run(["docker", "image", "inspect", "--format", "{{.Size}}", FAKE_IMAGE]).stdout)
    if size >= IMAGE_LIMIT:
        raise Failed(f"{FAKE_IMAGE} is {size} bytes, over {IMAGE_LIMIT}")
    ok(f"{FAKE_IMAGE} is {size / 1e6:.1f} MB (limit {IMAGE_LIMIT / 1e6:.0f} MB)")
    layers = run(["docker", "history", "--format", "{{.CreatedBy}}", FAKE_IMAGE]).stdout
    user = run(["docker", "image", "inspect", "--format", "{{.Config.User}}", FAKE_IMAGE]).stdout.strip()
    if user in ("", "0", "root", "0:0"):
        raise Failed(f"{FAKE_IMAGE} runs as {user or 'root'}")
    ok(f"{FAKE_IMAGE} runs as user {user}, {len(layers.splitlines())} layers")

    refused = run(["docker", "run", "--rm", FAKE_IMAGE], check=False, timeout=60)
    if refused.returncode != 2 or "FAKE_ATTIO_CONTROL_TOKEN" not in refused.stderr:
        raise Failed(
            f"without a control token the image should exit 2 naming FAKE_ATTIO_CONTROL_TOKEN; "
            f"it exited {refused.returncode}: {refused.stderr}"
        )
    ok("without a control token the image refuses to start (exit 2)")


def start_fake(name, token, control):
    started = time.monotonic()
    run([
        "docker", "run", "-d", "--name", name, "-p", "127.0.0.1::8080",
        "-e", f"FAKE_ATTIO_TOKENS={token}", "-e", f"FAKE_ATTIO_CONTROL_TOKEN={control}",
        FAKE_IMAGE,
    ])
    return started


def check_start_and_stop(figures):
    token, control = secrets.token_hex(16), secrets.token_hex(16)
    name = f"fake-attio-e2e-{os.getpid()}"
    try:
        started = start_fake(name, token, control)
        port = published_port(name)
        base = f"http://127.0.0.1:{port}"
        wait_for("the fake's first answer", lambda: http("GET", f"{base}/v2/webhooks", token)[0] == 200)
        figures["start_to_first_answer_s"] = round(time.monotonic() - started, 3)
        ok(f"first answer {figures['start_to_first_answer_s']:.3f} s after `docker run`")
        first = run(["docker", "logs", name]).stdout.splitlines()[0]
        if not first.startswith("http://"):
            raise Failed(f"the first line on stdout is not the base URL: {first!r}")
        ok(f"the first line on stdout is the base URL ({first})")
        health = http("GET", f"{base}/__health")
        if health != (200, {"status": "ok"}):
            raise Failed(f"GET /__health without a token answered {health}")
        ok("GET /__health answers 200 {\"status\":\"ok\"} without a token")
        if http("GET", f"{base}/__fake/webhooks")[0] != 401:
            raise Failed("the control routes answer without the control token")
        ok("the control routes need the control token")
        stopping = time.monotonic()
        run(["docker", "stop", "-t", "10", name])
        figures["sigterm_to_exit_s"] = round(time.monotonic() - stopping, 3)
        code = run(["docker", "inspect", "--format", "{{.State.ExitCode}}", name]).stdout.strip()
        if code != "0" or figures["sigterm_to_exit_s"] > STOP_LIMIT:
            raise Failed(f"SIGTERM: exit {code} after {figures['sigterm_to_exit_s']} s")
        ok(f"SIGTERM as PID 1: exit 0 in {figures['sigterm_to_exit_s']:.3f} s")
    finally:
        run(["docker", "rm", "-f", name], check=False)

    # The signal the moment the port accepts, a few times over.
    for attempt in range(5):
        try:
            start_fake(name, token, control)
            port = published_port(name)
            wait_for("the port", lambda: http("GET", f"http://127.0.0.1:{port}/v2/webhooks", token)[0] != 0, every=0.002)
            run(["docker", "kill", "--signal", "TERM", name])
            code = run(["docker", "wait", name], timeout=30).stdout.strip()
            if code != "0":
                raise Failed(f"SIGTERM at once (attempt {attempt + 1}): exit {code}")
        finally:
            run(["docker", "rm", "-f", name], check=False)
    ok("SIGTERM the moment the port accepts: exit 0, 5 of 5")


def check_compose(figures):
    compose = compose_command()
    scratch = Path(tempfile.mkdtemp(prefix="attio-compose-"))
    secret_file = scratch / "attio_webhook_secret"
    secret_file.write_text("not yet\n")
    token, control = secrets.token_hex(16), secrets.token_hex(16)
    env = dict(
        os.environ,
        ATTIO_API_KEY=token,
        FAKE_ATTIO_CONTROL_TOKEN=control,
        FAKE_ATTIO_PORT="",
        ATTIO_WEBHOOK_SECRET_FILE=str(secret_file),
        COMPOSE_PROJECT_NAME=f"attio-e2e-{os.getpid()}",
    )
    dc = [*compose, "-f", str(COMPOSE_FILE)]
    try:
        run([*dc, "up", "-d", "fake-attio"], env=env)
        container = run([*dc, "ps", "-q", "fake-attio"], env=env).stdout.strip()
        port = published_port(container)
        base = f"http://127.0.0.1:{port}"
        wait_for("the fake in compose", lambda: http("GET", f"{base}/v2/webhooks", token)[0] == 200)
        ok(f"compose: the fake answers on {base}")

        created = run(
            [*dc, "run", "--rm", "cli", "create", "--url", "http://receiver:3000/attio",
             "--event", "record.created", "--json"],
            env=env,
        )
        if "warning: sending the API token over plain http://" not in created.stderr:
            raise Failed(f"the CLI did not warn about plain http: {created.stderr}")
        webhook = json.loads(created.stdout)
        if webhook["target_url"] != "http://receiver:3000/attio" or len(webhook["secret"]) < 32:
            raise Failed(f"unexpected create answer: {created.stdout}")
        ok(f"compose: the CLI created webhook {webhook['id']['webhook_id']} on http://fake-attio:8080 (and warned)")
        secret_file.write_text(webhook["secret"] + "\n")
        secret_file.chmod(0o644)  # the receiver runs as a non-root user

        run([*dc, "up", "-d", "receiver"], env=env)
        logs = lambda: run([*dc, "logs", "--no-color", "receiver"], env=env).stdout
        wait_for("the receiver to listen", lambda: "listening on http://0.0.0.0:3000" in logs())
        ok("compose: the receiver listens, its secret read from a compose secret")

        triggered = run(
            [str(CLI), "trigger", "record.created", "--dev-url", base, "--control-token", control, "--json"]
        )
        queued = json.loads(triggered.stdout)["queued"]
        if len(queued) != 1:
            raise Failed(f"the trigger queued {len(queued)} deliveries: {triggered.stdout}")

        def delivered():
            status, body = http("GET", f"{base}/__fake/deliveries", control)
            attempts = (body or {}).get("data", [])
            return attempts if attempts else None

        attempts = wait_for("the delivery attempt", delivered)
        outcome = attempts[0].get("outcome", {})
        if outcome.get("status") != 200:
            raise Failed(f"the delivery was not answered 200: {json.dumps(attempts[0])}")

        def verified():
            for line in logs().splitlines():
                _, _, text = line.partition("| ")
                try:
                    event = json.loads(text or line)
                except ValueError:
                    continue
                if isinstance(event, dict) and event.get("event_type") == "record.created":
                    return event
            return None

        wait_for("the verified event in the receiver's output", verified)
        ok("compose: the event reached http://receiver:3000 by service name, signed, and was verified (200)")

        listed = json.loads(run([*dc, "run", "--rm", "cli", "list", "--json"], env=env).stdout)
        if [w["target_url"] for w in listed] != ["http://receiver:3000/attio"]:
            raise Failed(f"list shows {listed}")
        ok("compose: the CLI lists the webhook")
    finally:
        run([*dc, "down", "--volumes", "--remove-orphans", "--timeout", "5"], env=env, check=False)
        shutil.rmtree(scratch, ignore_errors=True)


def bridge_gateway():
    """The host's address on docker's default bridge (host-gateway)."""
    out = run(["docker", "network", "inspect", "bridge", "--format",
               "{{range .IPAM.Config}}{{.Gateway}} {{end}}"]).stdout.split()
    if not out:
        raise Failed("docker's bridge network has no gateway address")
    return out[0]


def junit_counts(report):
    """{"tests", "failures", "errors", "skipped"} summed over the suites."""
    root = ElementTree.parse(report).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    return {
        key: sum(int(suite.get(key, 0)) for suite in suites)
        for key in ("tests", "failures", "errors", "skipped")
    }


def check_xdist(figures):
    wheels = sorted(WHEELS.glob("fake_attio-*.whl"))
    if len(wheels) != 1:
        raise Failed(f"expected one wheel in {WHEELS} (run scripts/build-wheel.sh), found {len(wheels)}")
    control = secrets.token_hex(16)
    name = f"fake-attio-xdist-{os.getpid()}"
    scratch = Path(tempfile.mkdtemp(prefix="attio-xdist-"))
    venv = scratch / "venv"
    try:
        started = time.monotonic()
        run([sys.executable, "-m", "venv", str(venv)])
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        run([*pip, "--require-hashes", "-r", str(PYTEST_REQUIREMENTS)], timeout=300)
        run([*pip, "--no-deps", str(wheels[0])])
        figures["xdist_venv_s"] = round(time.monotonic() - started, 3)
        ok(f"xdist: {wheels[0].name} and pytest-xdist in a fresh venv ({figures['xdist_venv_s']:.1f} s)")

        gateway = bridge_gateway()
        run([
            "docker", "run", "-d", "--name", name, "-p", "127.0.0.1::8080",
            "--add-host", "host.docker.internal:host-gateway",
            "-e", f"FAKE_ATTIO_CONTROL_TOKEN={control}",
            "-e", "FAKE_ATTIO_ALLOW_HTTP_TARGETS_TO=host.docker.internal",
            FAKE_IMAGE,
        ])
        base = f"http://127.0.0.1:{published_port(name)}"
        wait_for("the fake's health", lambda: http("GET", f"{base}/__health")[0] == 200)
        before = http("GET", f"{base}/__fake/workspaces", control)
        if before[0] != 200:
            raise Failed(f"GET /__fake/workspaces answered {before}")

        report = scratch / "junit.xml"
        env = dict(
            os.environ,
            FAKE_ATTIO_URL=base,
            FAKE_ATTIO_CONTROL_TOKEN=control,
            FAKE_ATTIO_TEST_RECEIVER_BIND=gateway,
            FAKE_ATTIO_TEST_RECEIVER_HOST="host.docker.internal",
        )
        running = time.monotonic()
        tests = run(
            [str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
             "-n", "4", f"--junitxml={report}", str(WORKSPACE_TESTS)],
            env=env, timeout=300, check=False,
        )
        figures["xdist_pytest_s"] = round(time.monotonic() - running, 3)
        counts = junit_counts(report) if report.exists() else {"tests": 0}
        failed = sum(counts.get(key, 0) for key in ("failures", "errors", "skipped"))
        passed = counts["tests"] - failed
        if tests.returncode != 0 or passed < WORKSPACE_TEST_COUNT or failed:
            raise Failed(
                f"pytest -n 4 against the container: exit {tests.returncode}, {counts}, "
                f"want {WORKSPACE_TEST_COUNT} passed and none failed or skipped\n"
                f"--- stdout\n{tests.stdout[-6000:]}\n--- stderr\n{tests.stderr[-3000:]}"
            )
        ok(f"xdist: {passed} passed, 0 failed, with 4 workers on one container "
           f"({figures['xdist_pytest_s']:.1f} s): each test saw only its own workspace, "
           f"also after a reset or a delete")
        ok(f"xdist: the settle test's receiver on the host ({gateway}) got its delivery "
           f"from the container as http://host.docker.internal (--add-host host.docker.internal:host-gateway)")
        after = http("GET", f"{base}/__fake/workspaces", control)
        if after != before:
            raise Failed(f"workspaces left on the container: before {before}, after {after}")
        ok("xdist: every test's workspace was deleted after it")
    finally:
        run(["docker", "rm", "-f", name], check=False)
        shutil.rmtree(scratch, ignore_errors=True)


def main():
    figures = {}
    try:
        if run(["docker", "info"], check=False).returncode != 0:
            raise Failed("no docker daemon answers")
        check_image()
        check_start_and_stop(figures)
        check_compose(figures)
        check_xdist(figures)
    except (Failed, subprocess.TimeoutExpired) as failure:
        print(f"compose-e2e: FAILED: {failure}", file=sys.stderr)
        return 1
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
