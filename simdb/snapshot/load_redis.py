"""Load a snapshot's Redis part into a running Redis server (a real ``redis-server``) over the wire.

Two passes, so that a bad snapshot never touches the server: the first streams
and validates every record and encodes it as RESP commands into a temporary
file (the equivalent of what ``redis-cli --pipe`` reads); the second flushes
each database the part holds and pipes the file to the server in batches,
checking every reply. TTLs are applied relative to load time (``PEXPIRE``).
"""

from __future__ import annotations

import os
import socket
import struct
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import hiredis

from simdb.errors import SimdbError, SnapshotError
from simdb.snapshot.format import iter_jsonl
from simdb.snapshot.reader import Snapshot, open_snapshot, parse_redis_record, redis_files

BATCH_COMMANDS = 2000
MAX_ARGS = 1024  # split very large collections over several commands
Progress = Callable[[int], None]


class RedisLoadError(SimdbError):
    """The server refused a command while loading."""


def _cmd(*args: bytes) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def _score(s: float) -> bytes:
    if s == float("inf"):
        return b"+inf"
    if s == float("-inf"):
        return b"-inf"
    return repr(s).encode()


@dataclass
class _Batches:
    """How many commands each batch of the encoded file holds (replies are read per batch)."""

    spans: list[int]
    keys: int


_SET = b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"


def encode_part(snap: Snapshot, part: str, out: Path) -> _Batches:
    """Validate the part and write it as RESP commands to ``out``; returns the batch layout."""
    spans: list[int] = []
    keys = 0
    with open(out, "wb") as fh:
        buf: list[bytes] = []
        append = buf.append
        for db, entry in redis_files(snap, part):
            append(_cmd(b"SELECT", str(db).encode()))
            append(_cmd(b"FLUSHDB"))
            path = str(snap.path_of(entry))
            last = b""
            first = True
            count = 0
            for line, obj in iter_jsonl(snap.path_of(entry)):
                if len(buf) >= BATCH_COMMANDS:
                    fh.write(b"".join(buf))
                    spans.append(len(buf))
                    buf.clear()
                # fast path: a plain text string key (most of a large cache), checked inline
                if type(obj) is dict and len(obj) == 4 and obj.get("type") == "string":
                    ks, vs, ttl = obj.get("key"), obj.get("value"), obj.get("ttl_ms", 0)
                    if (
                        type(ks) is str
                        and type(vs) is str
                        and (ttl is None or (type(ttl) is int and ttl > 0))
                    ):
                        kb = ks.encode()
                        if kb <= last and not first:
                            raise SnapshotError("keys must be sorted by bytes and unique", path, line)
                        last, first = kb, False
                        count += 1
                        vb = vs.encode()
                        if ttl is None:
                            append(_SET % (len(kb), kb, len(vb), vb))
                        else:
                            append(_cmd(b"SET", kb, vb, b"PX", str(ttl).encode()))
                        continue
                rec = parse_redis_record(obj, db, path, line)
                if rec.key <= last and not first:
                    raise SnapshotError("keys must be sorted by bytes and unique", path, line)
                last, first = rec.key, False
                count += 1
                k = rec.key
                v = rec.value
                if rec.type == "string":
                    assert isinstance(v, bytes)
                    if rec.ttl_ms:
                        append(_cmd(b"SET", k, v, b"PX", str(rec.ttl_ms).encode()))
                    else:
                        append(_cmd(b"SET", k, v))
                    continue
                items: list[Any] = list(v)
                for i in range(0, len(items), MAX_ARGS):
                    chunk = items[i : i + MAX_ARGS]
                    if rec.type == "list":
                        append(_cmd(b"RPUSH", k, *chunk))
                    elif rec.type == "set":
                        append(_cmd(b"SADD", k, *chunk))
                    elif rec.type == "hash":
                        append(_cmd(b"HSET", k, *[x for f, val in chunk for x in (f, val)]))
                    else:
                        append(_cmd(b"ZADD", k, *[x for m, sc in chunk for x in (_score(sc), m)]))
                if rec.ttl_ms:
                    append(_cmd(b"PEXPIRE", k, str(rec.ttl_ms).encode()))
            if count != entry.records:
                raise SnapshotError(f"file has {count} records but the manifest says {entry.records}", path)
            keys += count
        if buf:
            fh.write(b"".join(buf))
            spans.append(len(buf))
    return _Batches(spans, keys)


def _connect(url: str) -> tuple[socket.socket, bytes | None]:
    parts = urlsplit(url)
    if parts.scheme not in ("redis", ""):
        raise RedisLoadError(f"only redis:// URLs can be loaded into, got {url!r}")
    sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=60)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 0, 0))
    auth = None
    if parts.password:
        user = (parts.username or "").encode()
        auth = (
            _cmd(b"AUTH", user, parts.password.encode()) if user else _cmd(b"AUTH", parts.password.encode())
        )
    return sock, auth


def load_redis(url: str, snapshot_dir: Path, part: str, progress: Progress | None = None) -> int:
    """Replace the databases of ``part`` on the server at ``url`` with the snapshot's keys.

    Returns the number of keys loaded. A snapshot error is raised before the
    server is touched; a server refusal raises :class:`RedisLoadError`.
    """
    snap = open_snapshot(Path(snapshot_dir))
    snap.verify_part(part)
    fd, tmp = tempfile.mkstemp(prefix=".simdb-resp.", suffix=".bin")
    os.close(fd)
    try:
        layout = encode_part(snap, part, Path(tmp))
        sock, auth = _connect(url)
        try:
            reader = hiredis.Reader()
            if auth:
                sock.sendall(auth)
                _read_replies(sock, reader, 1)
            # like redis-cli --pipe: one thread streams the commands, this one reads the replies
            failure: list[BaseException] = []

            def send() -> None:
                try:
                    with open(tmp, "rb") as fh:
                        for chunk in iter(lambda: fh.read(1 << 20), b""):
                            sock.sendall(chunk)
                except OSError as exc:
                    failure.append(exc)

            sender = threading.Thread(target=send, name="simdb-load-redis", daemon=True)
            sender.start()
            try:
                for ncmd in layout.spans:
                    _read_replies(sock, reader, ncmd)
                    if progress is not None:
                        progress(ncmd)
            finally:
                if sender.is_alive():
                    sock.shutdown(socket.SHUT_RDWR)
                sender.join(timeout=30)
            if failure:
                raise RedisLoadError(f"sending to the server failed: {failure[0]}")
        finally:
            sock.close()
        return layout.keys
    finally:
        os.unlink(tmp)


def _read_replies(sock: socket.socket, reader: hiredis.Reader, count: int) -> None:
    got = 0
    while got < count:
        reply = reader.gets()
        if reply is False:
            data = sock.recv(1 << 20)
            if not data:
                raise RedisLoadError("the server closed the connection while loading")
            reader.feed(data)
            continue
        if isinstance(reply, hiredis.ReplyError):
            raise RedisLoadError(f"the server refused a command while loading: {reply}")
        got += 1
