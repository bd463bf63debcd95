"""Capture a live Redis into a snapshot's Redis part, streaming.

Keys are found with ``SCAN MATCH <pattern>`` (several patterns allowed), then
read in batches: by default one server-side Lua call per batch returns type,
remaining TTL and value of every key (one round trip, parsed by hiredis); on a
server where scripts are disabled, a pipelined ``TYPE``/``PTTL`` + typed reads
per batch. Lines are sorted by key bytes with a bounded-memory external sort:
runs of ``chunk_keys`` keys are sorted in memory, spilled to temporary files in
a temporary directory next to the snapshot and merged.

Keys of types a snapshot does not hold (streams, module types) are skipped and
counted; keys that expire between SCAN and the read are dropped.
"""

from __future__ import annotations

import heapq
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import redis

from simdb.errors import SimdbError
from simdb.snapshot.format import dump_line, encode_bytes, encode_score
from simdb.snapshot.writer import SnapshotWriter

Progress = Callable[[int], None]

_READ_SCRIPT = """
local out = {}
for i, k in ipairs(KEYS) do
  local t = redis.call('TYPE', k)['ok']
  local v = false
  if t == 'string' then v = redis.call('GET', k)
  elseif t == 'hash' then v = redis.call('HGETALL', k)
  elseif t == 'list' then v = redis.call('LRANGE', k, 0, -1)
  elseif t == 'set' then v = redis.call('SMEMBERS', k)
  elseif t == 'zset' then v = redis.call('ZRANGE', k, 0, -1, 'WITHSCORES')
  end
  out[#out + 1] = t
  out[#out + 1] = redis.call('PTTL', k)
  out[#out + 1] = v
end
return out
"""

_enc_str = json.encoder.encode_basestring


