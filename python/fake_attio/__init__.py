"""Start and stop the `fake-attio` program from Python, and take isolated
workspaces on it.

`FakeAttio` runs one fake on a free loopback port with a fresh API token
and control token, and stops it (SIGTERM, then a bounded wait) on exit:

    with FakeAttio() as fake:
        status, body = fake.request("GET", "/v2/webhooks")

One running fake serves many isolated workspaces, each with its own
tokens, webhooks, faults, request journal, deliveries and clock:

    with FakeAttio() as fake, fake.workspace() as ws:
        status, body = ws.request("GET", "/v2/webhooks")   # ws's alone

`Server.from_env()` attaches to a fake that is already running (the
binary, or the container) named by `FAKE_ATTIO_URL`, with the server's
control token in `FAKE_ATTIO_CONTROL_TOKEN` when it has one.

The pytest plugin in `fake_attio.pytest_plugin` starts (or attaches to)
one fake per session and gives each test its own workspace (`fake_attio`
fixture).
"""

import json
import os
import secrets
import shutil
import signal
import subprocess
import sysconfig
import threading
import urllib.error
import urllib.request

__all__ = ["FakeAttio", "Server", "Workspace", "binary"]

#: How long the fake may take to print its base URL.
START_TIMEOUT = 10.0
#: How long it may take to stop after SIGTERM before it is killed.
STOP_TIMEOUT = 5.0
#: The environment variable naming a running fake to attach to.
URL_VARIABLE = "FAKE_ATTIO_URL"
#: The environment variable with that fake's control token (the one the
#: program itself reads).
CONTROL_TOKEN_VARIABLE = "FAKE_ATTIO_CONTROL_TOKEN"


def binary():
    """The path of the installed `fake-attio` program.

    The wheel installs it into this environment's scripts directory;
    `FAKE_ATTIO_BINARY` overrides it, and PATH is the last resort.
    """
    override = os.environ.get("FAKE_ATTIO_BINARY")
    if override:
        return override
    installed = os.path.join(sysconfig.get_path("scripts"), "fake-attio")
    if os.path.exists(installed):
        return installed
    found = shutil.which("fake-attio")
    if found:
        return found
    raise FileNotFoundError("fake-attio is not installed: pip install fake-attio")


class FakeAttio:
    """One running `fake-attio` on 127.0.0.1.

    `allow_http_targets` lets webhooks target `http://` receivers on
    loopback (a local test server); `args` are more `fake-attio` flags.
    """

    def __init__(self, allow_http_targets=True, args=()):
        self.token = "test-" + secrets.token_hex(16)
        self.control_token = "control-" + secrets.token_hex(16)
        self.base_url = None
        self._args = list(args)
        if allow_http_targets:
            self._args.append("--allow-http-targets")
        self._process = None

    def start(self):
        """Starts the fake and waits for its base URL (its first line)."""
        env = dict(os.environ)
        # Tokens go through the environment, never argv (visible in ps).
        env["FAKE_ATTIO_TOKENS"] = self.token
        env["FAKE_ATTIO_CONTROL_TOKEN"] = self.control_token
        self._process = subprocess.Popen(
            [binary(), "--host", "127.0.0.1", "--port", "0", *self._args],
            env=env,
            stdout=subprocess.PIPE,
            # Inherited: its warnings and --log lines reach the test's
            # output (pytest captures them), and a full pipe cannot block it.
            stderr=None,
            text=True,
        )
        line = _read_line(self._process.stdout, START_TIMEOUT)
        if not line.startswith("http://"):
            self.stop()
            raise RuntimeError(f"fake-attio did not start: {line!r}")
        self.base_url = line.strip()
        return self

    def stop(self):
        """SIGTERM, then waits; kills it if it does not exit in time.
        Returns the exit code (0 for a clean stop)."""
        process, self._process = self._process, None
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        process.stdout.close()
        return process.returncode

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def request(self, method, path, body=None, token=None):
        """`(status, parsed JSON body or None)` for one API request, with
        the fake's API token unless `token` is given."""
        return _send(self.base_url, method, path, body, token or self.token)

    def control(self, method, path, body=None):
        """Like `request`, for a control route (`/__fake/...`), with the
        control token."""
        return _send(self.base_url, method, "/__fake" + path, body, self.control_token)

    def server(self):
        """This fake as a `Server`, to take workspaces on."""
        return Server(self.base_url, self.control_token)

    def workspace(self, **options):
        """A new isolated workspace on this fake (see `Server.workspace`)."""
        return self.server().workspace(**options)


