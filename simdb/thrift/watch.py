"""``--watch``: reload the IDL and the stub files when they change, without a restart.

A background thread watches the directories of the IDL, its include
directories and the stub files (with ``watchfiles``). On a change to a
``.thrift``, ``.yaml``, ``.yml`` or ``.json`` file it calls
:meth:`ThriftFake.reload`, which builds the new services and stubs first and
swaps them in only when everything loaded. Open connections stay open: a call
to a method that still exists is answered by the new definition, a call to a
removed one gets ``UNKNOWN_METHOD``. When the new files are broken, the error
is logged and the fake keeps serving the previous version.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import watchfiles

if TYPE_CHECKING:
    from simdb.thrift.fake import ThriftFake

log = logging.getLogger("simdb.thrift.watch")

WATCHED_SUFFIXES = frozenset({".thrift", ".yaml", ".yml", ".json"})


class Watcher:
    """Watches one fake's files and reloads it on change."""

    def __init__(self, fake: ThriftFake) -> None:
        self.fake = fake
        cfg = fake.config
        dirs = {cfg.idl.resolve().parent, *(d.resolve() for d in cfg.include_dirs)}
        dirs.update(p.resolve().parent for p in cfg.stubs)
        self.paths = sorted(d for d in dirs if d.is_dir())
        self.reloads = 0
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    def start(self) -> Watcher:
        """Start watching in a daemon thread."""
        self._thread = threading.Thread(target=self._run, name=f"simdb-watch-{self.fake.name}", daemon=True)
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        """True once the file watch is in place (changes from then on trigger a reload)."""
        return self._ready.is_set()

    def stop(self) -> None:
        """Stop watching."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        try:
            watcher = watchfiles.watch(
                *self.paths,
                stop_event=self._stop,
                debounce=200,
                step=50,
                rust_timeout=100,
                yield_on_timeout=True,
                watch_filter=_relevant,
            )
            for changes in watcher:
                self._ready.set()
                if self._stop.is_set():
                    break
                if changes:
                    self.reload(sorted({Path(p).name for _, p in changes}))
        except Exception:
            log.exception("thrift watch: watching %s failed", ", ".join(map(str, self.paths)))

    def reload(self, changed: list[str]) -> None:
        """Reload now (also called by tests); errors are logged and keep the old state."""
        try:
            self.fake.reload()
        except Exception as exc:
            self.last_error = str(exc)
            log.error(
                "thrift watch: %s changed but cannot be loaded, still serving the previous version: %s",
                ", ".join(changed),
                exc,
            )
            return
        self.reloads += 1
        self.last_error = None
        log.info("thrift watch: reloaded %s after a change to %s", self.fake.name, ", ".join(changed))


def _relevant(change: watchfiles.Change, path: str) -> bool:
    return Path(path).suffix.lower() in WATCHED_SUFFIXES
