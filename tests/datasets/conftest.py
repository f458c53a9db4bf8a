import functools
import http.server
import threading

import pytest


@pytest.fixture
def serve():
    """serve(path) -> an http://127.0.0.1 URL for a local file, as a download source (pooch fetches
    over HTTP; the tests never reach the network)."""
    servers = []

    def url(path):
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(path.parent))
        handler.log_message = lambda *a: None
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/{path.name}"

    yield url
    for s in servers:
        s.shutdown()
