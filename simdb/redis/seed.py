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

import contextlib
import gc
import gzip
import io
import itertools
import json
import operator
import queue
import re
import select
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import orjson
import redis
import sortedcontainers  # type: ignore[import-untyped]
from fakeredis._core._database import Item
from fakeredis.model import ExpiringMembersSet, Hash, ZSet

from simdb.errors import SimdbError, SnapshotError
from simdb.redis.records import RedisRecord
from simdb.snapshot.format import MANIFEST_NAME, read_manifest, verify_file

MAX_DB = 15
_FILE = re.compile(r"^redis/(?P<part>[^/]+)/db(?P<db>\d+)\.jsonl(?:\.gz)?$")

Entry = bytes | tuple[str, Any, int | None]
"""A plain string without TTL as its bytes; anything else as ``(type, value, ttl_ms)`` where value
is bytes (string), a tuple (list, set) or a dict (hash: field to value, zset: member to score)."""
Rich = tuple[str, Any, int | None]
PlainBatch = tuple[list[bytes], list[bytes]]
Template = dict[int, tuple[list[PlainBatch], dict[bytes, Rich]]]
"""Per database: batches of plain strings without TTL as ``(keys, values)``, and every other key.

Keys are unique because part files are strictly sorted, so plain batches need no dict of their own."""


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


_BATCH = 2048  # lines parsed per json.loads call


def _iter_json(path: Path) -> Iterator[tuple[list[int] | range, list[Any]]]:
    """Like :func:`simdb.snapshot.format.iter_jsonl`, but batches of ``(line numbers, values)``.

    Lines are parsed ``_BATCH`` at a time with one ``orjson.loads`` call. A batch that does not
    parse is re-read line by line, so the error still names the exact line.
    """
    where = str(path)
    try:
        fh: io.BufferedIOBase = gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise SnapshotError(f"cannot read file: {exc}", where) from exc
    number = 0
    try:
        with fh:
            while True:
                lines = list(itertools.islice(fh, _BATCH))
                if not lines:
                    return
                first = number + 1
                number += len(lines)
                numbers: list[int] | range = range(first, number + 1)
                try:
                    objs = orjson.loads(b"[" + b",".join(lines) + b"]")
                    if len(objs) != len(lines):
                        raise ValueError("a line holds more than one value")
                except ValueError:  # blank lines, or a bad one: go line by line
                    kept = [(n, ln) for n, ln in zip(numbers, lines, strict=True) if ln.strip()]
                    numbers = [n for n, _ in kept]
                    objs = [_parse_line(ln, where, n) for n, ln in kept]
                yield numbers, objs
    except (OSError, EOFError) as exc:
        raise SnapshotError(f"cannot read file: {exc}", where) from exc


def _parse_line(line: bytes, where: str, number: int) -> Any:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SnapshotError(f"not valid UTF-8: {exc.reason} at byte {exc.start}", where, number) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SnapshotError(f"not valid JSON: {exc.msg}", where, number) from exc


def iter_entry_batches(path: Path) -> Iterator[list[tuple[bytes, Entry]]]:
    """Stream batches of ``(key, entry)`` from one part file; errors name the file and line."""
    for keys, entries, _ in _iter_batches(path):
        yield list(zip(keys, entries, strict=True))


def _iter_batches(path: Path) -> Iterator[tuple[list[bytes], list[Entry], bool]]:
    """Batches as ``(keys, entries, all_plain)``: ``all_plain`` when every entry is bare bytes."""
    where = str(path)
    last = b""
    first = True
    for numbers, objs in _iter_json(path):
        plain = _plain_batch(objs)
        if plain is not None and (first or plain[0][0] > last):
            first = False
            last = plain[0][-1]
            yield plain[0], plain[1], True
            continue
        out_keys: list[bytes] = []
        out_entries: list[Entry] = []
        for line, obj in zip(numbers, objs, strict=True):
            # The common case (text key, text string value, no TTL) as bare bytes, no record built.
            entry: Entry
            try:
                if obj["type"] != "string" or len(obj) != 4:
                    raise TypeError
                key = obj["key"].encode()
                value = obj["value"].encode()
                ttl = obj["ttl_ms"]
                if ttl is None:
                    entry = value
                elif type(ttl) is int and ttl > 0:
                    entry = ("string", value, ttl)
                else:
                    raise TypeError
            except (TypeError, KeyError, AttributeError):
                rec = RedisRecord.from_json(obj, (where, line))
                key = rec.key
                entry = _entry(rec)
            if key <= last and not first:
                raise SnapshotError(f"key {key!r} is out of order or repeated "
                                    "(lines must be sorted by key bytes)", where, line)
            first = False
            last = key
            out_keys.append(key)
            out_entries.append(entry)
        yield out_keys, out_entries, False


_TYPE = operator.itemgetter("type")
_TTL = operator.itemgetter("ttl_ms")
_KEY = operator.itemgetter("key")
_VALUE = operator.itemgetter("value")


