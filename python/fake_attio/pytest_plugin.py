"""pytest fixtures for the fake Attio (registered by the wheel's `pytest11`
entry point: installing the wheel is enough).

`fake_attio_server`: one fake for the whole session (for each xdist
worker): the one `FAKE_ATTIO_URL` names when it is set (a running binary
or container; its control token in `FAKE_ATTIO_CONTROL_TOKEN`), else a
`fake-attio` the plugin starts on a free loopback port, accepting
`http://` loopback targets, and stops at the end (exit 0 checked).

`fake_attio`: a fresh isolated workspace on that fake for each test, with
`base_url`, `token`, `read_only_token`, `control_token`, `request(...)`,
`control(...)` and `settle(...)`; deleted after the test. Tests running
at once (xdist workers against one fake included) never see each
other's webhooks, journal, faults, deliveries or resets.
"""

import pytest

from fake_attio import FakeAttio, Server


@pytest.fixture(scope="session")
def fake_attio_server():
    """The session's fake, as a `fake_attio.Server`."""
    attached = Server.from_env()
    if attached is not None:
        yield attached
        return
    fake = FakeAttio().start()
    try:
        yield fake.server()
    finally:
        code = fake.stop()
    assert code == 0, f"fake-attio exited {code} on SIGTERM"


@pytest.fixture
def fake_attio(fake_attio_server):
    """A workspace of its own for this test, deleted afterwards."""
    with fake_attio_server.workspace() as workspace:
        yield workspace
