"""The connection under app/mailbox/imap.py's sessions: IMAPClient with its socket handed to
a `Line` as soon as it connects (before the greeting and any TLS handshake), so a deadline
can cut a connection that never speaks.

A module of its own so that imapclient (and imaplib) load when a session first opens, not in
every web worker from its start: app/mailbox/imap.py imports it only then."""

from __future__ import annotations

import socket
import ssl
import threading
from contextlib import suppress
from typing import TYPE_CHECKING, Any

import imapclient
from imapclient import imap4, tls

if TYPE_CHECKING:
    from app.mailbox.imap import ImapLogin


class Line:
    """The connection's socket, seen from outside the thread that uses it: `cut()` shuts it
    down so that a read or write blocked in that thread returns at once. It keeps a dup of
    the socket because TLS wrapping detaches the original object from its descriptor."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self.cut_off = False

    def attach(self, sock: socket.socket) -> None:
        with self._lock:
            if self.cut_off:  # the deadline passed while connecting
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            elif self._socket is None:
                self._socket = sock.dup()

    def cut(self) -> None:
        with self._lock:
            self.cut_off = True
            self._shutdown()

    def _shutdown(self) -> None:
        if self._socket is not None:
            with suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        with self._lock:
            self.cut_off = True
            if self._socket is not None:
                self._socket.close()
                self._socket = None


def _connect(host: str, port: int, timeout: float | None, line: Line) -> socket.socket:
    if line.cut_off:
        raise TimeoutError
    sock = socket.create_connection((host, port), timeout)
    line.attach(sock)
    return sock


class _PlainImap4(imap4.IMAP4WithTimeout):  # type: ignore[misc]
    def __init__(self, line: Line, host: str, port: int, timeout: float | None) -> None:
        self._line = line
        super().__init__(host, port, timeout)

    def _create_socket(self, timeout: float | None = None) -> socket.socket:
        return _connect(self.host, self.port, timeout or self._timeout, self._line)


class _TlsImap4(tls.IMAP4_TLS):  # type: ignore[misc]
    def __init__(
        self, line: Line, host: str, port: int, context: ssl.SSLContext, timeout: float | None
    ) -> None:
        self._line = line
        super().__init__(host, port, context, timeout)

    def _create_socket(self, timeout: float | None = None) -> socket.socket:
        sock = _connect(self.host, self.port, timeout or self._timeout, self._line)
        try:
            return self.ssl_context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[no-any-return]
        except BaseException:
            sock.close()
            raise


class Client(imapclient.IMAPClient):  # type: ignore[misc]
    """IMAPClient whose socket is handed to a `Line` as soon as it connects (before the
    greeting and any TLS handshake), so a deadline can cut a connection that never speaks."""

    def __init__(
        self, line: Line, login: ImapLogin, context: ssl.SSLContext, timeout: float
    ) -> None:
        self._line = line
        super().__init__(
            login.host,
            login.port,
            ssl=login.security == "tls",
            ssl_context=context,
            timeout=imapclient.SocketTimeout(connect=timeout, read=timeout),
        )
        self._imap.debug = 0  # no protocol log: it costs time per line and holds the LOGIN
        self.normalise_times = False  # INTERNALDATE with its offset, not naive local time

    def _create_IMAP4(self) -> Any:
        timeout = self._timeout.connect
        if self.ssl:
            return _TlsImap4(self._line, self.host, self.port, self.ssl_context, timeout)
        return _PlainImap4(self._line, self.host, self.port, timeout)
