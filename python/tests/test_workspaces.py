"""Every test its own workspace on one shared fake. With xdist
(`pytest -n 4`) against one running fake (`FAKE_ATTIO_URL`, as
scripts/build-wheel.sh --test runs it against the binary and
scripts/compose-e2e.py against a container) the 64 tests below run four
at a time on one server; each sees only its own webhooks and journal,
also after it resets or deletes its workspace, and a deleted workspace's
token gets 401 and lands in no journal (not the server's default
workspace's, not its own successor's).

The settle test's receiver listens on 127.0.0.1, where a fake on this
machine delivers. A fake in a container reaches the host another way:
`FAKE_ATTIO_TEST_RECEIVER_BIND` is the address the receiver listens on
(the docker bridge's) and `FAKE_ATTIO_TEST_RECEIVER_HOST` the name the
fake delivers to (`host.docker.internal`), as scripts/compose-e2e.py
sets them."""

import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from fake_attio import _send

RECEIVER_BIND = os.environ.get("FAKE_ATTIO_TEST_RECEIVER_BIND", "127.0.0.1")
RECEIVER_HOST = os.environ.get("FAKE_ATTIO_TEST_RECEIVER_HOST", RECEIVER_BIND)

SUBSCRIPTIONS = [{"event_type": "record.created", "filter": None}]


def create(ws, url):
    status, body = ws.request(
        "POST", "/v2/webhooks", {"data": {"target_url": url, "subscriptions": SUBSCRIPTIONS}}
    )
    assert status == 200, body


def listed(ws):
    status, body = ws.request("GET", "/v2/webhooks")
    assert status == 200, body
    return [w["target_url"] for w in body["data"]]


def default_journal(server):
    status, body = _send(server.base_url, "GET", "/__fake/requests", None, server.control_token)
    assert status == 200, body
    return body["data"]


@pytest.mark.parametrize("n", range(64))
def test_each_test_sees_only_its_own_workspace(fake_attio, fake_attio_server, n):
    def url(k):
        return f"https://t{n}-{k}.test/hook"

    ws = fake_attio
    create(ws, url(0))
    assert listed(ws) == [url(0)]
    expected = [url(0), url(1)]
    if n % 4 == 0:
        assert ws.control("POST", "/reset")[0] == 200
        assert listed(ws) == []
        expected = [url(1)]
    elif n % 4 == 1:
        old_token = ws.token
        ws.delete()
        late = f"/v2/webhooks?late=t{n}"
        status, body = ws.request("GET", late, token=old_token)
        assert (status, body["code"]) == (401, "unauthorized")
        ws = fake_attio_server.workspace()
        expected = [url(1)]
        assert late not in [r["path"] for r in default_journal(fake_attio_server)]
    try:
        create(ws, url(1))
        assert listed(ws) == expected
        status, journal = ws.control("GET", "/requests")
        assert status == 200
        assert journal["data"], "its own requests are in its journal"
        for request in journal["data"]:
            assert f"t{n}-" in request["body"] or request["body"] == "", request
            assert "late=" not in request["path"], request
    finally:
        if ws is not fake_attio:
            ws.delete()


class Slow(BaseHTTPRequestHandler):
    """Answers 200 after 0.3 s."""

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        threading.Event().wait(0.3)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_settle_answers_once_the_delivery_was_attempted(fake_attio):
    receiver = ThreadingHTTPServer((RECEIVER_BIND, 0), Slow)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        target = f"http://{RECEIVER_HOST}:{receiver.server_port}/hook"
        create(fake_attio, target)
        event = {
            "event_type": "record.created",
            "id": {
                "workspace_id": fake_attio.workspace_id,
                "object_id": "97052eb9-e65e-443f-a297-f2d9a4a7f795",
                "record_id": "bf071e1f-6035-429d-b874-d83ea64ea13b",
            },
            "actor": {"type": "system", "id": None},
        }
        status, queued = fake_attio.control("POST", "/events", {"data": event})
        assert (status, len(queued["data"])) == (200, 1), queued
        fake_attio.settle(timeout=10)
        status, log = fake_attio.control("GET", "/deliveries")
        assert status == 200
        assert [a["outcome"] for a in log["data"]] == [{"type": "delivered", "status": 200}], log
    finally:
        receiver.shutdown()
        receiver.server_close()