@dataclass
class RedisCaptureStats:
    """What a capture took: keys per database and skipped keys by reason."""

    keys: dict[int, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Keys written, all databases."""
        return sum(self.keys.values())


class RedisCaptureError(SimdbError):
    """The Redis server could not be read."""


def _json_key(key: bytes) -> str:
    try:
        return _enc_str(key.decode("utf-8"))
    except UnicodeDecodeError:
        return json.dumps(encode_bytes(key), separators=(",", ":"))


def record_line(key: bytes, rtype: str, raw: Any, ttl: int) -> str | None:
    """The snapshot line for one key as read from the server (None when nothing to write)."""
    ttl_text = str(ttl) if ttl > 0 else "null"
    if rtype == "string":
        if raw is None:
            return None
        try:
            value = _enc_str(raw.decode("utf-8"))
        except UnicodeDecodeError:
            value = json.dumps(encode_bytes(raw), separators=(",", ":"))
        return f'{{"key":{_json_key(key)},"ttl_ms":{ttl_text},"type":"string","value":{value}}}\n'
    if not raw:
        return None
    val: Any
    if rtype == "hash":
        pairs = (
            sorted(zip(raw[::2], raw[1::2], strict=True)) if isinstance(raw, list) else sorted(raw.items())
        )
        val = [[encode_bytes(f), encode_bytes(v)] for f, v in pairs]
    elif rtype == "list":
        val = [encode_bytes(v) for v in raw]
    elif rtype == "set":
        val = [encode_bytes(v) for v in sorted(raw)]
    elif rtype == "zset":
        if raw and isinstance(raw[0], tuple | list):
            zs = [(m, float(s)) for m, s in raw]
        else:
            zs = [(m, float(s)) for m, s in zip(raw[::2], raw[1::2], strict=True)]
        zs.sort(key=lambda p: (p[1], p[0]))
        val = [[encode_bytes(m), encode_score(s)] for m, s in zs]
    else:
        return None
    return dump_line(
        {"key": encode_bytes(key), "type": rtype, "value": val, "ttl_ms": ttl if ttl > 0 else None}
    )


class _SortedSpool:
    """External sort of (key, line) by key bytes with bounded memory."""

    def __init__(self, tmpdir: Path, chunk_keys: int) -> None:
        self.tmpdir = tmpdir
        self.chunk_keys = chunk_keys
        self.buf: list[tuple[bytes, str]] = []
        self.runs: list[Path] = []

    def add(self, key: bytes, line: str) -> None:
        self.buf.append((key, line))
        if len(self.buf) >= self.chunk_keys:
            self._spill()

    def _spill(self) -> None:
        self.buf.sort()
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        path = self.tmpdir / f"run{len(self.runs):05d}"
        with open(path, "w", encoding="utf-8") as fh:
            fh.writelines(f"{k.hex()}\t{line}" for k, line in self.buf)
        self.runs.append(path)
        self.buf = []

    def __iter__(self) -> Iterator[str]:
        """Lines in key order, duplicates (a key matched by two patterns) dropped."""
        last: bytes | None = None
        if not self.runs:
            self.buf.sort()
            for key, line in self.buf:
                if key != last:
                    yield line
                last = key
            self.buf = []
            return
        if self.buf:
            self._spill()
        files: list[IO[str]] = [open(p, encoding="utf-8") for p in self.runs]  # noqa: SIM115
        try:
            last_hex: str | None = None
            for merged in heapq.merge(*files):
                hexkey, _, line = merged.partition("\t")
                if hexkey != last_hex:
                    yield line
                last_hex = hexkey
        finally:
            for fh in files:
                fh.close()
            for p in self.runs:
                os.unlink(p)


def keyspace_dbs(client: redis.Redis) -> list[int]:
    """Databases that hold keys, from ``INFO keyspace``."""
    info = client.info("keyspace")
    return sorted(int(name[2:]) for name in info if str(name).startswith("db"))


def _batches(it: Iterable[bytes], size: int) -> Iterator[list[bytes]]:
    batch: list[bytes] = []
    for key in it:
        batch.append(key)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class _Reader:
    """Reads type, TTL and value of a batch of keys: Lua when allowed, else a pipeline."""

    def __init__(self, client: redis.Redis, use_script: bool = True) -> None:
        self.client = client
        self.script: Any = None
        if not use_script:
            return
        try:
            self.script = client.register_script(_READ_SCRIPT)
            self.script(keys=[], args=[])
        except redis.ResponseError:
            self.script = None

    def read(self, keys: list[bytes]) -> list[tuple[bytes, str, int, Any]]:
        if self.script is not None:
            flat = self.script(keys=keys, args=[])
            out = []
            for i, key in enumerate(keys):
                t = flat[3 * i]
                out.append(
                    (
                        key,
                        t.decode() if isinstance(t, bytes) else str(t),
                        int(flat[3 * i + 1]),
                        flat[3 * i + 2],
                    )
                )
            return out
        return self._pipelined(keys)

    def _pipelined(self, keys: list[bytes]) -> list[tuple[bytes, str, int, Any]]:
        """Two pipelined round trips on a raw connection: TYPE+PTTL of every key, then typed reads."""
        conn = self.client.connection_pool.get_connection()
        try:
            conn.send_packed_command(  # type: ignore[no-untyped-call]
                [
                    b"".join(
                        b"*2\r\n$4\r\nTYPE\r\n$%d\r\n%s\r\n*2\r\n$4\r\nPTTL\r\n$%d\r\n%s\r\n"
                        % (len(k), k, len(k), k)
                        for k in keys
                    )
                ]
            )
            meta = [conn.read_response() for _ in range(2 * len(keys))]
            types = [t.decode() if isinstance(t, bytes) else str(t) for t in meta[::2]]
            packed = []
            for key, t in zip(keys, types, strict=True):
                packed.append(_READ_CMD.get(t, b"*2\r\n$6\r\nEXISTS\r\n$%d\r\n%s\r\n") % (len(key), key))
            conn.send_packed_command([b"".join(packed)])  # type: ignore[no-untyped-call]
            values = []
            for _ in keys:
                try:
                    values.append(conn.read_response())
                except redis.ResponseError:  # the key changed type in between: skip it
                    values.append(None)
        finally:
            self.client.connection_pool.release(conn)
        return [(key, types[i], int(meta[2 * i + 1]), values[i]) for i, key in enumerate(keys)]


_READ_CMD = {
    "string": b"*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n",
    "hash": b"*2\r\n$7\r\nHGETALL\r\n$%d\r\n%s\r\n",
    "list": b"*4\r\n$6\r\nLRANGE\r\n$%d\r\n%s\r\n$1\r\n0\r\n$2\r\n-1\r\n",
    "set": b"*2\r\n$8\r\nSMEMBERS\r\n$%d\r\n%s\r\n",
    "zset": b"*5\r\n$6\r\nZRANGE\r\n$%d\r\n%s\r\n$1\r\n0\r\n$2\r\n-1\r\n$10\r\nWITHSCORES\r\n",
}


def capture_redis(
    writer: SnapshotWriter,
    part: str,
    url: str,
    patterns: Sequence[str] = ("*",),
    dbs: Sequence[int] | None = None,
    batch: int = 1000,
    chunk_keys: int = 200_000,
    progress: Progress | None = None,
    use_script: bool = True,
) -> RedisCaptureStats:
    """Capture keys matching ``patterns`` from the Redis at ``url`` into ``writer``'s part ``part``.

    ``dbs`` defaults to every database that holds keys (``INFO keyspace``). ``use_script=False``
    reads with pipelined plain commands only (what happens anyway where ``EVAL`` is refused).
    """
    stats = RedisCaptureStats()
    try:
        base = redis.Redis.from_url(url, decode_responses=False)
        databases = list(dbs) if dbs is not None else keyspace_dbs(base)
    except redis.RedisError as exc:
        raise RedisCaptureError(f"cannot read Redis at {url}: {exc}") from exc
    if not databases:
        databases = [0]
    spool_root = tempfile.TemporaryDirectory(prefix=".spool.", dir=writer.tmp.parent)
    for db in databases:
        client = redis.Redis.from_url(url, db=db, decode_responses=False)
        try:
            reader = _Reader(client, use_script)
            spool = _SortedSpool(Path(spool_root.name), chunk_keys)
            keys: Iterator[bytes] = (k for p in patterns for k in client.scan_iter(match=p, count=batch))
            for keyset in _batches(keys, batch):
                for key, rtype, ttl, raw in reader.read(keyset):
                    if ttl == -2:
                        stats.skipped["expired during capture"] = (
                            stats.skipped.get("expired during capture", 0) + 1
                        )
                        continue
                    line = record_line(key, rtype, raw, ttl)
                    if line is None:
                        if rtype not in ("string", "hash", "list", "set", "zset", "none"):
                            reason = f"type {rtype} not supported"
                            stats.skipped[reason] = stats.skipped.get(reason, 0) + 1
                        continue
                    spool.add(key, line)
                if progress is not None:
                    progress(len(keyset))
            fw = writer.open_file(part, "redis", f"redis/{part}/db{db}.jsonl")
            for line in spool:
                fw.write_line(line)
            writer.add_file(part, fw.close())
            stats.keys[db] = fw.records
        except redis.RedisError as exc:
            raise RedisCaptureError(f"reading Redis at {url} db {db} failed: {exc}") from exc
        finally:
            client.close()
    base.close()
    spool_root.cleanup()
    writer.captured_from[part] = _redact(url)
    return stats


def _redact(url: str) -> str:
    """A URL without its password, for the manifest."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user + ':***@' if user else '***@'}{host}"
    return url
