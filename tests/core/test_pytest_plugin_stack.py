"""The plugin's stack fixtures, as a user meets them: inner test files run by pytester on the demo stack.

Passing files check what the fixtures do (clients, reset, stubs and faults for one test, journal
assertions, ``@given(simdb.contract.args(...))``); failing files check the failure messages.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.fake

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "examples" / "homefeed" / "simdb.yaml"
RESET_TARGET_MS = 50.0


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "--strict-markers", *args)


def test_importing_the_plugin_loads_nothing_heavy() -> None:
    code = textwrap.dedent(
        """
        import sys
        import simdb.pytest_plugin
        heavy = ("simdb.thrift", "simdb.redis", "simdb.mysql", "simdb.stack", "simdb.contract",
                 "simdb.testing.session", "thriftpy2", "hypothesis", "sqlalchemy", "redis")
        print(sorted(m for m in sys.modules if m.startswith(heavy)))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT, timeout=60
    )
    assert out.stdout.strip() == "[]", out.stdout


def test_a_session_that_uses_no_fixture_loads_nothing_heavy(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_plain="""
        import sys

        def test_nothing_of_simdb_was_imported():
            heavy = ("simdb.thrift", "simdb.redis", "simdb.mysql", "simdb.stack", "simdb.testing.session")
            assert sorted(m for m in sys.modules if m.startswith(heavy)) == []
        """
    )
    _run(pytester, "-q").assert_outcomes(passed=1)


PASSING = """
import pytest
from hypothesis import given, settings
from sqlalchemy import text
from thriftpy2.thrift import TApplicationException

import simdb.contract

PIN_7 = {
    "method": "getPin", "args": {"id": 7}, "reply": {"return": {"id": 7, "ownerId": 1, "title": "stubbed"}}
}


def test_thrift_client_answers_from_the_stack(simdb_client, simdb_journal):
    pinstore = simdb_client("pinstore")
    assert pinstore.getPin(1001).title == "Recipes idea 1001"
    pinstore.getPin(1001)
    pinstore.getPins([1001, 1002], False)
    journal = simdb_journal("pinstore")
    journal.assert_called("getPin", times=2, with_args={"id": 1001})
    journal.assert_called("PinStore.getPins", with_args={"ids": [1001, 1002]})
    journal.assert_not_called("getBoardPins")
    journal.assert_order("getPin", ("getPins", {"includeEmbeddings": False}))
    assert [c.method for c in journal.calls()] == ["getPin", "getPin", "getPins"]


def test_the_journal_starts_empty_in_every_test(simdb_journal):
    simdb_journal("pinstore").assert_not_called("getPin")


def test_redis_write(simdb_client):
    simdb_client("cache").set("written-by-a-test", "1")


def test_redis_is_back_to_the_snapshot(simdb_client):
    assert simdb_client("cache").get("written-by-a-test") is None


def test_mysql_write(simdb_client):
    with simdb_client("db").begin() as conn:
        conn.execute(text("UPDATE pins SET title = 'renamed' WHERE id = 1001"))
    assert simdb_client("pinstore").getPin(1001).title == "renamed"


def test_mysql_is_back_to_the_snapshot(simdb_client):
    with simdb_client("db").connect() as conn:
        assert conn.execute(text("SELECT title FROM pins WHERE id = 1001")).scalar() == "Recipes idea 1001"


@pytest.mark.simdb_stubs("pinstore", PIN_7)
def test_a_stub_marker(simdb_client):
    assert simdb_client("pinstore").getPin(7).title == "stubbed"


def test_a_stub_for_one_test(simdb_client, simdb_stub):
    (stub_id,) = simdb_stub("pinstore", {**PIN_7, "args": {"id": 1001}})
    assert stub_id
    assert simdb_client("pinstore").getPin(1001).title == "stubbed"


def test_the_stubs_are_gone(simdb_client):
    assert simdb_client("pinstore").getPin(1001).title == "Recipes idea 1001"
    with pytest.raises(Exception, match="no pin 7"):
        simdb_client("pinstore").getPin(7)


@pytest.mark.simdb_faults("pinstore", {"getPin": {"app_error_rate": 1.0, "app_error_message": "down"}})
def test_a_fault_marker(simdb_client):
    with pytest.raises(TApplicationException, match="down"):
        simdb_client("pinstore").getPin(1001)


def test_a_fault_for_one_test(simdb_client, simdb_fault, simdb_journal):
    simdb_fault("ranker", {"*": {"app_error_rate": 1.0}})
    with pytest.raises(TApplicationException):
        simdb_client("ranker").version()
    simdb_journal("ranker").assert_called("version", times=1)


def test_the_faults_are_gone(simdb_client):
    assert simdb_client("pinstore").getPin(1001).id == 1001
    assert isinstance(simdb_client("ranker").version(), str)


def test_the_idl_types(simdb_stack, simdb_client):
    module = simdb_stack.idl("pinstore")
    with pytest.raises(module.types.PinNotFound):
        simdb_client("pinstore").getPin(7)


@settings(max_examples=15, deadline=None)
@given(call=simdb.contract.args("PinStore.getBoardPins"))
def test_generated_arguments_from_the_stack(simdb_stack, call):
    sections = simdb_stack.client("pinstore").getBoardPins(call.boardId, call.limit)
    assert all(isinstance(pin.id, int) for pins in sections.values() for pin in pins)
    simdb_stack.journal("pinstore").assert_called("getBoardPins", with_args={"boardId": call.boardId})
"""


