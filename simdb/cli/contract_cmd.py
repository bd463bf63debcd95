"""``simdb contract``: provider verification of a live Thrift service against its IDL."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

app = typer.Typer(help="Contract tests from the IDL: verify a live service's answers.", no_args_is_help=True)


def _target(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise typer.BadParameter(f"expected HOST:PORT, got {text!r}", param_hint="--target")
    return host, int(port)


@app.command()
def verify(
    idl: Path = typer.Option(..., "--idl", help="The service's IDL file."),
    service: str = typer.Option(..., "--service", help="Service name in the IDL (included.Service works)."),
    target: str = typer.Option(..., "--target", help="HOST:PORT of the service under test."),
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

    host, port = _target(target)
    if protocol not in ("binary", "compact"):
        raise typer.BadParameter("binary or compact", param_hint="--protocol")
    if transport not in ("buffered", "framed"):
        raise typer.BadParameter("buffered or framed", param_hint="--transport")
    replay = None
    if args_json is not None:
        if len(method) != 1:
            raise typer.BadParameter(
                "--args replays one call: give exactly one --method", param_hint="--args"
            )
        try:
            replay = {method[0]: json.loads(args_json)}
        except json.JSONDecodeError as exc:
            raise typer.BadParameter(f"not JSON: {exc}", param_hint="--args") from None
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
        for d in include_dir:
            prefix += ["--include-dir", str(d)]
        if protocol != "binary":
            prefix += ["--protocol", protocol]
        if transport != "buffered":
            prefix += ["--transport", transport]
        if multiplexed:
            prefix.append("--multiplexed")
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
