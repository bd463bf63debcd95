"""``simdb contract``: provider verification of a live Thrift service, and diffs of two services."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

app = typer.Typer(
    help="Contract tests from the IDL: verify a live service's answers, diff two services.",
    no_args_is_help=True,
)


def _target(text: str, hint: str = "--target") -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise typer.BadParameter(f"expected HOST:PORT, got {text!r}", param_hint=hint)
    return host, int(port)


def _stack_fake(name: str, file: Path | None) -> dict[str, Any]:
    """Where a running stack's Thrift fake ``name`` is and how to talk to it (``--target NAME``)."""
    from simdb.errors import SimdbError
    from simdb.stack.load import load_stack
    from simdb.stack.model import ThriftSpec
    from simdb.stack.state import read_state, stack_dir

    try:
        stack = load_stack(file)
    except SimdbError as exc:
        raise typer.BadParameter(str(exc), param_hint="--file") from None
    spec = stack.spec.fakes.get(name)
    if not isinstance(spec, ThriftSpec):
        thrift = ", ".join(n for n, f in stack.spec.fakes.items() if isinstance(f, ThriftSpec)) or "none"
        raise typer.BadParameter(
            f"{name!r} is not a Thrift fake of stack {stack.name} (its Thrift fakes: {thrift});"
            " or give HOST:PORT",
            param_hint="--target",
        )
    state = read_state(stack_dir(stack.name))
    if state is None or name not in state.endpoints:
        raise typer.BadParameter(
            f"stack {stack.name} is not running (start it with: simdb up -f {stack.path} --detach)",
            param_hint="--target",
        )
    ep = state.endpoints[name]
    return {
        "host": ep.host,
        "port": ep.port,
        "idl": spec.idl,
        "include_dirs": list(spec.include_dirs),
        "services": spec.services,
        "protocol": spec.protocol,
        "transport": spec.transport,
        "multiplexed": len(spec.services) > 1,
    }


def _check_wire(protocol: str, transport: str) -> None:
    if protocol not in ("binary", "compact"):
        raise typer.BadParameter("binary or compact", param_hint="--protocol")
    if transport not in ("buffered", "framed"):
        raise typer.BadParameter("buffered or framed", param_hint="--transport")


def _replay(method: list[str], args_json: str | None) -> dict[str, Any] | None:
    """``{method: arguments}`` of ``--method M --args JSON`` (one call replayed), else None."""
    if args_json is None:
        return None
    if len(method) != 1:
        raise typer.BadParameter("replays one call: give exactly one --method", param_hint="--args")
    try:
        data = json.loads(args_json)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"not JSON: {exc}", param_hint="--args") from None
    if not isinstance(data, dict):
        raise typer.BadParameter("the arguments as a JSON object by name", param_hint="--args")
    return {method[0]: data}


def _wire_flags(include_dir: list[Path], protocol: str, transport: str, multiplexed: bool) -> list[str]:
    """The options of a reproduction command that say how to reach the service."""
    flags: list[str] = []
    for d in include_dir:
        flags += ["--include-dir", str(d)]
    if protocol != "binary":
        flags += ["--protocol", protocol]
    if transport != "buffered":
        flags += ["--transport", transport]
    if multiplexed:
        flags.append("--multiplexed")
    return flags


