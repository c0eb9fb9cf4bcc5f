"""A reverse proxy on 127.0.0.1 that records every HTTP request it passes to a local storage server
(moto's S3, gcp-storage-emulator), so tests and benchmarks count what a bucket audit really asks
for. It can also answer a request itself (a failure the server would not produce on its own) or run
a hook before passing one on (change an object between listing and reading)."""

from __future__ import annotations

import http.client
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
               "proxy-authorization", "proxy-authenticate"}


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # unquoted, without the query
    query: dict[str, list[str]]

    @property
    def kind(self) -> str:
        """LIST, GET, HEAD, ... : a GET of a bucket listing (S3 list-type=2, GCS JSON API) is a LIST."""
        listing = "list-type" in self.query or (self.path.startswith("/storage/v1/b/")
                                                and self.path.rstrip("/").endswith("/o"))
        return "LIST" if self.method == "GET" and listing else self.method


class RequestCounter:
    """Forwards to `upstream` (http://host:port); `url` is where clients should connect instead."""

    def __init__(self, upstream: str):
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname, parts.port)
        self._lock = threading.Lock()
        self.requests: list[Request] = []
        # answer(request) -> (status, body) to answer instead of the server, or None to pass it on
        self.answer: Callable[[Request], tuple[int, bytes] | None] = lambda request: None
        self.before: Callable[[Request], None] = lambda request: None  # runs before passing one on
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_port}"

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    def kinds(self) -> Counter:
        with self._lock:
            return Counter(r.kind for r in self.requests)

    def paths(self, kind: str) -> list[str]:
        with self._lock:
            return [r.path for r in self.requests if r.kind == kind]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def _handler(self):
        counter = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the clients expect

            def _forward(self) -> None:
                parts = urlsplit(self.path)
                request = Request(self.command, unquote(parts.path), parse_qs(parts.query))
                counter._record(request)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                answer = counter.answer(request)
                if answer is not None:
                    status, payload = answer
                    self.send_response(status)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                counter.before(request)
                upstream = http.client.HTTPConnection(*counter._upstream, timeout=60)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    response = upstream.getresponse()
                    payload = response.read()
                    self.send_response(response.status, response.reason)
                    for key, value in response.getheaders():
                        if key.lower() not in _HOP_BY_HOP and key.lower() != "content-length":
                            self.send_header(key, value)
                    # a HEAD answer keeps the object's length; anything else says what it carries
                    length_header = response.getheader("Content-Length") if self.command == "HEAD" else None
                    self.send_header("Content-Length", length_header or str(len(payload)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(payload)
                finally:
                    upstream.close()

            do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = do_PATCH = _forward

            def log_message(self, format, *args) -> None:  # noqa: A002 - the base class's name
                pass

        return Handler
