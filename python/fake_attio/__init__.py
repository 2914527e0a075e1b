"""Start and stop the `fake-attio` program from Python.

`FakeAttio` runs one fake on a free loopback port with a fresh API token
and control token, and stops it (SIGTERM, then a bounded wait) on exit:

    with FakeAttio() as fake:
        status, body = fake.request("GET", "/v2/webhooks")

The pytest plugin in `fake_attio.pytest_plugin` gives each test one
(`fake_attio` fixture).
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

__all__ = ["FakeAttio", "binary"]

#: How long the fake may take to print its base URL.
START_TIMEOUT = 10.0
#: How long it may take to stop after SIGTERM before it is killed.
STOP_TIMEOUT = 5.0


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
        return self._send(method, path, body, token or self.token)

    def control(self, method, path, body=None):
        """Like `request`, for a control route (`/__fake/...`), with the
        control token."""
        return self._send(method, "/__fake" + path, body, self.control_token)

    def _send(self, method, path, body, token):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
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
