"""Computes signature test vectors with Python's hmac, independently of the crate.

Run from this folder: python3 make_signature_vectors.py > signature_vectors.json
Each vector: the secret (used as UTF-8 bytes), the body as hex, and the
lowercase hex HMAC-SHA256 that Attio would send.
"""
import hashlib
import hmac
import json
import random

rng = random.Random(20261126)
delivery = (
    b'{"webhook_id":"23e42eaf-323a-41da-b5bb-fd67eebda553","events":[{"event_type":"note.created",'
    b'"id":{"workspace_id":"14beef7a-99f7-4534-a87e-70b564330a4c","note_id":"ff3f3bd4-40f4-4f80-8187-cd02385af424"},'
    b'"parent_object_id":"97052eb9-e65e-443f-a297-f2d9a4a7f795","parent_record_id":"bf071e1f-6035-429d-b874-d83ea64ea13b",'
    b'"actor":{"type":"workspace-member","id":"50cf242c-7fa3-4cad-87d0-75b1af71c57b"}}]}'
)
cases = [
    ("ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb", delivery),
    ("ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb", b""),
    ("key", b"The quick brown fox jumps over the lazy dog"),
    ("s\u00e9cr\u00e8t \U0001f511", "caf\u00e9 \u2615 events".encode("utf-8")),
    ("".join(rng.choice("0123456789abcdef") for _ in range(64)), bytes(rng.randrange(256) for _ in range(1024))),
    ("x" * 200, bytes(rng.randrange(256) for _ in range(4096))),
]
vectors = [
    {
        "secret": secret,
        "body_hex": body.hex(),
        "signature": hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest(),
    }
    for secret, body in cases
]
print(json.dumps(vectors, indent=1))
