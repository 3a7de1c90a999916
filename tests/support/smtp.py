"""A real SMTP server on loopback, in its own process, that keeps every message it receives.

``SmtpSink.start(directory)`` runs this file as a script (aiosmtpd on 127.0.0.1, a port the system picks) and
returns once the port accepts connections. Each message is spooled as two files in ``directory``:
``<n>.json`` (the envelope: ``mail_from``, ``rcpt_tos``), then ``<n>.eml`` (the raw bytes as received), ``<n>``
counting up from 1 in arrival order. The ``smtp_server`` fixture (tests/conftest.py) points Django at it.
"""

import asyncio
import email.policy
import json
import os
import socket
import subprocess
import sys
import time
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

HOST = "127.0.0.1"
PORT_FILE = "port"


class SmtpSink:
    """The test side of the server: where it listens, and what it has received."""

    def __init__(self, process: subprocess.Popen, spool: Path, port: int):
        self._process = process
        self.spool = spool
        self.host = HOST
        self.port = port

    @classmethod
    def start(cls, directory: Path, timeout: float = 15) -> "SmtpSink":
        """Start the server spooling into ``directory``; raise RuntimeError if it is not listening in ``timeout``."""
        spool = Path(directory) / "spool"
        spool.mkdir(parents=True)
        log = Path(directory) / "server.log"
        with log.open("wb") as stderr:
            # -I: the child imports neither tests/support/ (the script's folder) nor the user's site-packages.
            process = subprocess.Popen(
                [sys.executable, "-I", __file__, str(spool), str(directory)],
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
            )
        sink = None
        try:
            port_file = Path(directory) / PORT_FILE
            deadline = time.monotonic() + timeout
            while not port_file.exists():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the SMTP server did not start:\n{log.read_text(errors='replace')}")
                time.sleep(0.02)
            sink = cls(process, spool, int(port_file.read_text()))
            sink._wait_until_listening(deadline, log)
            return sink
        except BaseException:
            _stop(process)
            raise

    def _wait_until_listening(self, deadline: float, log: Path) -> None:
        while True:
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as connection:
                    if connection.recv(4).startswith(b"220"):  # the server's greeting
                        return
            except OSError:
                pass
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the SMTP server does not accept connections:\n{log.read_text(errors='replace')}")
            time.sleep(0.02)

    def messages(self) -> list[EmailMessage]:
        """Every message received since the last ``clear()``, in arrival order.

        Each is parsed with ``email.policy.default`` (its CRLF line ends read as Python's newlines) and carries the
        envelope as two more attributes: ``mail_from`` (str) and ``rcpt_tos`` (list of str: Bcc recipients included).
        """
        received = []
        for raw in sorted(self.spool.glob("*.eml"), key=lambda path: int(path.stem)):
            # SMTP carries lines ending in CRLF; they are read as Python's newlines (the file keeps what came).
            message = BytesParser(policy=email.policy.default).parsebytes(raw.read_bytes().replace(b"\r\n", b"\n"))
            envelope = json.loads(raw.with_suffix(".json").read_text())
            message.mail_from = envelope["mail_from"]
            message.rcpt_tos = envelope["rcpt_tos"]
            received.append(message)
        return received

    def clear(self) -> None:
        """Forget the messages received so far."""
        for path in self.spool.iterdir():
            path.unlink(missing_ok=True)

    def wait_for(self, count: int, timeout: float = 10) -> list[EmailMessage]:
        """``messages()`` once at least ``count`` have arrived; AssertionError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            received = self.messages()
            if len(received) >= count:
                return received
            if self._process.poll() is not None:
                raise RuntimeError(f"the SMTP server exited (status {self._process.returncode})")
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(received)} message(s) arrived in {timeout} s, not {count}")
            time.sleep(0.02)

    def stop(self) -> None:
        _stop(self._process)

    def __enter__(self) -> "SmtpSink":
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- The server process: python -I smtp.py SPOOL DIRECTORY ---


class _Spool:
    """aiosmtpd handler: every message to two files, the envelope before the bytes (readers look for .eml)."""

    def __init__(self, spool: Path):
        self.spool = spool
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        name = self.spool / str(self.count)
        envelope_data = {"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos)}
        _write_atomically(name.with_suffix(".json"), json.dumps(envelope_data).encode())
        _write_atomically(name.with_suffix(".eml"), envelope.original_content)
        return "250 Message accepted for delivery"


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    os.replace(partial, path)


async def _serve(spool: Path, directory: Path) -> None:
    from aiosmtpd.smtp import SMTP

    handler = _Spool(spool)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, enable_SMTPUTF8=True), HOST, 0)
    # Listening already: the port is published only now, so a reader never sees a port that refuses.
    _write_atomically(directory / PORT_FILE, str(server.sockets[0].getsockname()[1]).encode())
    # Stopped by SIGTERM at the session's end, or by itself once the test process has gone (killed, say).
    parent = os.getppid()
    while os.getppid() == parent:
        await asyncio.sleep(1)
    server.close()


if __name__ == "__main__":
    asyncio.run(_serve(Path(sys.argv[1]), Path(sys.argv[2])))
