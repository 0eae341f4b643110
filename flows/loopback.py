"""A real HTTP server on 127.0.0.1, for the demo, the tests and the benchmarks: routes map a path to a handler.

It counts the requests it answers (`requests`), the requests in flight at once (`max_in_flight`) and records each
request's path and headers (`hits`)."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

Route = Callable[[BaseHTTPRequestHandler], None]


class LoopbackServer:
    """Serves from the moment it is made until `close()` (or the end of a `with` block); routes may be set later."""

    def __init__(self, protocol_version: str = "HTTP/1.1"):
        self.routes: dict[str, Route] = {}
        self.hits: list[tuple[str, dict]] = []
        self.in_flight = self.max_in_flight = self.requests = 0
        self.count_lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _dispatch(self):
                with outer.count_lock:
                    outer.in_flight += 1
                    outer.requests += 1
                    outer.max_in_flight = max(outer.max_in_flight, outer.in_flight)
                    outer.hits.append((self.path, dict(self.headers)))
                try:
                    route = outer.routes.get(self.path.split("?")[0])
                    if route is None:
                        self.send_error(404)
                    else:
                        route(self)
                finally:
                    with outer.count_lock:
                        outer.in_flight -= 1

            do_GET = _dispatch  # noqa: N815 (the names http.server looks up)
            do_POST = _dispatch  # noqa: N815

            def log_message(self, *args):
                pass

        Handler.protocol_version = protocol_version
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return self.base + path

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> "LoopbackServer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def respond(body: bytes | str, status: int = 200, ctype: str = "text/html; charset=utf-8",
            headers: dict | None = None) -> Route:
    """A route that answers with this body, status and headers."""
    data = body.encode() if isinstance(body, str) else body

    def route(req: BaseHTTPRequestHandler) -> None:
        req.send_response(status)
        req.send_header("Content-Type", ctype)
        req.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            req.send_header(k, v)
        req.end_headers()
        req.wfile.write(data)

    return route
