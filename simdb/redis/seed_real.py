"""Load a snapshot's Redis part into a real ``redis-server`` over the wire.

:func:`load_real` streams the records into empty scratch databases while the part is being read and
swaps them in atomically once it is accepted; :class:`Spool` keeps the commands (pipelined RESP, what
``redis-cli --pipe`` reads) so that a reset replays them after ``FLUSHALL``. Both the Redis fake with
``engine=real`` and ``simdb snapshot load`` (:func:`simdb.snapshot.load_redis.load_redis`) use it.
"""

from __future__ import annotations

import queue
import select
import socket
import tempfile
import threading
from collections.abc import Callable, Collection
from pathlib import Path
from typing import IO

import redis

from simdb.errors import SimdbError
from simdb.redis.seed import MAX_DB, Entry, iter_batches, part_files


class RedisLoadError(SimdbError):
    """The server refused a command while loading."""


def _cmd(*args: bytes) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join([b"$%d\r\n%s\r\n" % (len(a), a) for a in args])


def _score(score: float) -> bytes:
    if score == float("inf"):
        return b"+inf"
    if score == float("-inf"):
        return b"-inf"
    return repr(score).encode()


_CHUNK = 1000  # elements per command for big collections


def entry_commands(key: bytes, entry: Entry) -> list[bytes]:
    """The RESP commands that recreate one key on a real server."""
    if isinstance(entry, bytes):
        return [_cmd(b"SET", key, entry)]
    type_, value, ttl = entry
    out: list[bytes] = []
    if type_ == "string":
        if ttl is not None:
            return [_cmd(b"SET", key, value, b"PX", b"%d" % ttl)]
        return [b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(key), key, len(value), value)]
    if type_ in ("list", "set"):
        verb = b"RPUSH" if type_ == "list" else b"SADD"
        items = list(value)
        for i in range(0, len(items), _CHUNK):
            out.append(_cmd(verb, key, *items[i : i + _CHUNK]))
    elif type_ == "hash":
        pairs = [x for fv in value.items() for x in fv]
        for i in range(0, len(pairs), 2 * _CHUNK):
            out.append(_cmd(b"HSET", key, *pairs[i : i + 2 * _CHUNK]))
    else:
        flat = [x for member, score in value.items() for x in (_score(score), member)]
        for i in range(0, len(flat), 2 * _CHUNK):
            out.append(_cmd(b"ZADD", key, *flat[i : i + 2 * _CHUNK]))
    if ttl is not None and out:
        out.append(_cmd(b"PEXPIRE", key, b"%d" % ttl))
    return out


_SET = b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"


