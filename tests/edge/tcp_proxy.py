"""A TCP relay in front of the real broker, so a test can cut the network and restore it."""

from __future__ import annotations

import contextlib
import select
import socket
import threading


class TcpProxy:
    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.RLock()
        self._threads: list[threading.Thread] = []
        self._running = False

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        listener.settimeout(0.1)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._running = True
        self._spawn(self._accept)

    def cut(self) -> None:
        """Drop every connection and refuse new ones: the broker is gone."""
        self._running = False
        for thread in self._threads:
            thread.join(2)
        self._threads.clear()
        with self._lock:
            for conn in self._conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            self._conns.clear()
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def restore(self) -> None:
        self.start()

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def _spawn(self, target, *args) -> None:  # type: ignore[no-untyped-def]
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _accept(self) -> None:
        while self._running and self._listener is not None:
            try:
                client, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=2)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, server]
                if not self._running:  # cut while we were connecting
                    self._close(client, server)
                    return
            self._spawn(self._pump, client, server)

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        pair = {a: b, b: a}
        while self._running:
            try:
                ready, _, _ = select.select([a, b], [], [], 0.1)
                for src in ready:
                    data = src.recv(65536)
                    if not data:
                        return self._close(a, b)
                    pair[src].sendall(data)
            except (OSError, ValueError):
                return self._close(a, b)
        return None

    def _close(self, *socks: socket.socket) -> None:
        with self._lock:
            for sock in socks:
                if sock in self._conns:
                    self._conns.remove(sock)
                sock.close()
