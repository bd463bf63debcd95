"""``simdb thrift record``: a recording proxy in front of a real Thrift service.

Clients connect to the proxy as they would to the service. Each call is
decoded with the service's IDL (thriftpy2, binary or compact, buffered or
framed), forwarded upstream, and the answer - a return value, a declared
exception or a ``TApplicationException`` - is sent back to the client and
written as one recording ``{method, args, reply, latency_ms}`` in canonical
JSON (the codec the Thrift fake uses). When the proxy stops, the recordings
become the part ``thrift/<part>/recordings.jsonl`` of the snapshot at
``out`` (other parts of an existing snapshot are kept). The Thrift fake
answers recorded calls by exact argument match, in recorded order, with the
recorded latency; :func:`latency_profile` turns the latencies into a
``faults:`` section (p50/p99 per method) for a stub file.
"""

from __future__ import annotations

import logging
import math
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simdb.errors import ConfigError
from simdb.snapshot.format import MANIFEST_NAME, dump_line, iter_jsonl
from simdb.snapshot.writer import SnapshotWriter

log = logging.getLogger("simdb.record")

CALL, REPLY, EXCEPTION, ONEWAY = 1, 2, 3, 4


@dataclass(frozen=True)
class RecordConfig:
    """Where the proxy listens, what it forwards to, and how to decode the calls."""

    upstream: tuple[str, int]
    idl: Path
    service: str
    out: Path
    part: str = ""
    listen_host: str = "127.0.0.1"
    listen_port: int = 0
    include_dirs: tuple[Path, ...] = ()
    protocol: str = "binary"
    transport: str = "buffered"
    timeout_s: float = 30.0

    @property
    def part_name(self) -> str:
        """The snapshot part (default: the service name in lower case)."""
        return self.part or self.service.split(".")[-1].lower()