class Server:
    """A running fake (the binary, or the container) at `base_url`, whose
    server-wide control token is `control_token` (None when its control
    routes are open): where workspaces are made."""

    def __init__(self, base_url, control_token=None):
        self.base_url = base_url.rstrip("/")
        self.control_token = control_token

    @classmethod
    def from_env(cls, environ=None):
        """The fake named by `FAKE_ATTIO_URL` (with `FAKE_ATTIO_CONTROL_TOKEN`),
        or None when that is not set."""
        environ = os.environ if environ is None else environ
        url = environ.get(URL_VARIABLE)
        if not url:
            return None
        return cls(url, environ.get(CONTROL_TOKEN_VARIABLE) or None)

    def workspace(self, manual_clock=None, rate_limits=None):
        """A new workspace: its own webhooks, secrets, faults, journal,
        deliveries and clock. `manual_clock` (an RFC 3339 string) starts a
        manual clock there; `rate_limits` is `(reads, writes)` per second.
        Raises `RuntimeError` when the fake refuses (at its workspace cap,
        503 `workspace_limit`)."""
        options = {}
        if manual_clock is not None:
            options["manual_clock"] = manual_clock
        if rate_limits is not None:
            reads, writes = rate_limits
            options["rate_limits"] = {"reads_per_second": reads, "writes_per_second": writes}
        status, body = _send(
            self.base_url, "POST", "/__fake/workspaces", {"data": options}, self.control_token
        )
        if status != 200:
            raise RuntimeError(f"fake-attio refused a workspace: {status} {body}")
        return Workspace(self, body["data"])

    def workspaces(self):
        """The ids of every workspace the fake holds."""
        status, body = _send(self.base_url, "GET", "/__fake/workspaces", None, self.control_token)
        if status != 200:
            raise RuntimeError(f"fake-attio refused the list: {status} {body}")
        return [w["workspace_id"] for w in body["data"]]


class Workspace:
    """One isolated workspace on a running fake: `base_url`,
    `workspace_id`, `token` (read-write), `read_only_token` and
    `control_token` (its own `/__fake/...` routes). Deleted by `delete()`
    or on leaving a `with` block; its tokens then get 401."""

    def __init__(self, server, grant):
        self._server = server
        self.base_url = server.base_url
        self.workspace_id = grant["workspace_id"]
        self.token = grant["token"]
        self.read_only_token = grant["read_only_token"]
        self.control_token = grant["control_token"]

    def request(self, method, path, body=None, token=None):
        """`(status, parsed JSON body or None)` for one API request, with
        the workspace's read-write token unless `token` is given."""
        return _send(self.base_url, method, path, body, token or self.token)

    def control(self, method, path, body=None):
        """Like `request`, for this workspace's control route `/__fake{path}`."""
        return _send(self.base_url, method, "/__fake" + path, body, self.control_token)

    def settle(self, timeout=10.0):
        """Waits until every delivery due by the workspace's clock has been
        attempted (`POST /__fake/deliveries/settle`); raises `TimeoutError`
        past `timeout` seconds (at most 60)."""
        status, body = _send(
            self.base_url,
            "POST",
            "/__fake/deliveries/settle",
            {"data": {"timeout_seconds": timeout}},
            self.control_token,
            read_timeout=timeout + 10,
        )
        if status == 504:
            raise TimeoutError(body["message"])
        if status != 200:
            raise RuntimeError(f"settle refused: {status} {body}")

    def delete(self):
        """Deletes the workspace (idempotent)."""
        status, body = _send(
            self.base_url,
            "DELETE",
            f"/__fake/workspaces/{self.workspace_id}",
            None,
            self._server.control_token,
        )
        if status not in (200, 404):
            raise RuntimeError(f"fake-attio refused the delete: {status} {body}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.delete()


def _send(base_url, method, path, body, token, read_timeout=10):
    """`(status, parsed JSON body or None)` for one request."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base_url + path, data=data, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=read_timeout) as answer:
            raw = answer.read()
            return answer.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else None


def _read_line(stream, timeout):
    """The first line of `stream`, or '' after `timeout` seconds."""
    result = []
    reader = threading.Thread(target=lambda: result.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return result[0] if result else ""
