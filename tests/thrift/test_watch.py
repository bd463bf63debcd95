"""--watch: IDL and stub changes are picked up without restarting, on the same open connection."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from thriftpy2.thrift import TApplicationException

from simdb.thrift.fake import ThriftFake
from tests.fixtures.common import wait_until
from tests.thrift.serving import HOMEFEED, call_bytes, client, connect, read_reply, running

pytestmark = pytest.mark.fake


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    for name in ("types.thrift", "base.thrift", "pinstore.thrift"):
        shutil.copy(HOMEFEED / name, tmp_path / name)
    (tmp_path / "stubs.yaml").write_text("stubs: []\n")
    return tmp_path


@pytest.fixture
def watched(workdir: Path) -> Iterator[ThriftFake]:
    with running(idl=workdir / "pinstore.thrift", stubs=(workdir / "stubs.yaml",), watch=True) as fake:
        watcher = fake.watcher
        assert watcher is not None
        wait_until(lambda: watcher.running, timeout=10, what="file watcher")
        yield fake


def unknown_method(call: object) -> bool:
    try:
        call()  # type: ignore[operator]
    except TApplicationException as exc:
        return exc.type == TApplicationException.UNKNOWN_METHOD
    return False


def test_stub_file_change_applies_on_the_open_connection(watched: ThriftFake, workdir: Path) -> None:
    c = client(watched)
    try:
        assert c.getPin(1).title != "watched"
        (workdir / "stubs.yaml").write_text(
            "stubs:\n"
            "  - {method: getPin, args: {id: 1}, reply: {return: {id: 1, ownerId: 2, title: watched}}}\n"
        )
        wait_until(lambda: c.getPin(1).title == "watched", timeout=10, what="reloaded stub")
    finally:
        c.close()


def test_idl_change_drops_removed_methods_and_keeps_the_connection(
    watched: ThriftFake, workdir: Path
) -> None:
    c = client(watched)
    try:
        assert isinstance(c.getBoardPins(101, 5), dict)
        idl = workdir / "pinstore.thrift"
        text = idl.read_text()
        start = text.index("  /** Pins of a board")
        end = text.index("}", text.index("getBoardPins"))
        idl.write_text(text[:start] + text[end:])
        wait_until(lambda: unknown_method(lambda: c.getBoardPins(101, 5)), timeout=10, what="method removed")
        assert isinstance(c.getPin(3).id, int)  # same connection, a method that still exists
    finally:
        c.close()


def test_broken_files_keep_the_previous_version(watched: ThriftFake, workdir: Path) -> None:
    watcher = watched.watcher
    assert watcher is not None
    c = client(watched)
    try:
        (workdir / "stubs.yaml").write_text("stubs:\n  - {method: nope, reply: {return: 1}}\n")
        wait_until(lambda: watcher.last_error is not None, timeout=10, what="reload error")
        assert "nope" in (watcher.last_error or "")
        (workdir / "pinstore.thrift").write_text("service PinStore {")
        wait_until(lambda: "pinstore.thrift" in (watcher.last_error or ""), timeout=10, what="IDL error")
        assert isinstance(c.getPin(3).id, int)
        assert isinstance(c.getBoardPins(101, 5), dict)
    finally:
        c.close()


def test_reload_keeps_journal_and_connections(watched: ThriftFake) -> None:
    c = client(watched)
    try:
        c.getPin(1)
        watched.reload()
        c.getPin(2)
    finally:
        c.close()
    assert [e.args.id for e in watched.journal.entries("getPin")] == [1, 2]
    assert watched.server is not None and watched.server.connections_total == 1


def test_a_method_added_to_the_idl_is_answered_on_the_open_connection(
    watched: ThriftFake, workdir: Path
) -> None:
    with connect(watched) as sock:
        version = watched.state(None).model.methods["version"]
        sock.sendall(call_bytes(watched, "version", version.args_cls(), seqid=1))
        read_reply(watched, sock, version.result_cls)
        idl = workdir / "pinstore.thrift"
        text = idl.read_text()
        cut = text.rindex("}")
        idl.write_text(text[:cut] + "  string ping(1: string word)\n}\n")

        def ping_answered() -> bool:
            method = watched.state(None).model.methods.get("ping")
            if method is None:
                return False
            sock.sendall(call_bytes(watched, "ping", method.args_cls(word="hi"), seqid=2))
            _, mtype, _, result = read_reply(watched, sock, method.result_cls)
            return mtype == 2 and isinstance(result.success, str)

        wait_until(ping_answered, timeout=10, what="new method served")


def test_an_emptied_stub_file_is_refused_and_the_stubs_stay(watched: ThriftFake, workdir: Path) -> None:
    watcher = watched.watcher
    assert watcher is not None
    c = client(watched)
    try:
        (workdir / "stubs.yaml").write_text(
            "stubs:\n"
            "  - {method: getPin, args: {id: 1}, reply: {return: {id: 1, ownerId: 2, title: kept}}}\n"
        )
        wait_until(lambda: c.getPin(1).title == "kept", timeout=10, what="reloaded stub")
        for broken in ("", "   \n", "# only a comment\n", "stubs:\n", "faults: {}\nstubs:\n"):
            (workdir / "stubs.yaml").write_text(broken)
            wait_until(lambda: "empty" in (watcher.last_error or ""), timeout=10, what="empty-file error")
            assert c.getPin(1).title == "kept"
            (workdir / "stubs.yaml").write_text(
                "stubs:\n"
                "  - {method: getPin, args: {id: 1}, reply: {return: {id: 1, ownerId: 2, title: kept}}}\n"
            )
            wait_until(lambda: watcher.last_error is None, timeout=10, what="good file again")
    finally:
        c.close()
