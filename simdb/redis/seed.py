"""Load a snapshot's Redis part: into the fake engine directly, or into a real server over the wire.

Both loads are atomic: the whole part is read and checked first (checksums, every line), and
only then is the running state replaced, so a bad part leaves the previous state untouched.

- Fake engine: the part becomes a :class:`Template` (pristine values per database); filling
  the engine copies the template into fakeredis's databases, bypassing the wire. The same
  template serves every later reset.
- Real server: the part becomes RESP commands spooled to a temporary file (what
  ``redis-cli --pipe`` reads), then ``FLUSHALL`` and the spool are streamed pipelined on one
  socket while a reader thread counts the replies. Reset streams the same spool again.

TTLs are the remaining milliseconds at snapshot time and are applied relative to load
(or reset) time, so seeded keys are never already expired.
"""

from __future__ import annotations

import re
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import hiredis
import sortedcontainers  # type: ignore[import-untyped]
from fakeredis._core._database import Item
from fakeredis.model import ExpiringMembersSet, Hash, ZSet

from simdb.errors import SimdbError, SnapshotError
from simdb.redis.records import RedisRecord
from simdb.snapshot.format import MANIFEST_NAME, iter_jsonl, read_manifest, verify_file

MAX_DB = 15
_FILE = re.compile(r"^redis/(?P<part>[^/]+)/db(?P<db>\d+)\.jsonl(?:\.gz)?$")

Entry = tuple[str, Any, int | None]
"""``(type, value, ttl_ms)``: value is bytes, a tuple (list), a frozenset-like tuple (set) or a dict."""
Template = dict[int, dict[bytes, Entry]]


def part_files(snapshot_dir: Path, part: str) -> list[tuple[int, Path]]:
    """The verified files of Redis part ``part`` as ``(db, path)``, in database order."""
    snapshot_dir = Path(snapshot_dir)
    manifest = read_manifest(snapshot_dir)
    found = manifest.parts.get(part)
    if found is None:
        have = ", ".join(f"{n} ({p.kind})" for n, p in sorted(manifest.parts.items())) or "none"
        raise SnapshotError(f"no part named {part!r} in this snapshot (parts: {have})",
                            str(snapshot_dir / MANIFEST_NAME))
    if found.kind != "redis":
        raise SnapshotError(f"part {part!r} is a {found.kind} part, not a redis part",
                            str(snapshot_dir / MANIFEST_NAME))
    files = []
    for entry in found.files:
        m = _FILE.match(entry.path)
        if m is None or m.group("part") != part:
            raise SnapshotError(f"unexpected file in redis part {part!r}: "
                                f"expected redis/{part}/db<N>.jsonl[.gz]",
                                str(snapshot_dir / entry.path))
        db = int(m.group("db"))
        if db > MAX_DB:
            raise SnapshotError(f"database {db} is out of range (0-{MAX_DB})", str(snapshot_dir / entry.path))
        verify_file(snapshot_dir, entry)
        files.append((db, snapshot_dir / entry.path))
    return sorted(files)


def iter_entries(path: Path) -> Iterator[tuple[bytes, Entry]]:
    """Stream ``(key, entry)`` from one part file; errors name the file and line."""
    where = str(path)
    last: bytes | None = None
    for line, obj in iter_jsonl(path):
        # The common case (a text string key with a text value) without building a record.
        if (type(obj) is dict and len(obj) == 4 and obj.get("type") == "string"
                and type(obj.get("key")) is str and type(obj.get("value")) is str and "ttl_ms" in obj
                and (obj["ttl_ms"] is None or (type(obj["ttl_ms"]) is int and obj["ttl_ms"] > 0))):
            key = obj["key"].encode()
            entry: Entry = ("string", obj["value"].encode(), obj["ttl_ms"])
        else:
            rec = RedisRecord.from_json(obj, (where, line))
            key = rec.key
            entry = _entry(rec)
        if last is not None and key <= last:
            raise SnapshotError(f"key {key!r} is out of order or repeated "
                                "(lines must be sorted by key bytes)",
                                where, line)
        last = key
        yield key, entry


def _entry(rec: RedisRecord) -> Entry:
    if rec.type in ("string", "list", "set"):
        return rec.type, rec.value, rec.ttl_ms
    return rec.type, dict(rec.value), rec.ttl_ms  # type: ignore[arg-type]


def read_template(snapshot_dir: Path, part: str) -> Template:
    """Read and check a whole Redis part into memory (for the fake engine)."""
    template: Template = {}
    for db, path in part_files(snapshot_dir, part):
        keys = template.setdefault(db, {})
        for key, entry in iter_entries(path):
            keys[key] = entry
    return template


def _materialise(type_: str, value: Any) -> Any:
    if type_ == "string":
        return value
    if type_ == "list":
        return list(value)
    if type_ == "set":
        return ExpiringMembersSet(dict.fromkeys(value))
    if type_ == "hash":
        h = Hash()
        h._values = dict(value)
        return h
    z = ZSet()
    z._bylex = dict(value)
    z._byscore = sortedcontainers.SortedList((score, member) for member, score in value.items())
    return z