def _plain_batch(objs: list[Any]) -> tuple[list[bytes], list[Entry]] | None:
    """A batch made only of sorted, TTL-less text strings, converted in bulk; else ``None``."""
    try:  # C-level passes only: this is the hot loop of a big load
        if (set(map(_TYPE, objs)) != {"string"} or set(map(_TTL, objs)) != {None}
                or set(map(len, objs)) != {4}):
            return None
        keys = list(map(str.encode, map(_KEY, objs)))
        values: list[Entry] = list(map(str.encode, map(_VALUE, objs)))
    except (TypeError, KeyError, AttributeError):
        return None
    if not keys or not all(map(operator.lt, keys, keys[1:])):
        return None
    return keys, values


def iter_entries(path: Path) -> Iterator[tuple[bytes, Entry]]:
    """Stream ``(key, entry)`` from one part file; errors name the file and line."""
    for batch in iter_entry_batches(path):
        yield from batch


def _entry(rec: RedisRecord) -> Entry:
    if rec.type == "string" and rec.ttl_ms is None:
        assert isinstance(rec.value, bytes)
        return rec.value
    if rec.type in ("string", "list", "set"):
        return rec.type, rec.value, rec.ttl_ms
    return rec.type, dict(rec.value), rec.ttl_ms  # type: ignore[arg-type]


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building millions of objects that hold no cycles.

    Without this, allocation-triggered collections rescan the growing template again and again and
    loading becomes several times slower.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def read_template(snapshot_dir: Path, part: str) -> Template:
    """Read and check a whole Redis part into memory (for the fake engine)."""
    template: Template = {}
    with no_gc():
        for db, path in part_files(snapshot_dir, part):
            plain, rich = template.setdefault(db, ([], {}))
            for keys, entries, all_plain in _iter_batches(path):
                if all_plain:
                    plain.append((keys, entries))  # type: ignore[arg-type]
                    continue
                single_keys: list[bytes] = []
                single_values: list[bytes] = []
                for key, entry in zip(keys, entries, strict=True):
                    if type(entry) is bytes:
                        single_keys.append(key)
                        single_values.append(entry)
                    else:
                        rich[key] = entry  # type: ignore[assignment]
                plain.append((single_keys, single_values))
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
        _clear(dbs[index])
    with no_gc():
        count = _fill(dbs, template, now)
    return count


def _clear(db: Any) -> None:
    """``Database.clear()`` without notifying every key: only watched keys can care (``WATCH``)."""
    for key in list(db._watches):
        if key in db._dict:
            db.notify_watch(key)
    db._dict.clear()
    db._expiry_heap.clear()


def _fill(dbs: Any, template: Template, now: float) -> int:
    count = 0
    for index, (plain, rich) in template.items():
        db = dbs[index]
        d = db._dict
        for keys, values in plain:
            d.update(zip(keys, map(Item, values), strict=True))
            count += len(keys)
        for key, (type_, value, ttl) in rich.items():
            item = Item(value if type_ == "string" else _materialise(type_, value))
            if ttl is not None:
                expireat = now + ttl / 1000.0
                item.expireat = expireat  # type: ignore[assignment]
                d[key] = item
                db.schedule_expiry(key, expireat)
            else:
                d[key] = item
        count += len(rich)
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
                for keys, entries, all_plain in _iter_batches(path):
                    before = spool.commands
                    if all_plain:  # the common case: one SET per key, formatted in bulk
                        buf.extend([_SET % (len(k), k, len(v), v)
                                    for k, v in zip(keys, entries, strict=True)])
                        spool.commands += len(keys)
                    else:
                        for key, entry in zip(keys, entries, strict=True):
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
                self._error = data[start + 1:] if end < 0 else data[start + 1:end]
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
        except OSError as exc:
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


def load_real(snapshot_dir: Path, part: str, host: str, port: int, password: str | None = None) -> Spool:
    """Load a part into a real server while it is being read, atomically for the server's clients.

    The records stream into empty scratch databases as they are parsed (so reading here and loading
    in redis-server overlap); only when the whole part has been read, checked and accepted does one
    ``MULTI``/``SWAPDB``/``FLUSHDB``/``EXEC`` make it visible and drop everything else. A bad part or a
    refused command empties the scratch databases and leaves the visible ones as they were. Without
    enough empty databases it falls back to a full read first (:meth:`Spool.from_snapshot`), then
    ``FLUSHALL`` and :meth:`Spool.send`. Returns the spool, which :meth:`Spool.send` replays on reset.
    """
    files = part_files(snapshot_dir, part)
    dbs = sorted({db for db, _ in files})
    with redis.Redis(host=host, port=port, password=password, single_connection_client=True) as control:
        used = {int(str(name)[2:]) for name in control.info("keyspace")}
        free = [i for i in range(MAX_DB + 1) if i not in used and i not in dbs]
        if len(free) < len(dbs):
            spool = Spool.from_snapshot(snapshot_dir, part)
            try:
                spool.send(host, port, password)
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

            if password:
                sink(_cmd(b"AUTH", password.encode()), 1)
            try:
                spool = Spool.from_snapshot(snapshot_dir, part, sink=sink, scratch=scratch)
            except BaseException:
                sender.finish()
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
            raise SimdbError(f"redis-server refused the seed data: {failure}")
        swap = control.pipeline(transaction=True)
        for db in dbs:
            swap.execute_command("SWAPDB", db, scratch[db])
        for db in range(MAX_DB + 1):
            if db not in dbs:
                swap.execute_command("SELECT", db)
                swap.execute_command("FLUSHDB")
        swap.execute_command("SELECT", 0)
        swap.execute()
    return spool