class Spool:
    """A Redis part as pipelined RESP commands in a temporary file, ready to stream to a server."""

    def __init__(self) -> None:
        self.file: IO[bytes] = tempfile.TemporaryFile(prefix="simdb-redis-spool-")  # noqa: SIM115
        self.commands = 0
        self.keys = 0

    @classmethod
    def from_snapshot(
        cls,
        snapshot_dir: Path,
        part: str,
        sink: Callable[[bytes, int], None] | None = None,
        scratch: dict[int, int] | None = None,
    ) -> Spool:
        """Read and check the whole part, writing its commands (fails before any server is touched).

        With ``sink``, every chunk is also handed to it (with its number of commands) as it is written,
        with ``SELECT`` pointing at ``scratch[db]`` instead of ``db`` (see :func:`load_real`).
        """
        spool = cls()
        try:
            buf: list[bytes] = []
            for db, path in part_files(snapshot_dir, part):
                select = _cmd(b"SELECT", b"%d" % db)
                spool.file.write(select)
                if sink is not None:
                    sink(_cmd(b"SELECT", b"%d" % (scratch or {}).get(db, db)), 1)
                spool.commands += 1
                for keys, entries, all_plain in iter_batches(path):
                    before = spool.commands
                    if all_plain:  # the common case: one SET per key, formatted in bulk
                        buf.extend(
                            [_SET % (len(k), k, len(v), v) for k, v in zip(keys, entries, strict=True)]
                        )
                        spool.commands += len(keys)
                    else:
                        for key, entry in zip(keys, entries, strict=True):
                            if type(entry) is bytes:  # plain strings among the others: no call
                                buf.append(_SET % (len(key), key, len(entry), entry))
                                spool.commands += 1
                                continue
                            cmds = entry_commands(key, entry)
                            buf.extend(cmds)
                            spool.commands += len(cmds)
                    spool.keys += len(keys)
                    chunk = b"".join(buf)
                    buf.clear()
                    spool.file.write(chunk)
                    if sink is not None:
                        sink(chunk, spool.commands - before)
            spool.file.write(_cmd(b"SELECT", b"0"))
            spool.commands += 1
            if sink is not None:
                sink(_cmd(b"SELECT", b"0"), 1)
        except BaseException:
            spool.close()
            raise
        return spool

    def send(
        self,
        host: str,
        port: int,
        password: str | None = None,
        flush: bool = True,
        only: Collection[int] | None = None,
        username: str | None = None,
    ) -> int:
        """``FLUSHALL`` (if ``flush``), stream every command; return keys loaded. Raises on error replies.

        With ``only``, ``flush`` empties just those databases (``FLUSHDB`` each) instead of all.
        """
        preamble = b""
        expected = self.commands
        if password:
            preamble += _auth(username, password)
            expected += 1
        if flush and only is not None:
            for db in sorted(only):
                preamble += _cmd(b"SELECT", b"%d" % db) + _cmd(b"FLUSHDB")
                expected += 2
        elif flush:
            preamble += _cmd(b"FLUSHALL")
            expected += 1
        with socket.create_connection((host, port), timeout=60) as sock:
            counter = _ReplyCounter(sock, expected)
            counter.start()
            sock.sendall(preamble)
            self.file.seek(0)
            while chunk := self.file.read(1 << 20):
                sock.sendall(chunk)
            counter.join()
        if counter.failure:
            raise RedisLoadError(f"redis-server refused the seed data: {counter.failure}")
        return self.keys

    def close(self) -> None:
        """Delete the spool file."""
        self.file.close()


class _ReplyCounter(threading.Thread):
    """Reads and counts the replies of a spool, keeping the first error.

    Every command a spool sends (SELECT, SET, RPUSH, SADD, HSET, ZADD, PEXPIRE, FLUSHALL, AUTH)
    answers with one line (``+OK``, ``:n`` or ``-error``), so counting CRLFs counts replies, at C speed.
    """

    def __init__(self, sock: socket.socket, expected: int | None) -> None:
        super().__init__(name="simdb-redis-seed-replies", daemon=True)
        self.sock = sock
        self.expected = expected
        self.seen = 0
        self.failure: str | None = None
        self._tail = b"\n"  # the last byte seen: a reply starts after "\n"
        self._error: bytes | None = None  # an error line still arriving

    def feed(self, data: bytes) -> None:
        """Account for one chunk of replies."""
        if not data:
            return
        if self._tail == b"\r" and data[:1] == b"\n":
            self.seen += 1
        self.seen += data.count(b"\r\n")
        if self._error is not None:
            end = data.find(b"\r")
            self._error += data if end < 0 else data[:end]
            if end >= 0:
                self._finish_error()
        elif self.failure is None:
            start = 0 if self._tail == b"\n" and data[:1] == b"-" else data.find(b"\n-") + 1
            if start > 0 or (data[:1] == b"-" and self._tail == b"\n"):
                end = data.find(b"\r", start)
                self._error = data[start + 1 :] if end < 0 else data[start + 1 : end]
                if end >= 0:
                    self._finish_error()
        self._tail = data[-1:]

    def _finish_error(self) -> None:
        assert self._error is not None
        if self.failure is None:
            self.failure = self._error.decode("utf-8", "replace")
        self._error = None

    def run(self) -> None:
        try:
            while self.expected is None or self.seen < self.expected:
                # ``expected`` may be set later (streaming): look again every 0.1 s.
                if not select.select([self.sock], [], [], 0.1)[0]:
                    continue
                data = self.sock.recv(1 << 20)
                if not data:
                    closed = f"connection closed after {self.seen} of {self.expected} replies"
                    self.failure = self.failure or closed
                    return
                self.feed(data)
        except (OSError, ValueError) as exc:  # ValueError: the socket was closed under us
            self.failure = f"{type(exc).__name__}: {exc}"


