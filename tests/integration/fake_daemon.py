"""A fake Docker daemon on a unix socket that the test owns (the real engine is shared).

Without `upstream` it accepts connections and never answers. With `upstream` (the
real engine's socket) it passes every request through, except that it can stall the
requests naming `stall` (a daemon hanging mid-run) or go away and come back
(`outage`: what a client sees while a daemon restarts). The real daemon is never
touched.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from pathlib import Path


class FakeDaemon:
    def __init__(self, path: Path, upstream: str | None = None, stall: bytes = b"") -> None:
        self.path, self.upstream, self.stall = path, upstream, stall
        self.stalled = threading.Event()
        self._trigger: bytes = b""
        self._outage = 0.0
        self.outage_started = threading.Event()
        self.outage_over = threading.Event()
        self._lock = threading.Lock()
        self._held: list[socket.socket] = []
        self._timer: threading.Timer | None = None
        self._closed = False
        self._listen()

    @property
    def url(self) -> str:
        return f"unix://{self.path}"

    def outage_on(self, request: bytes, seconds: float) -> None:
        """At the first request naming `request`: drop every connection, be gone `seconds`."""
        self._trigger, self._outage = request, seconds

    def end_outage(self) -> None:
        """Come back now, however long the outage was meant to last."""
        with self._lock:
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
            self._come_back()

    def close(self) -> None:
        """Gone for good (the test is over)."""
        self._closed = True
        self._drop()

    def _drop(self) -> None:
        _hang_up(self._server)
        self.path.unlink(missing_ok=True)
        with self._lock:
            held, self._held = self._held, []
        for sock in held:
            _hang_up(sock)

    def _listen(self) -> None:
        self._server = socket.socket(socket.AF_UNIX)
        self._server.bind(str(self.path))
        self._server.listen(64)
        threading.Thread(target=self._accept, args=(self._server,), daemon=True).start()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            with self._lock:
                self._held.append(client)
            if not self.upstream:
                continue
            engine = socket.socket(socket.AF_UNIX)
            engine.connect(self.upstream)
            with self._lock:
                self._held.append(engine)
            threading.Thread(target=self._pump, args=(client, engine, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(engine, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, requests: bool) -> None:
        try:
            while data := source.recv(65536):
                if requests:
                    if self.stall and self.stall in data:
                        self.stalled.set()
                        return  # keep the connection open, answer nothing
                    if self._trigger and self._trigger in data and not self.outage_started.is_set():
                        self._go_away()
                        return
                sink.sendall(data)
        except OSError:
            return

    def _go_away(self) -> None:
        self.outage_started.set()
        self._drop()
        timer = threading.Timer(self._outage, self._come_back)
        timer.daemon = True
        with self._lock:
            self._timer = timer
        timer.start()

    def _come_back(self) -> None:
        with self._lock:
            self._timer = None
        if not self._closed:
            self._listen()
        self.outage_over.set()


def _hang_up(sock: socket.socket) -> None:
    """End a connection as a restarting daemon does. close() alone is not enough: while a
    pump thread is blocked in recv() on the socket, Linux keeps it open (no FIN, no
    reset), and the client waits out its whole read bound; shutdown() ends it at once
    and wakes the blocked thread (an accept() on the listening socket too)."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