def parse_hostport(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (or ``PORT``) -> (host, port)."""
    host, _, port = text.rpartition(":")
    try:
        return (host or "127.0.0.1", int(port))
    except ValueError:
        raise ConfigError(f"expected HOST:PORT, got {text!r}") from None


class RecordingProxy:
    """A threaded TCP proxy that decodes, forwards and records every Thrift call."""

    def __init__(self, config: RecordConfig) -> None:
        from simdb.thrift.idl import load_idl
        from simdb.thrift.model import service_model

        if config.protocol not in ("binary", "compact"):
            raise ConfigError(f"--protocol must be binary or compact, got {config.protocol!r}")
        if config.transport not in ("buffered", "framed"):
            raise ConfigError(f"--transport must be buffered or framed, got {config.transport!r}")
        self.config = config
        self.model = service_model(load_idl(config.idl, config.include_dirs), config.service)
        self._listener = socket.create_server((config.listen_host, config.listen_port))
        self._listener.settimeout(0.2)
        fd, tmp = tempfile.mkstemp(prefix=".simdb-recording.", suffix=".jsonl")
        self._tmp = Path(tmp)
        self._out = open(fd, "w", encoding="utf-8")  # noqa: SIM115 (closed in stop())
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accept: threading.Thread | None = None
        self.calls = 0
        self.errors = 0

    @property
    def port(self) -> int:
        """The port the proxy listens on."""
        return int(self._listener.getsockname()[1])

    def start(self) -> RecordingProxy:
        """Accept connections in a background thread."""
        self._accept = threading.Thread(target=self._accept_loop, name="simdb-record", daemon=True)
        self._accept.start()
        return self

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client, _addr = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            t = threading.Thread(target=self._serve, args=(client,), daemon=True)
            self._threads.append(t)
            t.start()

    def _protocols(self, sock: socket.socket) -> tuple[Any, Any]:
        import thriftpy2.protocol
        import thriftpy2.transport

        tp: Any = thriftpy2.transport
        pp: Any = thriftpy2.protocol
        tsock = tp.TSocket(sock=sock, socket_timeout=int(self.config.timeout_s * 1000))
        trans = (
            tp.TFramedTransport(tsock) if self.config.transport == "framed" else tp.TBufferedTransport(tsock)
        )
        proto = pp.TCompactProtocol(trans) if self.config.protocol == "compact" else pp.TBinaryProtocol(trans)
        return proto, trans

    def _serve(self, client: socket.socket) -> None:
        from thriftpy2.thrift import TApplicationException
        from thriftpy2.transport import TTransportException

        try:
            upstream = socket.create_connection(self.config.upstream, timeout=self.config.timeout_s)
        except OSError as exc:
            log.warning("record: cannot reach upstream %s: %s", self.config.upstream, exc)
            client.close()
            return
        cin, ctrans = self._protocols(client)
        uin, utrans = self._protocols(upstream)
        try:
            while not self._stop.is_set():
                try:
                    name, mtype, seqid = cin.read_message_begin()
                except (TTransportException, OSError, EOFError):
                    return
                method_name = name.split(":", 1)[-1]
                method = self.model.methods.get(method_name)
                if method is None:
                    log.warning(
                        "record: %s has no method %r; closing the connection", self.config.service, name
                    )
                    return
                args = method.args_cls()
                cin.read_struct(args)
                cin.read_message_end()
                started = time.perf_counter()
                uin.write_message_begin(name, mtype, seqid)
                uin.write_struct(args)
                uin.write_message_end()
                utrans.flush()
                if method.oneway or mtype == ONEWAY:
                    self._record(method, args, {"return": None}, 0.0)
                    continue
                rname, rtype, rseqid = uin.read_message_begin()
                if rtype == EXCEPTION:
                    result: Any = TApplicationException()
                else:
                    result = method.result_cls()
                uin.read_struct(result)
                uin.read_message_end()
                latency = (time.perf_counter() - started) * 1000.0
                cin.write_message_begin(rname, rtype, rseqid)
                cin.write_struct(result)
                cin.write_message_end()
                ctrans.flush()
                self._record(method, args, self._reply_json(method, rtype, result), latency)
        except Exception as exc:  # the proxy must outlive any one connection
            with self._lock:
                self.errors += 1
            log.warning("record: connection ended: %s: %s", type(exc).__name__, exc)
        finally:
            client.close()
            upstream.close()

    @staticmethod
    def _reply_json(method: Any, rtype: int, result: Any) -> dict[str, Any]:
        from simdb.thrift.codec import struct_to_json, to_json

        if rtype == EXCEPTION:
            return {"app_error": {"type": int(result.type), "message": str(result.message or "")}}
        for exc in method.exceptions:
            value = getattr(result, exc.field_name, None)
            if value is not None:
                return {"raise": {exc.name: struct_to_json(value)}}
        if method.has_return:
            success = getattr(result, "success", None)
            if success is None:
                return {
                    "app_error": {"type": "MISSING_RESULT", "message": f"{method.name} returned no result"}
                }
            return {"return": to_json(method.return_ttype, method.return_spec, success)}
        return {"return": None}

    def _record(self, method: Any, args: Any, reply: dict[str, Any], latency_ms: float) -> None:
        from simdb.thrift.codec import args_to_json

        line = dump_line(
            {
                "method": method.name,
                "args": args_to_json(method, args),
                "reply": reply,
                "latency_ms": round(latency_ms, 3),
            }
        )
        with self._lock:
            self._out.write(line)
            self._out.flush()
            self.calls += 1

    def stop(self) -> Path:
        """Stop accepting, close connections, and write the recordings into the snapshot."""
        self._stop.set()
        self._listener.close()
        if self._accept is not None:
            self._accept.join(timeout=5)
        for t in self._threads:
            t.join(timeout=self.config.timeout_s)
        with self._lock:
            self._out.close()
        try:
            return write_recordings(
                self.config.out,
                self.config.part_name,
                self._tmp,
                f"thrift://{self.config.upstream[0]}:{self.config.upstream[1]}",
            )
        finally:
            self._tmp.unlink(missing_ok=True)


def write_recordings(out: Path, part: str, recordings: Path, source: str) -> Path:
    """Make ``thrift/<part>/recordings.jsonl`` of the snapshot at ``out`` (kept parts copied as they are)."""
    from simdb.snapshot.reader import open_snapshot

    existing = open_snapshot(out) if (out / MANIFEST_NAME).is_file() else None
    name = existing.manifest.name if existing else out.name
    description = existing.manifest.description if existing else f"recorded from {source}"
    with SnapshotWriter(out, name, description) as writer:
        if existing is not None:
            writer.captured_from = dict(existing.manifest.captured_from)
            writer.scrub = existing.manifest.scrub
            for pname, p in existing.manifest.parts.items():
                keep = [e for e in p.files if pname != part or not e.path.endswith(("recordings.jsonl",))]
                for entry in keep:
                    dest = writer.tmp / entry.path
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(existing.root / entry.path, dest)
                    writer.declare_part(pname, p.kind)
                    writer.add_file(pname, entry)
                if p.tables:
                    writer.set_tables(pname, list(p.tables))
        fw = writer.open_file(part, "thrift", f"thrift/{part}/recordings.jsonl", jsonl=False)
        for _line, obj in iter_jsonl(recordings):
            fw.write(obj)
        writer.add_file(part, fw.close())
        writer.captured_from[part] = source
        return writer.commit()


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))
    return ordered[k]


def latency_profile(recordings: Iterable[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """p50/p99 latency per method from recordings: the ``faults:`` section of a stub file."""
    by_method: dict[str, list[float]] = {}
    for rec in recordings:
        if rec.get("latency_ms"):
            by_method.setdefault(rec["method"], []).append(float(rec["latency_ms"]))
    return {
        m: {
            "p50_ms": round(_percentile(v, 0.5), 3),
            "p99_ms": round(max(_percentile(v, 0.99), _percentile(v, 0.5)), 3),
        }
        for m, v in sorted(by_method.items())
    }


def profile_of_part(snapshot_dir: Path, part: str) -> dict[str, dict[str, float]]:
    """:func:`latency_profile` of a snapshot's recordings."""
    from simdb.snapshot.reader import iter_recordings, open_snapshot

    snap = open_snapshot(snapshot_dir)
    return latency_profile(rec for _p, _l, rec in iter_recordings(snap, part))


def dump_profile(profile: dict[str, dict[str, float]]) -> str:
    """The profile as a YAML stub file with only a ``faults:`` section."""
    import yaml

    return yaml.safe_dump({"faults": profile}, sort_keys=True)
