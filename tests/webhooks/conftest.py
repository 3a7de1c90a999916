"""A real HTTP receiver on loopback (``http.server`` in a thread, a random port) for the webhook tests."""

import http.server
import threading
from dataclasses import dataclass, field

import pytest

from webhooks.models import Endpoint


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    # What to answer, one per request; the last is repeated once they run out.
    answers: list[tuple[int, dict, bytes]] = field(default_factory=lambda: [(200, {}, b"ok")])
    got_one: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def receiver():
    state = Receiver(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            index = min(len(state.requests), len(state.answers)) - 1
            status, headers, answer = state.answers[index]
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
            state.got_one.set()

        do_GET = do_POST  # noqa: N815 (a followed redirect would GET: counted, so a test sees it)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/uce"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def endpoint(db, receiver, admin_user):
    """An active endpoint on the receiver, subscribed to every event."""
    return Endpoint.objects.create(
        url=receiver.url,
        events=["snapshot.refreshed", "alert.fired", "import.finished", "assignment.changed"],
        created_by=admin_user,
    )
