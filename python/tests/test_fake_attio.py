"""The wheel as a Python user meets it: `pip install`, then the
`fake_attio` fixture (no import needed; the wheel's pytest11 entry point
registers it). Run by .ci/run through scripts/build-wheel.sh --test."""

import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sysconfig
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SUBSCRIPTIONS = [{"event_type": "record.created", "filter": None}]


def test_the_program_is_on_path_and_names_its_version():
    scripts = sysconfig.get_path("scripts")
    on_path = shutil.which("fake-attio", path=os.pathsep.join([scripts, os.environ.get("PATH", "")]))
    assert on_path is not None
    version = subprocess.run([on_path, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("fake-attio ")
    assert "(commit " in version.stdout


def test_create_list_get_and_delete(fake_attio):
    status, created = fake_attio.request(
        "POST", "/v2/webhooks",
        {"data": {"target_url": "https://example.com/hook", "subscriptions": SUBSCRIPTIONS}},
    )
    assert status == 200
    webhook = created["data"]
    assert len(webhook["secret"]) == 64
    webhook_id = webhook["id"]["webhook_id"]

    status, listed = fake_attio.request("GET", "/v2/webhooks")
    assert status == 200
    assert [w["id"]["webhook_id"] for w in listed["data"]] == [webhook_id]
    assert "secret" not in listed["data"][0]

    status, one = fake_attio.request("GET", f"/v2/webhooks/{webhook_id}")
    assert (status, one["data"]["target_url"]) == (200, "https://example.com/hook")

    status, _ = fake_attio.request("GET", "/v2/webhooks", token="not-a-token")
    assert status == 401
    status, refused = fake_attio.request(
        "POST", "/v2/webhooks",
        {"data": {"target_url": "ftp://example.com", "subscriptions": SUBSCRIPTIONS}},
    )
    assert (status, refused["code"]) == (400, "validation_type")

    assert fake_attio.request("DELETE", f"/v2/webhooks/{webhook_id}")[0] == 200
    assert fake_attio.request("GET", f"/v2/webhooks/{webhook_id}")[0] == 404


class Receiver(BaseHTTPRequestHandler):
    """Records each POST; answers 200."""

    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((self.headers, body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_triggered_event_arrives_signed_at_a_local_receiver(fake_attio):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/attio"
        status, created = fake_attio.request(
            "POST", "/v2/webhooks", {"data": {"target_url": url, "subscriptions": SUBSCRIPTIONS}}
        )
        assert status == 200
        secret = created["data"]["secret"]
        event = {
            "event_type": "record.created",
            "id": {
                "workspace_id": "14beef7a-99f7-4534-a87e-70b564330a4c",
                "object_id": "97052eb9-e65e-443f-a297-f2d9a4a7f795",
                "record_id": "bf071e1f-6035-429d-b874-d83ea64ea13b",
            },
            "actor": {"type": "workspace-member", "id": "50cf242c-7fa3-4cad-87d0-75b1af71c57b"},
        }
        status, queued = fake_attio.control("POST", "/events", {"data": event})
        assert status == 200, queued
        assert len(queued["data"]) == 1

        deadline = threading.Event()
        for _ in range(200):
            if Receiver.received:
                break
            deadline.wait(0.05)
        assert len(Receiver.received) == 1
        headers, body = Receiver.received[0]
        # The signature, checked here with Python's own HMAC: hex SHA-256 of
        # the body (header names are case-insensitive here).
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        assert headers["Attio-Signature"] == expected
        delivery = json.loads(body)
        assert delivery["webhook_id"] == created["data"]["id"]["webhook_id"]
        assert delivery["events"][0]["event_type"] == "record.created"
        assert delivery["events"][0]["id"]["record_id"] == event["id"]["record_id"]
    finally:
        server.shutdown()
        server.server_close()
