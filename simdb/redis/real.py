"""A real ``redis-server`` as a child process: no persistence, loopback, stopped by PID."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from simdb.errors import MissingDependencyError, SimdbError

log = logging.getLogger("simdb.redis")


def find_redis_server() -> str:
    """Path of ``redis-server``; :class:`MissingDependencyError` saying what to install if absent."""
    path = shutil.which("redis-server")
    if path is None and os.path.exists("/usr/sbin/redis-server"):
        path = "/usr/sbin/redis-server"
    if path is None:
        raise MissingDependencyError(
            "redis-server not found on PATH: install the Debian package redis-server "
            "(scripts/install-system-deps.sh) or use the fake engine (--engine fake)"
        )
    return path


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class RealRedis:
    """Runs ``redis-server`` on ``port`` (a free one if 0) without RDB/AOF persistence."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        password: str | None = None,
        options: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.host = host
        self.options = options
        """More ``redis-server`` settings, as ``(name, value)`` pairs."""
        self.port = port
        self.password = password
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir: Path | None = None

    @property
    def pid(self) -> int | None:
        """The child's PID while it runs."""
        return None if self._proc is None else self._proc.pid

    def client(self, db: int = 0) -> redis.Redis:
        """A redis-py client for this server."""
        return redis.Redis(host=self.host, port=self.port, db=db, password=self.password)

    def start(self, timeout: float = 20.0) -> tuple[str, int]:
        """Start the server and return ``(host, port)`` once it answers ``PING``."""
        binary = find_redis_server()
        attempts = 3 if self.port == 0 else 1
        for attempt in range(attempts):
            port = self.port or _free_port(self.host)
            self._dir = Path(tempfile.mkdtemp(prefix="simdb-redis-"))
            args = [
                binary,
                "--port",
                str(port),
                "--bind",
                self.host,
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self._dir),
                "--daemonize",
                "no",
                "--protected-mode",
                "no",
                "--logfile",
                str(self._dir / "redis.log"),
            ]
            if self.password:
                args += ["--requirepass", self.password]
            for name, value in self.options:
                args += [f"--{name}", value]
            self._proc = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            if self._wait_ready(port, timeout):
                self.port = port
                log.info("redis-server pid %d on %s:%d", self._proc.pid, self.host, port)
                return self.host, port
            detail = self._log_tail()
            self.stop()
            if attempt + 1 == attempts or "Address already in use" not in detail:
                raise SimdbError(f"redis-server did not start on {self.host}:{port}: {detail}")
        raise AssertionError("unreachable")

    def _wait_ready(self, port: int, timeout: float) -> bool:
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        client = redis.Redis(host=self.host, port=port, password=self.password, socket_timeout=1)
        try:
            while time.monotonic() < deadline:
                if self._proc.poll() is not None:
                    return False
                try:
                    if client.ping():
                        return True
                except redis.ConnectionError:
                    pass
                time.sleep(0.01)
            return False
        finally:
            client.close()

    def _log_tail(self) -> str:
        if self._dir is None:
            return "no log"
        path = self._dir / "redis.log"
        try:
            lines = path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no log"
        return " | ".join(lines[-3:]) or "empty log"

    def stop(self) -> None:
        """Terminate the child by PID and remove its directory."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def running(self) -> bool:
        """Whether the child process is alive."""
        return self._proc is not None and self._proc.poll() is None
