"""SQL steps of a binding: a pooled PyMySQL connection to a MySQL fake of the stack.

Connections come from a SQLAlchemy :class:`~sqlalchemy.pool.QueuePool` (thread
safe, bounded); a connection that fails is invalidated and the statement tried
once more on a fresh one, so a restarted MySQL fake is reconnected to.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from simdb.fake import Endpoint
from simdb.thrift.databind.params import Misfit, SqlTemplate

__all__ = ["SqlStore"]

_RETRYABLE = ("OperationalError", "InterfaceError")


class SqlStore:
    """Runs binding statements on one MySQL endpoint (autocommit: each write is visible at once)."""

    def __init__(self, name: str, endpoint: Endpoint, pool_size: int = 4) -> None:
        extras = dict(endpoint.extra)
        self.name = name
        self.endpoint = endpoint
        settings: dict[str, Any] = {
            "host": endpoint.host,
            "port": endpoint.port,
            "user": extras.get("user", "root"),
            "password": extras.get("password", ""),
            "database": extras.get("database") or None,
            "autocommit": True,
            "charset": "utf8mb4",
            "connect_timeout": 5,
            "read_timeout": 30,
            "write_timeout": 30,
        }
        self._settings = settings
        self._pool_size = pool_size
        self._pool: Any = None
        self._lock = threading.Lock()

    def _connect(self) -> Any:
        """A pooled connection. The pool (and SQLAlchemy, a large import) is made on the first call,
        so a fake with SQL bindings starts as fast as one without."""
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    import pymysql
                    from sqlalchemy.pool import QueuePool

                    settings = self._settings
                    self._pool = QueuePool(
                        lambda: pymysql.connect(**settings),
                        pool_size=self._pool_size,
                        max_overflow=self._pool_size * 2,
                        timeout=10,
                        reset_on_return=None,  # autocommit: nothing to roll back, no round trip per call
                    )
        return self._pool.connect()

    def _run(self, template: SqlTemplate, scope: Mapping[str, Any], fetch: bool) -> Any:
        query, params = template.render(scope)
        for attempt in (1, 2):
            try:
                conn = self._connect()
            except Exception as exc:
                if _is_connection_error(exc):
                    where = self.endpoint.address
                    raise Misfit(f"MySQL fake {self.name!r} is unreachable at {where}: {exc}") from exc
                raise
            try:
                cur = conn.cursor()
                try:
                    cur.execute(query, params)
                    if not fetch:
                        return cur.rowcount
                    names = [d[0] for d in cur.description or ()]
                    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
                finally:
                    cur.close()
            except Exception as exc:
                if type(exc).__name__ in _RETRYABLE and attempt == 1 and _is_connection_error(exc):
                    conn.invalidate()
                    continue
                if _is_connection_error(exc):
                    where = self.endpoint.address
                    raise Misfit(f"MySQL fake {self.name!r} is unreachable at {where}: {exc}") from exc
                if type(exc).__module__.startswith("pymysql"):
                    raise Misfit(f"MySQL fake {self.name!r} refused the statement: {exc}") from exc
                raise
            finally:
                conn.close()
        raise AssertionError("unreachable")

    def rows(self, template: SqlTemplate, scope: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The rows of a SELECT, as column name -> value."""
        result: list[dict[str, Any]] = self._run(template, scope, fetch=True)
        return result

    def execute(self, template: SqlTemplate, scope: Mapping[str, Any]) -> int:
        """Run a write; the number of rows it touched."""
        count: int = self._run(template, scope, fetch=False)
        return count

    def close(self) -> None:
        """Close every pooled connection."""
        if self._pool is not None:
            self._pool.dispose()


def _is_connection_error(exc: Exception) -> bool:
    """Lost or refused connections (PyMySQL error codes 2003, 2006, 2013, or an InterfaceError)."""
    if type(exc).__name__ == "InterfaceError":
        return True
    code = exc.args[0] if exc.args else None
    return code in (2003, 2006, 2013, 2014, 2055)
