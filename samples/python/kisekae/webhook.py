"""kisekae.webhook: checks the signature of a kisekae webhook request, as the
page that receives it must before it trusts the body.

The API's webhook sender POSTs a JSON body with the header

    X-Kisekae-Signature: t=<unix time>,v1=<hex HMAC-SHA256>

the HMAC under the webhook's secret (given to RegisterWebhook) of
"<unix time>.<body>". verify_webhook() recomputes it over the RAW body (the
bytes received, before any JSON decoding), compares in constant time and
refuses a time further than `tolerance` seconds from now, so a recorded
request cannot be replayed later. Events arrive at least once: de-duplicate
by the body's "id" (also the header X-Kisekae-Event-Id).
"""

import hashlib
import hmac
import re
import time

TOLERANCE_S = 300        # seconds a signature's time may be away from now

_TIME = re.compile(r"[0-9]{1,12}")
_HEX = re.compile(r"[0-9a-f]{64}")


def verify_webhook(body, signature, secret, tolerance=TOLERANCE_S, now=None):
    """True when signature (the X-Kisekae-Signature value) signs body (bytes,
    or str taken as UTF-8) under secret at a time at most tolerance seconds
    from now (default: the clock). A header not of the form "t=...,v1=..."
    is refused."""
    if isinstance(body, str):
        body = body.encode()
    if not secret or not isinstance(signature, str):
        return False
    stamp, signatures = None, []
    for part in signature.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and _TIME.fullmatch(value):
            stamp = value
        elif key == "v1" and _HEX.fullmatch(value):
            signatures.append(value)
    if stamp is None or not signatures:
        return False
    if abs((time.time() if now is None else now) - int(stamp)) > tolerance:
        return False
    expected = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    good = False
    for candidate in signatures:         # all compared: no early way out
        good = hmac.compare_digest(expected, candidate) or good
    return good
