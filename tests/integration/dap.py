"""A minimal Debug Adapter Protocol client: what an editor does when it attaches.

Messages are JSON bodies behind a `Content-Length: N` header and a blank line, over
TCP. `attach_and_detach` speaks the start of a real session with debugpy: initialize,
attach, configurationDone, threads, disconnect (leaving the debuggee running), and
returns every message the adapter sent.
"""

from __future__ import annotations

import json
import socket
from typing import Any, BinaryIO

Message = dict[str, Any]


def send(sock: socket.socket, seq: int, command: str, arguments: Message) -> None:
    body = json.dumps(
        {"seq": seq, "type": "request", "command": command, "arguments": arguments}
    ).encode()
    sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)


def receive(stream: BinaryIO) -> Message:
    headers: dict[str, str] = {}
    while line := stream.readline().strip():
        key, _, value = line.decode("ascii").partition(":")
        headers[key.strip().lower()] = value.strip()
    if "content-length" not in headers:
        raise ConnectionError(f"not a DAP message header: {headers!r}")
    message: Message = json.loads(stream.read(int(headers["content-length"])))
    return message


def attach_and_detach(port: int, *, timeout: float = 15) -> list[Message]:
    """One short debugging session with the adapter listening on 127.0.0.1:`port`."""
    messages: list[Message] = []
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        stream = sock.makefile("rb")
        send(sock, 1, "initialize", {"clientID": "spot-tests", "adapterID": "debugpy"})
        send(sock, 2, "attach", {"justMyCode": True})
        while True:
            message = receive(stream)
            messages.append(message)
            if message.get("event") == "initialized":
                send(sock, 3, "configurationDone", {})
                send(sock, 4, "threads", {})
            elif message.get("command") == "threads":
                send(sock, 5, "disconnect", {"terminateDebuggee": False})
            elif message.get("command") == "disconnect":
                return messages


def response(messages: list[Message], command: str) -> Message:
    return next(m for m in messages if m["type"] == "response" and m["command"] == command)


def event(messages: list[Message], name: str) -> Message:
    return next(m for m in messages if m["type"] == "event" and m["event"] == name)
