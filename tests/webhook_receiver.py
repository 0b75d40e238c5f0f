"""webhook_receiver.py: an HTTP endpoint on loopback that records the webhook
POSTs the API sends, for the tests that check deliveries (the integration
suite's test_webhooks_zeep.py, the samples suite's test_tints_webhooks.py).
tests/ is on sys.path of every pytest suite (tests/conftest.py).
"""

import http.server
import json
import threading


class Receiver:
    """An HTTP endpoint that records each POST (headers, body) and answers
    `status` (200 unless told otherwise)."""

    def __init__(self, port):
        self.posts, self.status, self.lock = [], 200, threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    status = receiver.status
                    receiver.posts.append((dict(self.headers.items()), body, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self, user_id=None, answered=200):
        """The bodies (parsed) of the POSTs answered `answered`, in arrival order."""
        with self.lock:
            posts = list(self.posts)
        out = []
        for headers, body, status in posts:
            event = json.loads(body)
            if status == answered and (user_id is None or event["data"]["userId"] == user_id):
                out.append(event)
        return out

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
