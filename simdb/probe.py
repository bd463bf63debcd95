"""Is a fake ready? One probe per protocol, from its URL: a Thrift call, Redis ``PING``, MySQL ``SELECT 1``.

The URL is the one :meth:`simdb.fake.Endpoint.url` prints (``thrift://``, ``redis://``,
``mysql+pymysql://``); a Thrift URL may add ``?protocol=compact&transport=framed``. Container health
checks (``simdb probe``) and the launchers use these probes, never a sleep.
"""

from __future__ import annotations

import importlib
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from simdb.errors import SimdbError

if TYPE_CHECKING:
    from simdb.fake import Endpoint

PROBE_METHOD = "__simdb_probe__"


class ProbeError(SimdbError):
    """The fake at the URL did not answer its protocol's probe."""


@dataclass(frozen=True)
class Target:
    """A parsed probe URL."""

    scheme: str
    host: str
    port: int
    user: str
    password: str
    database: str
    options: dict[str, str]


def parse(url: str) -> Target:
    """Split a probe URL, naming what is wrong with it."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme not in ("thrift", "redis", "mysql"):
        raise ProbeError(f"{url!r}: the scheme must be thrift://, redis:// or mysql://")
    try:
        port = parts.port
    except ValueError as exc:
        raise ProbeError(f"{url!r}: {exc}") from exc
    if not parts.hostname or port is None:
        raise ProbeError(f"{url!r}: needs a host and a port")
    options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    return Target(
        scheme,
        parts.hostname,
        port,
        unquote(parts.username or ""),
        unquote(parts.password or ""),
        parts.path.lstrip("/"),
        options,
    )


def probe(url: str, timeout: float = 2.0) -> None:
    """Raise :class:`ProbeError` unless the fake at ``url`` answers its protocol within ``timeout``."""
    target = parse(url)
    try:
        if target.scheme == "thrift":
            _thrift(target, timeout)
        elif target.scheme == "redis":
            _redis(target, timeout)
        else:
            _mysql(target, timeout)
    except ProbeError:
        raise
    except Exception as exc:
        raise ProbeError(f"{target.scheme} at {target.host}:{target.port} did not answer: {exc}") from exc


class _NoArgs:
    thrift_spec: ClassVar[dict[int, object]] = {}
    default_spec: ClassVar[list[object]] = []


def _thrift(target: Target, timeout: float) -> None:
    protocols: Any = importlib.import_module("thriftpy2.protocol")
    thrift: Any = importlib.import_module("thriftpy2.thrift")
    transports: Any = importlib.import_module("thriftpy2.transport")
    message = thrift.TMessageType

    protocol = target.options.get("protocol", "binary")
    transport = target.options.get("transport", "buffered")
    if protocol not in ("binary", "compact") or transport not in ("buffered", "framed"):
        raise ProbeError(f"thrift probe: unknown protocol {protocol!r} or transport {transport!r}")
    sock = transports.TSocket(
        target.host, target.port, socket_timeout=timeout * 1000, connect_timeout=timeout * 1000
    )
    trans = (transports.TFramedTransport if transport == "framed" else transports.TBufferedTransport)(sock)
    trans.open()
    try:
        proto = (protocols.TCompactProtocol if protocol == "compact" else protocols.TBinaryProtocol)(trans)
        name = target.options.get("service", "")
        proto.write_message_begin(f"{name}:{PROBE_METHOD}" if name else PROBE_METHOD, message.CALL, 1)
        proto.write_struct(_NoArgs())
        proto.write_message_end()
        trans.flush()
        _, kind, _ = proto.read_message_begin()
        if kind != message.EXCEPTION:
            raise ProbeError(f"thrift at {target.host}:{target.port}: unexpected reply to the probe")
        error = thrift.TApplicationException()
        proto.read_struct(error)
        proto.read_message_end()
    finally:
        trans.close()


def _redis(target: Target, timeout: float) -> None:
    import redis

    with redis.Redis(
        host=target.host,
        port=target.port,
        password=target.password or None,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
    ) as client:
        if client.ping() is not True:
            raise ProbeError(f"redis at {target.host}:{target.port}: PING did not answer PONG")


def _mysql(target: Target, timeout: float) -> None:
    import pymysql

    conn = pymysql.connect(
        host=target.host,
        port=target.port,
        user=target.user or "root",
        password=target.password,
        database=target.database or None,
        connect_timeout=timeout,
        read_timeout=timeout,
    )
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
            if cur.fetchone() != (1,):
                raise ProbeError(f"mysql at {target.host}:{target.port}: SELECT 1 gave a wrong answer")
    finally:
        conn.close()


def probe_url(endpoint: Endpoint) -> str:
    """The probe URL of a running fake: its client URL, plus the wire settings of a Thrift fake."""
    if endpoint.kind != "thrift":
        return endpoint.url()
    extra = dict(endpoint.extra)
    query = {"protocol": extra.get("protocol", "binary"), "transport": extra.get("transport", "buffered")}
    if extra.get("multiplexed") == "true":
        query["service"] = extra.get("services", "").split(",")[0].rpartition(".")[2]
    return f"{endpoint.url()}?{urlencode(query)}"


def protocol_probe(url: str, timeout: float = 1.0) -> Callable[[], bool]:
    """A :func:`simdb.wait.wait_for` probe: ``True`` once :func:`probe` succeeds; a failure is a
    ``ConnectionError`` (transient: the fake may still be starting)."""

    def attempt() -> bool:
        try:
            probe(url, timeout)
        except ProbeError as exc:
            raise ConnectionError(str(exc)) from exc
        return True

    return attempt


def reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    """Whether something accepts TCP connections at ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
