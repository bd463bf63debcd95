"""The stack file: every error names the file, the key and the problem; `simdb check` runs the checks."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from simdb.errors import ConfigError
from simdb.stack.build import build_fakes
from simdb.stack.load import check_files, check_snapshot_parts, load_stack

pytestmark = pytest.mark.fake

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "examples" / "homefeed" / "simdb.yaml"


def demo_copy(tmp_path: Path) -> Path:
    """The demo stack file in ``tmp_path`` with absolute paths (so it can be edited freely)."""
    data = yaml.safe_load(DEMO.read_text())
    data["snapshot"] = str(REPO / "seeds" / "homefeed")
    data["bindings"] = [
        str(DEMO.parent / b)
        for b in ([data["bindings"]] if isinstance(data.get("bindings"), str) else data.get("bindings", []))
    ]
    for fake in data["fakes"].values():
        if fake["kind"] == "thrift":
            fake["idl"] = str(REPO / "thrift" / "homefeed" / Path(fake["idl"]).name)
            fake["include_dirs"] = [str(REPO / "thrift" / "homefeed")]
    path = tmp_path / "simdb.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def full_check(path: Path) -> None:
    stack = load_stack(path)
    check_files(stack)
    check_snapshot_parts(stack)
    build_fakes(stack)


def edit(path: Path, change: object) -> Path:
    data = yaml.safe_load(path.read_text())
    change(data)  # type: ignore[operator]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_the_demo_stack_is_valid() -> None:
    full_check(DEMO)


@pytest.mark.parametrize(
    ("change", "key", "problem"),
    [
        (lambda d: d["fakes"]["cache"].update(prot=1), "fakes.cache.prot", "port"),
        (lambda d: d.update(snapshots="x"), "snapshots", "snapshot"),
        (lambda d: d["fakes"]["cache"].update(port="six"), "fakes.cache.port", "integer"),
        (lambda d: d["fakes"]["db"].update(kind="postgres"), "fakes.db", "kind"),
        (lambda d: d["fakes"]["pinstore"].update(idl="/nowhere/pinstore.thrift"), "fakes.pinstore.idl", ""),
        (lambda d: d["fakes"]["pinstore"].update(services=["PinStor"]), "pinstore", "PinStor"),
        (
            lambda d: (d["fakes"]["cache"].update(port=7777), d["fakes"]["db"].update(port=7777)),
            "port",
            "7777",
        ),
    ],
    ids=[
        "unknown-key",
        "unknown-top-key",
        "wrong-type",
        "unknown-kind",
        "missing-idl",
        "unknown-service",
        "same-port",
    ],
)
def test_each_error_names_file_key_and_problem(
    tmp_path: Path, change: object, key: str, problem: str
) -> None:
    path = edit(demo_copy(tmp_path), change)
    with pytest.raises(ConfigError) as info:
        full_check(path)
    message = str(info.value)
    assert str(path) in message, message
    assert key in message, message
    assert problem in message, message


def test_a_snapshot_part_no_fake_takes_is_an_error(tmp_path: Path) -> None:
    path = edit(demo_copy(tmp_path), lambda d: d["fakes"].pop("usergraph"))
    with pytest.raises(ConfigError, match="usergraph"):
        full_check(path)


def test_a_fake_whose_part_is_missing_is_an_error(tmp_path: Path) -> None:
    snap = tmp_path / "snap"
    shutil.copytree(REPO / "seeds" / "homefeed", snap)
    path = edit(demo_copy(tmp_path), lambda d: d.update(snapshot=str(snap)))
    edit(path, lambda d: d["fakes"].update(extra={"kind": "redis"}))
    with pytest.raises(ConfigError, match="extra"):
        full_check(path)


def test_extends_overrides_per_key(tmp_path: Path) -> None:
    base = demo_copy(tmp_path)
    child = tmp_path / "mine.yaml"
    child.write_text(f"extends: {base}\nname: mine\nfakes:\n  cache:\n    kind: redis\n    port: 0\n")
    stack = load_stack(child)
    assert stack.name == "mine"
    assert sorted(stack.spec.fakes) == ["cache", "candidates", "db", "pinstore", "ranker", "usergraph"]


def test_check_command_exit_codes(tmp_path: Path) -> None:
    good = subprocess.run(
        [sys.executable, "-m", "simdb", "check", "-f", str(DEMO)], capture_output=True, text=True, timeout=60
    )
    assert good.returncode == 0 and "valid" in good.stdout, good.stderr
    bad_path = edit(demo_copy(tmp_path), lambda d: d["fakes"]["cache"].update(prot=1))
    bad = subprocess.run(
        [sys.executable, "-m", "simdb", "check", "-f", str(bad_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode != 0
    assert "fakes.cache.prot" in bad.stderr + bad.stdout and "Traceback" not in bad.stderr + bad.stdout


def _bindings_file(tmp_path: Path, content: object) -> Path:
    path = tmp_path / "more-bindings.yaml"
    path.write_text(yaml.safe_dump(content, sort_keys=False))
    return path


@pytest.mark.parametrize(
    ("content", "where", "problem"),
    [
        ({"pinstor": {"version": {}}}, "pinstor", "did you mean 'pinstore'"),
        ({"cache": {"get": {}}}, "cache", "bindings are for Thrift fakes"),
        ({"pinstore": ["getPin"]}, "pinstore", "a mapping of method -> binding"),
        (
            {"pinstore": {"getPin": {"sql": {"store": "db", "query": "SELECT 1"}}}},
            "pinstore.getPin",
            "already bound in",
        ),
    ],
    ids=["unknown-fake", "not-thrift", "not-a-mapping", "bound-twice"],
)
def test_binding_file_errors_name_the_binding_file(
    tmp_path: Path, content: object, where: str, problem: str
) -> None:
    extra = _bindings_file(tmp_path, content)
    path = edit(demo_copy(tmp_path), lambda d: d["bindings"].append(str(extra)))
    with pytest.raises(ConfigError) as info:
        full_check(path)
    assert str(info.value).startswith(f"{extra}: {where}"), info.value
    assert problem in str(info.value)


def test_a_missing_binding_file_is_named_with_its_key(tmp_path: Path) -> None:
    path = edit(demo_copy(tmp_path), lambda d: d["bindings"].append(str(tmp_path / "gone.yaml")))
    with pytest.raises(
        ConfigError, match=r"simdb\.yaml: bindings\.1: binding file .*gone\.yaml does not exist"
    ):
        full_check(path)


def test_a_bad_binding_from_a_file_is_reported_at_that_file(tmp_path: Path) -> None:
    """Errors inside a binding name the binding file, not the stack file that includes it."""
    bad = {"pinstore": {"getBoardPins": {"sql": {"store": "db", "query": "SELECT nope FROM pins"}}}}
    extra = _bindings_file(tmp_path, bad)
    path = edit(demo_copy(tmp_path), lambda d: d["bindings"].append(str(extra)))
    from simdb.stack.build import check

    with pytest.raises(ConfigError) as info:
        check(load_stack(path))
    assert str(info.value).startswith(f"{extra}: pinstore.getBoardPins"), info.value
    assert "nope" in str(info.value)


def test_a_binding_the_snapshot_also_stubs_is_refused_by_check(tmp_path: Path) -> None:
    """Stubs answer before bindings: serving the snapshot's stubs of a bound method would hide the data."""
    from simdb.stack.build import check

    path = edit(demo_copy(tmp_path), lambda d: d["fakes"]["ranker"].update(snapshot_stubs="all"))
    with pytest.raises(ConfigError) as info:
        check(load_stack(path))
    text = str(info.value)
    assert "bindings.yaml: ranker.rank" in text and "stubs answer before bindings" in text
    assert "snapshot_stubs: unbound" in text
    proc = subprocess.run(
        [sys.executable, "-m", "simdb", "check", "-f", str(path)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2 and "ranker.rank" in proc.stdout
