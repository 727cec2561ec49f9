"""A local HTTP server that stands in for the WeCom, DingTalk and Feishu robot endpoints.

Tests (of this app and of apps that notify) point a channel at ``server.url(...)`` and
read what arrived in ``server.received``; ``server.reply`` sets the answer.
"""

import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class RobotServer:
    """Record every POST and answer with ``reply`` = (HTTP status, JSON body)."""

    reply: tuple[int, Any] = (200, {"errcode": 0, "errmsg": "ok"})
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                parts = urllib.parse.urlsplit(self.path)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw.decode(errors="replace")
                robot.received.append(
                    Received(
                        path=parts.path,
                        query=dict(urllib.parse.parse_qsl(parts.query)),
                        headers=dict(self.headers.items()),
                        body=body,
                    )
                )
                status, answer = robot.reply
                data = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "RobotServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    def url(self, path: str = "/send?key=test-key-0123456789") -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{path}"
