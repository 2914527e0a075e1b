#!/usr/bin/env python3
"""Writes the hand-made seeds of each fuzz target into corpus/<target>/seed-*.

The committed corpus is these seeds plus what libFuzzer found, minimized
with `-merge=1` (see README.md). Run this again only to restore the seeds.
"""
import hashlib
import hmac
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
WS = "14beef7a-99f7-4534-a87e-70b564330a4c"
WH = "23e42eaf-323a-41da-b5bb-fd67eebda553"
SECRET = "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"


def webhook(status="active", filt=None, secret=False, event_type="record.created"):
    w = {
        "target_url": "https://example.com/hook",
        "subscriptions": [{"event_type": event_type, "filter": filt}],
        "id": {"workspace_id": WS, "webhook_id": WH},
        "status": status,
        "created_at": "2023-04-27T13:22:49.061281000Z",
    }
    if secret:
        w["secret"] = SECRET
    return w


AND = {"$and": [{"field": "id.object_id", "operator": "equals", "value": "people"}]}
OR = {"$or": [{"field": "actor.type", "operator": "not_equals", "value": "system"},
              {"field": "parent_object_id", "operator": "equals", "value": "x"}]}


def error(status, kind, code, message):
    return {"status_code": status, "type": kind, "code": code, "message": message}


def j(value):
    return json.dumps(value, separators=(",", ":"))


def response(status, body, *headers):
    head = "\n".join([str(status), *headers])
    return (head + "\n\n" + body).encode()


def event(event_type="record.created", actor=None, **fields):
    e = {"event_type": event_type,
         "id": {"workspace_id": WS, "object_id": "people", "record_id": "rec-1"},
         "actor": actor or {"type": "workspace-member", "id": "member-1"}}
    e.update(fields)
    return e


SEEDS = {
    "decode_responses": [
        response(200, j({"data": [webhook(), webhook("degraded", AND), webhook("inactive", OR)]})),
        response(200, j({"data": webhook(secret=True, filt=AND)})),
        response(200, j({"data": webhook("paused", event_type="future.event")})),
        response(200, "{}"),
        response(200, j({"data": []}), "content-type: application/json"),
        response(400, j(error(400, "invalid_request_error", "validation_type", "bad target_url"))),
        response(404, j(error(404, "invalid_request_error", "not_found", f'Webhook with ID "{WH}" was not found.'))),
        response(409, j(error(409, "invalid_request_error", "uniqueness_conflict", "duplicate"))),
        response(429, j(error(429, "rate_limit_error", "rate_limit_exceeded", "slow down")),
                 "retry-after: Tue, 23 May 2023 14:42:01 GMT", "date: Tue, 23 May 2023 14:42:00 GMT"),
        response(429, "", "retry-after: 3"),
        response(503, j(error(503, "internal_server_error", "internal_error", "try again"))),
        response(502, '{"data": [<html>Bad Gateway</html>'),
        response(200, j({"data": webhook(secret=True)})[:120]),
        b"2023-04-27T13:22:49.061281000Z",
        response(200, "1999-12-31T23:59:60.5+01:30"),
    ],
    "delivery_parse": [
        j({"webhook_id": WH, "events": [event()]}).encode(),
        j({"webhook_id": WH, "events": [event("note.created", {"type": "system", "id": None},
                                               parent_object_id="people", parent_record_id="r")]}).encode(),
        j({"webhook_id": WH, "events": [event("record.merged", duplicate_object_id="people",
                                               duplicate_record_id="dup", extra={"nested": [1, 2.5, None, True]})],
           "batch": 1}).encode(),
        j({"webhook_id": WH, "events": [event("brand-new.type", {"type": "robot", "id": "r2", "x": 1})]}).encode(),
        j({"webhook_id": WH, "events": []}).encode(),
        b'{"webhook_id":"not-a-uuid","events":[]}',
    ],
    "signature": [],
    "filter_matches": [
        (j(AND) + "\n" + j(event())).encode(),
        (j(OR) + "\n" + j(event("note.created", {"type": "system", "id": None}, parent_object_id="x"))).encode(),
        ("null\n" + j(event())).encode(),
        (j({"$and": []}) + "\n" + j(event())).encode(),
        (j({"$or": [{"field": "a.b.c", "operator": "equals", "value": "d"},
                    {"field": "id.workspace_id", "operator": "equals", "value": WS},
                    {"field": "actor.id", "operator": "starts_with", "value": "m"}]})
         + "\n" + j(event(a={"b": {"c": "d"}, "list": ["d"]}))).encode(),
    ],
    "fake_dispatcher": [],
}

