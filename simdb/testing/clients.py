"""A client for each kind of fake: thriftpy2 for Thrift, redis-py for Redis, an SQLAlchemy engine for MySQL.

:func:`client_for` returns the client and the function that closes it; the Thrift client speaks
the fake's protocol and transport (and multiplexing, naming the service) as its endpoint says.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from simdb.errors import ConfigError

if TYPE_CHECKING:
    from simdb.fake import Fake
    from simdb.thrift.fake import ThriftFake

Closer = Callable[[], None]


def thrift_client(
    fake: ThriftFake, service: str | None = None, timeout_s: float = 10.0
) -> tuple[Any, Closer]:
    """A thriftpy2 client of ``service`` (may be omitted when the fake serves one) and its ``close``."""
    from thriftpy2.protocol import (
        TBinaryProtocolFactory,
        TCompactProtocolFactory,
        TMultiplexedProtocolFactory,
    )
    from thriftpy2.rpc import make_client
    from thriftpy2.transport import TBufferedTransportFactory, TFramedTransportFactory

    state = fake.state(service)
    cfg = fake.config
    proto: Any = (
        TCompactProtocolFactory()  # type: ignore[no-untyped-call]
        if cfg.protocol == "compact"
        else TBinaryProtocolFactory()  # type: ignore[no-untyped-call]
    )
    if cfg.multiplexed:
        proto = TMultiplexedProtocolFactory(proto, state.model.name.rpartition(".")[2])
    trans: Any = TFramedTransportFactory() if cfg.transport == "framed" else TBufferedTransportFactory()
    ep = fake.endpoint
    service_cls: Any = state.model.thrift_service
    client = make_client(
        service_cls,
        ep.host,
        ep.port,
        proto_factory=proto,
        trans_factory=trans,
        timeout=int(timeout_s * 1000),
    )
    return client, client.close


def client_for(fake: Fake, service: str | None = None) -> tuple[Any, Closer]:
    """The client of ``fake`` for its kind, and the function that closes it."""
    if fake.kind == "thrift":
        from simdb.thrift.fake import ThriftFake

        assert isinstance(fake, ThriftFake)
        return thrift_client(fake, service)
    if service is not None:
        raise ConfigError(f"fake {fake.name!r} is a {fake.kind} fake: service= is for Thrift fakes")
    url = fake.endpoint.url()
    if fake.kind == "redis":
        import redis

        client = redis.Redis.from_url(url)
        return client, client.close
    from sqlalchemy import create_engine

    engine = create_engine(url, pool_pre_ping=False)
    return engine, engine.dispose
