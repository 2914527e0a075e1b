"""pytest fixtures for the fake Attio (registered by the wheel's `pytest11`
entry point: installing the wheel is enough).

`fake_attio`: one running fake per test on a free loopback port, with
`base_url`, `token`, `control_token`, `request(...)` and `control(...)`;
stopped after the test. It accepts `http://` loopback targets, so a test
can receive its deliveries on a local server.
"""

import pytest

from fake_attio import FakeAttio


@pytest.fixture
def fake_attio():
    """A fake Attio for this test, stopped (exit 0 checked) afterwards."""
    fake = FakeAttio().start()
    try:
        yield fake
    finally:
        code = fake.stop()
    assert code == 0, f"fake-attio exited {code} on SIGTERM"