class _Sender(threading.Thread):
    """Sends chunks from a bounded queue, so parsing (this process) and loading (redis-server) overlap."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__(name="simdb-redis-seed-sender", daemon=True)
        self.sock = sock
        self.queue: queue.Queue[bytes | None] = queue.Queue(maxsize=64)
        self.failure: str | None = None

    def put(self, chunk: bytes) -> None:
        """Queue a chunk (blocks while 64 chunks wait)."""
        if self.failure is None:
            self.queue.put(chunk)

    def finish(self) -> None:
        """Send what is queued, then stop."""
        self.queue.put(None)
        self.join()

    def run(self) -> None:
        while (chunk := self.queue.get()) is not None:
            if self.failure is not None:
                continue
            try:
                self.sock.sendall(chunk)
            except OSError as exc:
                self.failure = f"{type(exc).__name__}: {exc}"


def _auth(username: str | None, password: str) -> bytes:
    if username:
        return _cmd(b"AUTH", username.encode(), password.encode())
    return _cmd(b"AUTH", password.encode())


def load_real(
    snapshot_dir: Path,
    part: str,
    host: str,
    port: int,
    password: str | None = None,
    *,
    flush_others: bool = True,
    username: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> Spool:
    """Load a part into a real server while it is being read, atomically for the server's clients.

    The records stream into empty scratch databases as they are parsed (so reading here and loading
    in redis-server overlap); only when the whole part has been read, checked and accepted does one
    ``MULTI``/``SWAPDB``/``FLUSHDB``/``EXEC`` make it visible and drop everything else (with
    ``flush_others=False``: replace only the databases the part holds, leave the others alone). A bad
    part or a refused command (:class:`RedisLoadError`) empties the scratch databases and leaves the
    visible ones as they were. Without enough empty databases it falls back to a full read first
    (:meth:`Spool.from_snapshot`), then flushing and :meth:`Spool.send`. ``progress`` is called with
    the number of commands in each chunk as it is queued. Returns the spool, which :meth:`Spool.send`
    replays on reset.
    """
    files = part_files(snapshot_dir, part)
    dbs = sorted({db for db, _ in files})
    with redis.Redis(
        host=host, port=port, username=username, password=password, single_connection_client=True
    ) as control:
        used = {int(str(name)[2:]) for name in control.info("keyspace")}
        free = [i for i in range(MAX_DB + 1) if i not in used and i not in dbs]
        if len(free) < len(dbs):
            spool = Spool.from_snapshot(snapshot_dir, part)
            try:
                spool.send(host, port, password, only=None if flush_others else dbs, username=username)
                if progress is not None:
                    progress(spool.commands)
            except BaseException:
                spool.close()
                raise
            return spool
        scratch = dict(zip(dbs, free, strict=False))

        def drop_scratch() -> None:
            for db in scratch.values():
                control.execute_command("SELECT", db)
                control.execute_command("FLUSHDB")
            control.execute_command("SELECT", 0)

        with socket.create_connection((host, port), timeout=60) as sock:
            counter = _ReplyCounter(sock, None)
            sender = _Sender(sock)
            counter.start()
            sender.start()
            sent = 0

            def sink(chunk: bytes, commands: int) -> None:
                nonlocal sent
                sent += commands
                sender.put(chunk)
                if progress is not None:
                    progress(commands)

            if password:
                sent += 1
                sender.put(_auth(username, password))
            try:
                spool = Spool.from_snapshot(snapshot_dir, part, sink=sink, scratch=scratch)
            except BaseException:
                sender.finish()
                counter.expected = 0  # stop reading replies; nothing here is kept
                counter.join()
                sock.close()
                drop_scratch()
                raise
            sender.finish()
            counter.expected = sent
            counter.join()
        failure = sender.failure or counter.failure
        if failure:
            spool.close()
            drop_scratch()
            raise RedisLoadError(f"redis-server refused the seed data: {failure}")
        swap = control.pipeline(transaction=True)
        for db in dbs:
            swap.execute_command("SWAPDB", db, scratch[db])
        # After the swaps the scratch databases hold what was visible before: drop them too.
        for db in range(MAX_DB + 1) if flush_others else sorted(scratch.values()):
            if db not in dbs:
                swap.execute_command("SELECT", db)
                swap.execute_command("FLUSHDB")
        swap.execute_command("SELECT", 0)
        swap.execute()
    return spool