BODY = j({"webhook_id": WH, "events": [event()]}).encode()
SIG = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
OTHER = hmac.new(b"old", BODY, hashlib.sha256).hexdigest()
SEEDS["signature"] = [
    f"{SECRET}\nattio-signature: {SIG}\nx-attio-signature: {SIG}\n\n".encode() + BODY,
    f"new old\nx-attio-signature: {OTHER.upper()}\n\n".encode() + BODY,
    f"{SECRET}\nattio-signature: {SIG[:63]}\n\n".encode() + BODY,
    f"{SECRET}\nattio-signature: {SIG[:62]}zz\n\n".encode() + BODY,
    f"{SECRET}\n\n".encode() + BODY,
]

ONE = "00000000-0000-0000-0000-000000000001"
TWO = "00000000-0000-0000-0000-000000000002"
CREATE = j({"data": {"target_url": "https://example.com/new",
                     "subscriptions": [{"event_type": "note.created", "filter": OR}]}})
UPDATE = j({"data": {"target_url": "https://example.com/seeded/2"}})


def requests(*parts):
    return "\n%%\n".join(parts).encode()


RW = "authorization: Bearer rw"
RO = "authorization: Bearer ro"
SEEDS["fake_dispatcher"] = [
    requests(f"GET /v2/webhooks?limit=10&offset=1\n{RO}\n",
             f"GET /v2/webhooks/{ONE}\n{RO}\n",
             f"POST /v2/webhooks\n{RO}\n\n{CREATE}"),
    requests(f"POST /v2/webhooks\n{RW}\ncontent-type: application/json\n\n{CREATE}",
             f"POST /v2/webhooks\n{RW}\n\n{CREATE}",
             f"PATCH /v2/webhooks/{ONE}\n{RW}\n\n{UPDATE}",
             f"DELETE /v2/webhooks/{TWO}\n{RW}\n",
             f"DELETE /v2/webhooks/{TWO}\n{RW}\n"),
    requests('POST /__fake/faults\n\n{"data":{"fault":{"type":"status_after_handling","status":503},"method":"DELETE","path":"/v2/webhooks/*"}}',
             f"DELETE /v2/webhooks/{ONE}\n{RW}\n",
             'POST /__fake/faults\n\n{"data":{"fault":{"type":"delay","millis":5000},"times":2}}',
             f"GET /v2/webhooks\n{RW}\n",
             'POST /__fake/faults\n\n{"data":{"fault":{"type":"truncated_body"}}}',
             f"GET /v2/webhooks/{TWO}\n{RW}\n",
             'POST /__fake/faults\n\n{"data":{"fault":{"type":"rate_limited_for","seconds":2}}}',
             'GET /__fake/faults\n'),
    requests('POST /__fake/events\n\n' + j({"data": event()}),
             'POST /__fake/clock/advance\n\n{"data":{"seconds":86400.5}}',
             'GET /__fake/deliveries\n',
             'GET /__fake/requests\n',
             'GET /__fake/webhooks\n',
             'POST /__fake/reset\n',
             'POST /__fake/webhooks\n\n' + j({"data": [{"target_url": "https://example.com/s",
                                                         "subscriptions": [{"event_type": "task.created", "filter": None}],
                                                         "status": "degraded", "webhook_id": TWO}]})),
    requests(f"GET /v2/webhooks?limit=5\n{RW}\n",
             f"PUT /v2/webhooks/{ONE}\n{RW}\n",
             "GET /v2/webhooks\nauthorization: Basic xyz\n",
             f"PATCH /v2/webhooks/nope\n{RW}\n\n{{}}"),
]

for target, seeds in SEEDS.items():
    directory = os.path.join(HERE, "corpus", target)
    os.makedirs(directory, exist_ok=True)
    for index, seed in enumerate(seeds):
        with open(os.path.join(directory, f"seed-{index:02}"), "wb") as f:
            f.write(seed)
    print(f"{target}: {len(seeds)} seeds")