def test_stack_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_stack=PASSING)
    result = _run(pytester, "-q", "--simdb-stack", str(STACK))
    result.assert_outcomes(passed=PASSING.count("\ndef test_"))
    line = next(x for x in result.outlines if x.startswith("simdb:") and "per-test resets" in x)
    found = re.search(r"mean ([\d.]+) ms, max ([\d.]+) ms", line)
    assert found is not None, line
    assert float(found.group(1)) < RESET_TARGET_MS, line


FAILING = """
import pytest


def test_too_few_calls(simdb_client, simdb_journal):
    simdb_client("pinstore").getPin(1001)
    simdb_journal("pinstore").assert_called("getPin", times=2, with_args={"id": 1001})


def test_never_called(simdb_journal):
    simdb_journal("usergraph").assert_called("getFollowees")


def test_called_but_should_not(simdb_client, simdb_journal):
    simdb_client("pinstore").getPins([1, 2], False)
    simdb_journal("pinstore").assert_not_called("getPins")


def test_wrong_order(simdb_client, simdb_journal):
    pinstore = simdb_client("pinstore")
    pinstore.getPins([1001], False)
    pinstore.getPin(1001)
    simdb_journal("pinstore").assert_order("getPin", "getPins")


def test_a_method_the_fake_does_not_serve(simdb_journal):
    simdb_journal("pinstore").assert_not_called("getPn")


def test_a_fake_the_stack_does_not_have(simdb_client):
    simdb_client("pinstorr")


def test_journal_of_a_redis_fake(simdb_journal):
    simdb_journal("cache")


@pytest.mark.simdb_stubs("pinstore", {"method": "getPin", "args": {"id": 7}, "reply": {"return": {"id": 7}}})
def test_an_invalid_stub():
    pass


@pytest.mark.simdb_faults("pinstore", {"getPin": {"app_error_rate": 2.0}})
def test_an_invalid_fault():
    pass
"""


def test_failure_messages(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_failing=FAILING)
    result = _run(pytester, "-q", "--simdb-stack", str(STACK))
    result.assert_outcomes(failed=7, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*AssertionError: fake 'pinstore': expected getPin to be called exactly 2 times with arguments "
            'including {"id": 1001}, it was called 1 time so',
            "*calls answered by fake 'pinstore' in this test (1, oldest first):",
            '*  1. getPin({"id": 1001}) -> binding:getPin',
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*fake 'usergraph': expected getFollowees to be called at least once, it was called 0 times",
            "*fake 'usergraph' answered no calls in this test",
        ]
    )
    result.stdout.fnmatch_lines(
        ["*fake 'pinstore': expected no call of getPins, it was called 1 time", "*getPins({*"]
    )
    result.stdout.fnmatch_lines(
        [
            "*fake 'pinstore': expected the calls getPin then getPins; no call of getPins came after getPin",
            "*  1. getPins(*",
            "*  2. getPin(*",
        ]
    )
    result.stdout.fnmatch_lines(["*fake 'pinstore' serves no method 'getPn' (services PinStore; methods: *"])
    result.stdout.fnmatch_lines(["*has no fake 'pinstorr'; its fakes: cache, db, pinstore, *"])
    result.stdout.fnmatch_lines(["*fake 'cache' of stack homefeed is a redis fake*"])
    result.stdout.fnmatch_lines(["*fake 'pinstore': stub 1: *required field 'ownerId' of Pin is missing*"])
    result.stdout.fnmatch_lines(["*fake 'pinstore': faults: *app_error_rate*"])


def test_the_stack_file_from_the_ini_file(pytester: pytest.Pytester) -> None:
    # Relative to the ini file's directory, wherever pytest runs from.
    (pytester.path / "conf").mkdir()
    relative = os.path.relpath(STACK, pytester.path / "conf")
    (pytester.path / "conf" / "pytest.ini").write_text(f"[pytest]\nsimdb_stack = {relative}\n")
    pytester.makepyfile(
        test_ini="""
        def test_every_test_gets_the_stack(simdb_stack):
            assert simdb_stack.name == "homefeed"
            assert set(simdb_stack.endpoints()) == set(simdb_stack.names)
            assert simdb_stack.names == ["cache", "db", "pinstore", "usergraph", "candidates", "ranker"]
        """
    )
    result = _run(pytester, "-q", "-c", "conf/pytest.ini", "--rootdir", str(pytester.path), "test_ini.py")
    result.assert_outcomes(passed=1)


def test_no_stack_file_is_a_clear_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_none="def test_it(simdb_stack):\n    pass\n")
    result = _run(pytester, "-q")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*the simdb_stack fixture needs a stack file: pass --simdb-stack FILE*"])


def test_options_and_markers_are_declared(pytester: pytest.Pytester) -> None:
    result = _run(pytester, "--help")
    result.stdout.fnmatch_lines(
        ["simdb fakes:", "*--simdb-stack=FILE*", "*--simdb-snapshot*", "*--simdb-docker*"]
    )
    result.stdout.fnmatch_lines(["*simdb_stack (string):*", "*simdb_docker (bool):*"])
    markers = _run(pytester, "--markers")
    markers.stdout.fnmatch_lines(["@pytest.mark.simdb_stubs(fake, *stubs, service=None):*"])
    markers.stdout.fnmatch_lines(["@pytest.mark.simdb_faults(fake, rules, service=None, seed=None):*"])


def test_docker_is_refused_with_the_reason(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_d="def test_it():\n    pass\n")
    result = _run(pytester, "--simdb-docker", "--simdb-stack", str(STACK))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--simdb-docker: the per-test reset, stubs, faults and journals need*"])
