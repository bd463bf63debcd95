"""Two-phase snapshot loads: prepare every fake's part, then swap them all in, or none.

Every fake kind implements :meth:`simdb.fake.Fake.prepare` the same way: read and
check its whole part of a snapshot into *staged* state without touching what
clients see, and return a :class:`StagedLoad`:

* :meth:`StagedLoad.commit` swaps the staged state in (what ``load`` does, and
  quick: the reading and checking happened in ``prepare``);
* :meth:`StagedLoad.abort` drops a staged state that was never committed;
* :meth:`StagedLoad.rollback` undoes a commit: the fake is back to the snapshot it
  had loaded before (what ``reset`` would have returned to then), with the live
  state reset to it;
* :meth:`StagedLoad.release` forgets what a rollback would need once the whole
  load succeeded.

:class:`PendingLoads` keeps the staged loads of one fake between admin requests
(``POST /_simdb/snapshot`` with a ``phase``, see :func:`snapshot_route`), so the
loader of :mod:`simdb.snapshot.load` can prepare the parts of several fakes,
commit them one by one and roll the committed ones back when one fails.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from simdb.errors import SimdbError

if TYPE_CHECKING:
    from simdb.admin import Request, Response, Route
    from simdb.fake import Fake

log = logging.getLogger("simdb.staging")

PHASES = ("prepare", "commit", "abort", "rollback", "release")


class StagedLoad(Protocol):
    """A fake's part of a snapshot, read and checked, not yet visible (see the module doc)."""

    @property
    def detail(self) -> str:
        """What was staged, in a few words (``"1200 keys"``, ``"5 tables, 900 rows"``)."""
        ...

    def commit(self) -> None:
        """Swap the staged state in; on an error the fake keeps its previous state."""
        ...

    def abort(self) -> None:
        """Drop the staged state (before :meth:`commit`)."""
        ...

    def rollback(self) -> None:
        """After :meth:`commit`: back to the snapshot loaded before it."""
        ...

    def release(self) -> None:
        """After :meth:`commit`: forget what :meth:`rollback` would need."""
        ...


class Staged:
    """A :class:`StagedLoad` made of callables, so each fake writes only its own steps.

    ``commit`` must return the callable that undoes it; ``abort`` and ``release``
    free resources (temporary files, spools) and may be omitted.
    """

    def __init__(
        self,
        detail: str,
        commit: Callable[[], Callable[[], None]],
        abort: Callable[[], None] | None = None,
        release: Callable[[], None] | None = None,
    ) -> None:
        self.detail = detail
        self._commit = commit
        self._abort = abort
        self._release = release
        self._undo: Callable[[], None] | None = None
        self.state = "prepared"

    def commit(self) -> None:
        """Swap in (once)."""
        if self.state != "prepared":
            raise SimdbError(f"cannot commit a staged load that is {self.state}")
        self._undo = self._commit()
        self.state = "committed"

    def abort(self) -> None:
        """Drop the staged state (a no-op unless prepared)."""
        if self.state == "prepared":
            self.state = "aborted"
            if self._abort is not None:
                self._abort()

    def rollback(self) -> None:
        """Undo the commit (a no-op unless committed)."""
        if self.state == "committed" and self._undo is not None:
            undo, self._undo = self._undo, None
            undo()
            self.state = "rolled back"

    def release(self) -> None:
        """Keep the commit for good."""
        if self.state == "committed":
            self._undo = None
            self.state = "released"
            if self._release is not None:
                self._release()


class PendingLoads:
    """The staged loads of one fake, by id. A new ``prepare`` aborts older prepared ones."""

    def __init__(self, fake: Fake) -> None:
        self.fake = fake
        self._ids = itertools.count(1)
        self._loads: dict[str, StagedLoad] = {}
        self._lock = threading.Lock()

    def prepare(self, path: str, snapshot_dir: Path) -> tuple[str, str]:
        """Stage the fake's part of ``snapshot_dir`` (``path`` as sent); returns (id, detail)."""
        staged = self.fake.prepare(snapshot_dir)
        with self._lock:
            old = self._loads
            self._loads = {}
            for ident, load in old.items():  # a loader that vanished must not pin memory
                log.info("fake %s: dropping staged load %s for a new one", self.fake.name, ident)
                load.abort()
                load.release()
            ident = f"{self.fake.name}-{next(self._ids)}"
            self._loads[ident] = staged
        log.info("fake %s: staged %s from %s as %s", self.fake.name, staged.detail, path, ident)
        return ident, staged.detail

    def step(self, phase: str, ident: str) -> None:
        """Run ``commit``/``abort``/``rollback``/``release`` on a staged load."""
        with self._lock:
            staged = self._loads.get(ident)
            if staged is None:
                raise SimdbError(
                    f"no staged load {ident!r} on fake {self.fake.name!r} "
                    "(never prepared, finished, or replaced by a newer prepare)"
                )
            getattr(staged, phase)()
            if phase != "commit":
                del self._loads[ident]
        log.info("fake %s: %s %s", self.fake.name, phase, ident)


def snapshot_route(fake: Fake) -> Route:
    """``POST /_simdb/snapshot``: a one-shot load (``{"path": DIR}``) or one phase of a two-phase load.

    ``{"phase": "prepare", "path": DIR}`` answers ``{"staged": ID, "detail": ...}``;
    ``{"phase": "commit"|"abort"|"rollback"|"release", "staged": ID}`` runs that step.
    """
    from simdb.admin import AdminError, Response, Route

    pending = PendingLoads(fake)

    def handler(req: Request) -> Response:
        body = req.body
        if not isinstance(body, dict):
            raise AdminError('body must be JSON {"path": "<snapshot directory>"} (and optionally "phase")')
        phase = body.get("phase")
        if phase is None:
            if not isinstance(body.get("path"), str):
                raise AdminError('body must be JSON {"path": "<snapshot directory>"}')
            fake.load(req.policy.snapshot_dir(body["path"]))
            return Response(200, {"ok": True, "loaded": body["path"]})
        if phase not in PHASES:
            raise AdminError(f"phase must be one of {', '.join(PHASES)}, got {phase!r}")
        if phase == "prepare":
            if not isinstance(body.get("path"), str):
                raise AdminError('phase "prepare" needs "path": "<snapshot directory>"')
            ident, detail = pending.prepare(body["path"], req.policy.snapshot_dir(body["path"]))
            return Response(200, {"ok": True, "staged": ident, "detail": detail})
        if not isinstance(body.get("staged"), str):
            raise AdminError(f'phase "{phase}" needs "staged": "<id from prepare>"')
        pending.step(phase, body["staged"])
        return Response(200, {"ok": True, phase: body["staged"]})

    return Route("POST", "/snapshot", handler)