@app.command()
def verify(
    idl: Path | None = typer.Option(
        None, "--idl", help="The service's IDL file (a stack fake's by default)."
    ),
    service: str | None = typer.Option(
        None, "--service", help="Service name in the IDL (included.Service works)."
    ),
    target: str = typer.Option(
        ..., "--target", help="HOST:PORT of the service under test, or a Thrift fake of the running stack."
    ),
    file: Path | None = typer.Option(
        None, "--file", "-f", help="Stack file for --target NAME [default: ./simdb.yaml]."
    ),
    include_dir: list[Path] = typer.Option([], "--include-dir", help="IDL include directory (repeatable)."),
    protocol: str = typer.Option("binary", "--protocol", help="binary or compact."),
    transport: str = typer.Option("buffered", "--transport", help="buffered or framed."),
    multiplexed: bool = typer.Option(False, "--multiplexed", help="Prefix calls with the service name."),
    examples: int = typer.Option(
        100, "--examples", min=1, help="Generated calls per method (before shrinking)."
    ),
    seed: int | None = typer.Option(
        None, "--seed", help="Seed of the generator (default: random, reported)."
    ),
    properties: Path | None = typer.Option(None, "--properties", help="Python file of @prop properties."),
    method: list[str] = typer.Option([], "--method", help="Only this method (repeatable)."),
    args_json: str | None = typer.Option(
        None, "--args", help="With one --method: replay just this call (arguments as JSON)."
    ),
    allow_app_error: list[str] = typer.Option(
        [], "--allow-app-error", help="Method that may answer with a TApplicationException (repeatable)."
    ),
    max_size: int = typer.Option(4, "--max-size", min=0, help="Most elements of a generated container."),
    max_depth: int = typer.Option(3, "--max-depth", min=0, help="Deepest nesting of generated values."),
    timeout: float = typer.Option(5.0, "--timeout", help="Seconds to wait for each answer."),
    junit: Path | None = typer.Option(None, "--junit", help="Also write a JUnit XML report here."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the JSON report here."),
) -> None:
    """Call every method of a live service with generated arguments and check each answer against the IDL.

    Exit 0 when every method passed, 1 when any failed, 2 on bad input.

    Example: simdb contract verify --idl thrift/homefeed/pinstore.thrift --service PinStore
    --target 127.0.0.1:9090 --examples 200 --properties props.py --junit contract.xml
    """
    from rich.console import Console

    from simdb.contract.props import load_properties
    from simdb.contract.report import print_report, write_json, write_junit
    from simdb.contract.strategies import Options
    from simdb.contract.verify import Target, VerifySettings
    from simdb.contract.verify import verify as run_verify
    from simdb.errors import SimdbError
    from simdb.thrift.idl import load_idl
    from simdb.thrift.model import service_model

    if ":" in target:
        host, port = _target(target)
    else:  # a fake of the running stack: its IDL and wire settings are the defaults
        fake = _stack_fake(target, file)
        host, port = fake["host"], fake["port"]
        idl = idl or fake["idl"]
        include_dir = include_dir or fake["include_dirs"]
        service = service or fake["services"][0]
        protocol, transport = fake["protocol"], fake["transport"]
        multiplexed = multiplexed or fake["multiplexed"]
    if idl is None or service is None:
        raise typer.BadParameter("give --idl and --service with a HOST:PORT target", param_hint="--idl")
    _check_wire(protocol, transport)
    replay = _replay(method, args_json)
    try:
        model = service_model(load_idl(idl, include_dir), service)
        props = tuple(load_properties(properties)) if properties is not None else ()
        settings = VerifySettings(
            examples=examples,
            seed=seed,
            options=Options(max_size=max_size, max_depth=max_depth),
            allow_app_errors=frozenset(allow_app_error),
            methods=() if replay else tuple(method),
            properties=props,
            replay=replay,
        )
        prefix = ["simdb", "contract", "verify", "--idl", str(idl), "--service", service, "--target", target]
        prefix += _wire_flags(include_dir, protocol, transport, multiplexed)
        if ":" not in target and file is not None:
            prefix += ["--file", str(file)]
        if properties is not None:
            prefix += ["--properties", str(properties)]
        for m in allow_app_error:
            prefix += ["--allow-app-error", m]
        report = run_verify(
            model,
            Target(host, port, protocol, transport, multiplexed, timeout),  # type: ignore[arg-type]
            settings,
            prefix,
        )
    except SimdbError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    print_report(report, Console(soft_wrap=True, width=max(100, Console().width)))
    if json_out is not None:
        write_json(report, json_out)
    if junit is not None:
        write_junit(report, junit)
    sys.stdout.flush()
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def diff(
    idl: Path = typer.Option(..., "--idl", help="The service's IDL file."),
    service: str = typer.Option(..., "--service", help="Service name in the IDL."),
    a: str = typer.Option(..., "--a", help="HOST:PORT of one side (e.g. the fake)."),
    b: str | None = typer.Option(
        None, "--b", help="HOST:PORT of the other side (default: the replies in --from-recordings)."
    ),
    include_dir: list[Path] = typer.Option([], "--include-dir", help="IDL include directory (repeatable)."),
    protocol: str = typer.Option("binary", "--protocol", help="binary or compact (both sides)."),
    transport: str = typer.Option("buffered", "--transport", help="buffered or framed (both sides)."),
    multiplexed: bool = typer.Option(False, "--multiplexed", help="Prefix calls with the service name."),
    examples: int = typer.Option(100, "--examples", min=1, help="Generated calls per method."),
    seed: int | None = typer.Option(None, "--seed", help="Generator seed (default: random, reported)."),
    from_recordings: Path | None = typer.Option(
        None, "--from-recordings", help="Replay recorded calls (recordings.jsonl or a snapshot directory)."
    ),
    ignore: list[str] = typer.Option(
        [], "--ignore", help="Answer path glob to leave out, e.g. 'return.latencyMicros' (repeatable)."
    ),
    float_tolerance: float = typer.Option(
        1e-9, "--float-tolerance", help="Relative/absolute double tolerance."
    ),
    method: list[str] = typer.Option([], "--method", help="Only this method (repeatable)."),
    args_json: str | None = typer.Option(
        None, "--args", help="With one --method: send just this call (JSON)."
    ),
    max_size: int = typer.Option(4, "--max-size", min=0, help="Most elements of a generated container."),
    max_depth: int = typer.Option(3, "--max-depth", min=0, help="Deepest nesting of generated values."),
    timeout: float = typer.Option(5.0, "--timeout", help="Seconds to wait for each answer."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the JSON report here."),
) -> None:
    """Send the same calls to two targets and report every difference in their answers.

    Exit 0 when both answered alike, 1 on a difference, 2 on bad input.

    Example: simdb contract diff --idl thrift/homefeed/ranker.thrift --service Ranker
    --a 127.0.0.1:9090 --b ranker.staging:9090 --ignore 'return.latencyMicros'
    """
    from rich.console import Console

    from simdb.contract.diff import DiffSettings, Recorded, load_recordings
    from simdb.contract.diff import diff as run_diff
    from simdb.contract.report import print_diff
    from simdb.contract.strategies import Options
    from simdb.contract.verify import Target
    from simdb.errors import SimdbError
    from simdb.thrift.idl import load_idl
    from simdb.thrift.model import service_model

    host_a, port_a = _target(a, "--a")
    host_b, port_b = _target(b, "--b") if b is not None else ("", 0)
    if b is None and from_recordings is None:
        raise typer.BadParameter(
            "give --b, or --from-recordings to compare with the replies", param_hint="--b"
        )
    if b is None and args_json is not None:
        raise typer.BadParameter(
            "a single call is compared between two targets: give --b", param_hint="--args"
        )
    _check_wire(protocol, transport)
    replay = _replay(method, args_json)
    try:
        model = service_model(load_idl(idl, include_dir), service)
        recordings = None
        if replay is not None:
            recordings = tuple(Recorded(m, data) for m, data in replay.items())
        elif from_recordings is not None:
            recordings = load_recordings(from_recordings, model)
        settings = DiffSettings(
            examples=examples,
            seed=seed,
            options=Options(max_size=max_size, max_depth=max_depth),
            methods=tuple(method),
            ignore=tuple(ignore),
            float_tolerance=float_tolerance,
            recordings=recordings,
        )
        prefix = ["simdb", "contract", "diff", "--idl", str(idl), "--service", service, "--a", a]
        prefix += ["--b", b] if b is not None else ["--from-recordings", str(from_recordings)]
        prefix += _wire_flags(include_dir, protocol, transport, multiplexed)
        for pattern in ignore:
            prefix += ["--ignore", pattern]
        if float_tolerance != 1e-9:
            prefix += ["--float-tolerance", repr(float_tolerance)]
        wire_a = Target(host_a, port_a, protocol, transport, multiplexed, timeout)  # type: ignore[arg-type]
        wire_b = (
            Target(host_b, port_b, protocol, transport, multiplexed, timeout)  # type: ignore[arg-type]
            if b is not None
            else None
        )
        report = run_diff(model, wire_a, wire_b, settings, prefix)
    except SimdbError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    print_diff(report, Console(soft_wrap=True, width=max(100, Console().width)))
    if json_out is not None:
        json_out.write_text(
            json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    sys.stdout.flush()
    raise typer.Exit(0 if report.same else 1)