def fill_engine(dbs: Any, template: Template, now: float | None = None) -> int:
    """Replace the contents of fakeredis ``dbs`` with fresh copies of ``template``; return keys loaded.

    The caller holds the engine lock. Databases not in the template are emptied.
    """
    now = time.time() if now is None else now
    for index in list(dbs):
        dbs[index].clear()
    count = 0
    for index, keys in template.items():
        db = dbs[index]
        d = db._dict
        for key, (type_, value, ttl) in keys.items():
            item = Item(value if type_ == "string" else _materialise(type_, value))
            if ttl is not None:
                expireat = now + ttl / 1000.0
                item.expireat = expireat  # type: ignore[assignment]
                d[key] = item
                db.schedule_expiry(key, expireat)
            else:
                d[key] = item
        count += len(keys)
    return count


# -- real servers -------------------------------------------------------------------------------------

def _cmd(*args: bytes) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def _score(score: float) -> bytes:
    if score == float("inf"):
        return b"+inf"
    if score == float("-inf"):
        return b"-inf"
    return repr(score).encode()


_CHUNK = 1000  # elements per command for big collections


def entry_commands(key: bytes, entry: Entry) -> list[bytes]:
    """The RESP commands that recreate one key on a real server."""
    type_, value, ttl = entry
    out: list[bytes] = []
    if type_ == "string":
        if ttl is not None:
            return [_cmd(b"SET", key, value, b"PX", b"%d" % ttl)]
        return [_cmd(b"SET", key, value)]
    if type_ in ("list", "set"):
        verb = b"RPUSH" if type_ == "list" else b"SADD"
        items = list(value)
        for i in range(0, len(items), _CHUNK):
            out.append(_cmd(verb, key, *items[i:i + _CHUNK]))
    elif type_ == "hash":
        pairs = [x for fv in value.items() for x in fv]
        for i in range(0, len(pairs), 2 * _CHUNK):
            out.append(_cmd(b"HSET", key, *pairs[i:i + 2 * _CHUNK]))
    else:
        flat = [x for member, score in value.items() for x in (_score(score), member)]
        for i in range(0, len(flat), 2 * _CHUNK):
            out.append(_cmd(b"ZADD", key, *flat[i:i + 2 * _CHUNK]))
    if ttl is not None and out:
        out.append(_cmd(b"PEXPIRE", key, b"%d" % ttl))
    return out


class Spool:
    """A Redis part as pipelined RESP commands in a temporary file, ready to stream to a server."""

    def __init__(self) -> None:
        self.file: IO[bytes] = tempfile.TemporaryFile(prefix="simdb-redis-spool-")  # noqa: SIM115
        self.commands = 0
        self.keys = 0

    @classmethod
    def from_snapshot(cls, snapshot_dir: Path, part: str) -> Spool:
        """Read and check the whole part, writing its commands (fails before any server is touched)."""
        spool = cls()
        try:
            buf: list[bytes] = []
            size = 0
            for db, path in part_files(snapshot_dir, part):
                buf.append(_cmd(b"SELECT", b"%d" % db))
                spool.commands += 1
                for key, entry in iter_entries(path):
                    cmds = entry_commands(key, entry)
                    buf.extend(cmds)
                    spool.commands += len(cmds)
                    spool.keys += 1
                    size += len(cmds)
                    if size >= 4096:
                        spool.file.write(b"".join(buf))
                        buf.clear()
                        size = 0
            buf.append(_cmd(b"SELECT", b"0"))
            spool.commands += 1
            spool.file.write(b"".join(buf))
        except BaseException:
            spool.close()
            raise
        return spool

    def send(self, host: str, port: int, password: str | None = None, flush: bool = True) -> int:
        """``FLUSHALL`` (if ``flush``), stream every command; return keys loaded. Raises on error replies."""
        preamble = b""
        expected = self.commands
        if password:
            preamble += _cmd(b"AUTH", password.encode())
            expected += 1
        if flush:
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
            raise SimdbError(f"redis-server refused the seed data: {counter.failure}")
        return self.keys

    def close(self) -> None:
        """Delete the spool file."""
        self.file.close()


class _ReplyCounter(threading.Thread):
    def __init__(self, sock: socket.socket, expected: int) -> None:
        super().__init__(name="simdb-redis-seed-replies", daemon=True)
        self.sock = sock
        self.expected = expected
        self.failure: str | None = None

    def run(self) -> None:
        reader = hiredis.Reader()
        seen = 0
        try:
            while seen < self.expected:
                data = self.sock.recv(1 << 20)
                if not data:
                    self.failure = f"connection closed after {seen} of {self.expected} replies"
                    return
                reader.feed(data)
                while (reply := reader.gets()) is not False:
                    seen += 1
                    if isinstance(reply, hiredis.ReplyError) and self.failure is None:
                        self.failure = str(reply)
        except OSError as exc:
            self.failure = f"{type(exc).__name__}: {exc}"
