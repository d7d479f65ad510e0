"""A local stand-in for a commercial SMS gateway's HTTP API (what lies outside the company), used by
the tests and by `make demo`:

    POST /v1/sms {"to", "text", "client_message_id"}      -> 200 {"message_id", "duplicate"}
    GET  /v1/sms/reports?client_message_id=...            -> 200 {"message_id", "to", "status"} | 404

HTTP basic authentication (SMS_GATEWAY_ACCOUNT / SMS_GATEWAY_KEY), 401 otherwise; a client message id
is accepted once (a repeat gets the first message's id, `duplicate: true`, and sends nothing). Tests
can make it answer an error or hang, before or after it stored the message, and hold its answer.
Every message it sends is appended to a JSON-lines log when one is given.

    python -m tests.sms_gateway --port 8591 --log .local/demo/sms_gateway.log
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse


@dataclass
class Fault:
    status: int | None = None  # answer this status instead of 200
    hang_seconds: float = 0.0  # wait this long before answering
    after_storing: bool = False  # the message is stored (sent) before the fault


class SmsGateway:
    def __init__(
        self, account: str, key: str, log: Path | None = None, port: int = 0, host: str = "127.0.0.1"
    ) -> None:
        self.credentials = base64.b64encode(f"{account}:{key}".encode()).decode()
        self.log = log
        self.messages: dict[str, dict] = {}  # client_message_id -> message
        self.requests = 0
        self.faults: list[Fault] = []
        self.received = threading.Event()  # set when a message is stored
        self.release = threading.Event()  # while held, answers wait for this
        self.release.set()
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer((host, port), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"

    # --- control (tests) ---
    def fail_next(self, count: int, status: int = 500, after_storing: bool = False) -> None:
        self.faults += [Fault(status=status, after_storing=after_storing) for _ in range(count)]

    def hang_next(self, count: int, seconds: float, after_storing: bool = False) -> None:
        self.faults += [Fault(hang_seconds=seconds, after_storing=after_storing) for _ in range(count)]

    def hold_answers(self) -> None:
        self.release.clear()

    def sent_to(self, to: str | None = None) -> list[dict]:
        with self.lock:
            return [m for m in self.messages.values() if to is None or m["to"] == to]

    def start(self) -> SmsGateway:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    # --- HTTP ---
    def _store(self, body: dict) -> tuple[dict, bool]:
        with self.lock:
            existing = self.messages.get(body["client_message_id"])
            if existing:
                return existing, True
            message = {
                "message_id": uuid.uuid4().hex,
                "client_message_id": body["client_message_id"],
                "to": body["to"],
                "text": body["text"],
                "status": "delivered",
                "received_at": time.strftime("%Y-%m-%d %H:%M:%S"),
            }
            self.messages[body["client_message_id"]] = message
            if self.log:
                with self.log.open("a", encoding="utf-8") as log:
                    log.write(json.dumps(message, ensure_ascii=False) + "\n")
        self.received.set()
        return message, False

    def _handler(self):
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def _answer(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout): like a real gateway, the work is done

            def _authorised(self) -> bool:
                if self.headers.get("Authorization", "") == f"Basic {gateway.credentials}":
                    return True
                self._answer(401, {"error": "unauthorised"})
                return False

            def do_POST(self) -> None:
                if not self._authorised():
                    return
                if urlparse(self.path).path != "/v1/sms":
                    return self._answer(404, {"error": "no such endpoint"})
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if not all(body.get(k) for k in ("to", "text", "client_message_id")):
                    return self._answer(400, {"error": "to, text and client_message_id are required"})
                with gateway.lock:
                    gateway.requests += 1
                    fault = gateway.faults.pop(0) if gateway.faults else None
                stored = None
                if fault is None or fault.after_storing:
                    stored = gateway._store(body)
                if fault and fault.hang_seconds:
                    time.sleep(fault.hang_seconds)
                gateway.release.wait()
                if fault and fault.status:
                    return self._answer(fault.status, {"error": "internal error"})
                if stored is None:  # a hang without storing: the gateway dropped the request
                    return self._answer(503, {"error": "busy"})
                message, duplicate = stored
                self._answer(200, {"message_id": message["message_id"], "duplicate": duplicate})

            def do_GET(self) -> None:
                if not self._authorised():
                    return
                url = urlparse(self.path)
                if url.path != "/v1/sms/reports":
                    return self._answer(404, {"error": "no such endpoint"})
                client_id = parse_qs(url.query).get("client_message_id", [""])[0]
                with gateway.lock:
                    message = gateway.messages.get(client_id)
                if not message:
                    return self._answer(404, {"error": "unknown client_message_id"})
                self._answer(200, {k: message[k] for k in ("message_id", "to", "status")})

        return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="the interface to listen on")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", type=Path, required=True)
    args = parser.parse_args()
    gateway = SmsGateway(
        os.environ["SMS_GATEWAY_ACCOUNT"], os.environ["SMS_GATEWAY_KEY"], args.log, args.port, args.host
    )
    print(f"SMS gateway stand-in on {gateway.url}, log {args.log}", flush=True)
    gateway.server.serve_forever()


if __name__ == "__main__":
    main()
