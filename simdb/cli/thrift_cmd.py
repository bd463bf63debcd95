"""`simdb thrift ...` commands."""

from __future__ import annotations

import dataclasses
import gc
import logging
import sys
from pathlib import Path
from typing import Literal

import typer

from simdb.cli.admin_options import ADMIN_HOST, ADMIN_TOKEN, SNAPSHOT_ROOT
from simdb.cli.lifetime import StopSignals, clear_ready, mark_ready
from simdb.errors import SimdbError
from simdb.fake import Endpoint

app = typer.Typer(
    help=(
        "Thrift fakes served from IDL, and a recording proxy.\n\n"
        "Examples:\n\n"
        "  simdb thrift serve thrift/homefeed/pinstore.thrift --service PinStore --port 0\n\n"
        "  simdb thrift record --upstream pinstore-prod:9090 --listen 9091 "
        "--idl thrift/homefeed/pinstore.thrift --service PinStore --out seeds/mine"
    ),
    no_args_is_help=True,
)

SERVE_HELP = (
    "Serve a Thrift service straight from its IDL.\n\n"
    "Answers each call from a matching stub, else with a value generated from the return type "
    "(deterministic for --seed). Prints the endpoint once it accepts connections; --port 0 picks a "
    "free port. The admin API (stubs, faults, journal, metrics) is at http://HOST:ADMIN/_simdb/.\n\n"
    "Examples:\n\n"
    "  simdb thrift serve thrift/homefeed/pinstore.thrift --service PinStore --port 9090\n\n"
    "  simdb thrift serve thrift/homefeed/ranker.thrift --service Ranker --port 0"
    " --protocol compact --transport framed\n\n"
    "  simdb thrift serve thrift/homefeed/pinstore.thrift --service PinStore"
    " --stubs examples/pins.yaml --strict --watch\n\n"
    "  simdb thrift serve all.thrift --service PinStore --service UserGraph"
    " --multiplexed --admin-port 9190\n\n"
    "  simdb thrift serve thrift/homefeed/pinstore.thrift --service PinStore --bindings pins.yaml"
    " --store db=mysql://root@127.0.0.1:3306/homefeed\n\n"
)


def _mapping(value: str | None, option: str) -> dict[str, object]:
    """An option given as inline JSON (``{...}``) or as a YAML/JSON file: a mapping."""
    import json

    import yaml

    if value is None:
        return {}
    try:
        if value.lstrip().startswith("{"):
            data = json.loads(value)
        else:
            data = yaml.safe_load(Path(value).read_text(encoding="utf-8"))
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {value}: {exc.strerror or exc}", param_hint=option) from None
    except (ValueError, yaml.YAMLError) as exc:
        raise typer.BadParameter(f"not valid JSON/YAML: {exc}", param_hint=option) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise typer.BadParameter(f"expected a mapping, got {type(data).__name__}", param_hint=option)
    return data


def _stores(items: list[str]) -> dict[str, Endpoint]:
    """``--store NAME=URL`` options as endpoints by name."""
    out: dict[str, Endpoint] = {}
    for item in items:
        name, sep, url = item.partition("=")
        if not sep or not name:
            raise typer.BadParameter(f"{item!r}: use NAME=URL", param_hint="--store")
        try:
            out[name] = Endpoint.from_url(url)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--store") from None
    return out


def _parse_size(text: str, option: str) -> int:
    units = {"k": 1024, "kb": 1024, "m": 1024**2, "mb": 1024**2, "g": 1024**3, "gb": 1024**3}
    raw = text.strip().lower()
    for suffix in sorted(units, key=len, reverse=True):
        if raw.endswith(suffix):
            number, mult = raw[: -len(suffix)], units[suffix]
            break
    else:
        number, mult = raw, 1
    try:
        value = int(float(number) * mult)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a size (e.g. 16777216, 16M, 512k)", param_hint=option
        ) from None
    if value < 1:
        raise typer.BadParameter(f"{text!r} must be positive", param_hint=option)
    return value


@app.command("serve", help=SERVE_HELP, no_args_is_help=True)
def serve(
    idl: Path = typer.Argument(..., help="The .thrift file that declares the service(s)."),
    service: list[str] = typer.Option(..., "--service", "-s", help="Service to serve; repeatable."),
    multiplexed: bool = typer.Option(False, "--multiplexed", help="Serve several services on one port."),
    port: int = typer.Option(9090, "--port", "-p", help="Port to listen on; 0 picks a free one."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind."),
    protocol: str = typer.Option("binary", "--protocol", help="binary or compact."),
    transport: str = typer.Option("buffered", "--transport", help="buffered or framed."),
    include_dir: list[Path] = typer.Option([], "--include-dir", "-I", help="Where to look for includes."),
    stubs: list[Path] = typer.Option([], "--stubs", help="Stub file (YAML or JSON); repeatable."),
    snapshot: Path | None = typer.Option(
        None, "--snapshot", help="Snapshot whose thrift/NAME/ part (stubs, recordings) to load."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed for generated values and faults."),
    strict: bool = typer.Option(False, "--strict", help="No stub matched: TApplicationException."),
    admin_port: int = typer.Option(0, "--admin-port", help="Port of the admin HTTP API; 0 picks a free one."),
    admin_host: str = ADMIN_HOST,
    admin_token: str | None = ADMIN_TOKEN,
    snapshot_root: list[Path] = SNAPSHOT_ROOT,
    journal_size: int = typer.Option(1000, "--journal-size", help="Calls kept in the request journal."),
    max_frame_size: str = typer.Option("16M", "--max-frame-size", help="Largest message (e.g. 16M)."),
    max_string_size: str = typer.Option("8M", "--max-string-size", help="Largest string or binary value."),
    max_container_length: int = typer.Option(
        1_000_000, "--max-container-length", help="Most items in one list, set or map."
    ),
    read_timeout: float = typer.Option(10.0, "--read-timeout", help="Seconds a half-sent message may stall."),
    watch: bool = typer.Option(False, "--watch", help="Reload the IDL and stub files when they change."),
    name: str = typer.Option("", "--name", help="Fake name (snapshot part thrift/NAME/)."),
    bindings: str | None = typer.Option(
        None, "--bindings", help="Data-backed methods: a YAML/JSON file (method -> binding) or inline JSON."
    ),
    store: list[str] = typer.Option(
        [], "--store", help="A store the bindings use, NAME=URL (redis://..., mysql://...); repeatable."
    ),
    faults: str | None = typer.Option(
        None, "--faults", help="Fault rules by method: a YAML/JSON file or inline JSON."
    ),
    snapshot_stubs: str = typer.Option(
        "all", "--snapshot-stubs", help="Snapshot stubs to serve: all, unbound (not bound methods), none."
    ),
    log_level: str = typer.Option("info", "--log-level", help="debug, info, warning or error."),
) -> None:
    """Map the flags onto a ThriftConfig, start a ThriftFake, print its endpoint, serve until stopped."""
    from simdb.admin_security import AdminPolicy
    from simdb.thrift.fake import ThriftConfig, ThriftFake
    from simdb.thrift.scan import Limits

    logging.basicConfig(
        level=log_level.upper(), stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if protocol not in ("binary", "compact"):
        raise typer.BadParameter(f"{protocol!r}: use binary or compact", param_hint="--protocol")
    if transport not in ("buffered", "framed"):
        raise typer.BadParameter(f"{transport!r}: use buffered or framed", param_hint="--transport")
    if snapshot_stubs not in ("all", "unbound", "none"):
        raise typer.BadParameter(
            f"{snapshot_stubs!r}: use all, unbound or none", param_hint="--snapshot-stubs"
        )
    stub_mode: Literal["all", "unbound", "none"] = (
        "all" if snapshot_stubs == "all" else "unbound" if snapshot_stubs == "unbound" else "none"
    )
    raw_bindings = _mapping(bindings, "--bindings")
    fault_rules = _mapping(faults, "--faults")
    stores = _stores(store)
    proto: Literal["binary", "compact"] = "binary" if protocol == "binary" else "compact"
    trans: Literal["buffered", "framed"] = "buffered" if transport == "buffered" else "framed"
    limits = Limits(
        max_frame_size=_parse_size(max_frame_size, "--max-frame-size"),
        max_string_size=_parse_size(max_string_size, "--max-string-size"),
        max_container_length=max_container_length,
        read_timeout_s=read_timeout,
    )
    try:
        config = ThriftConfig(
            idl=idl,
            services=tuple(service),
            name=name,
            multiplexed=multiplexed,
            host=host,
            port=port,
            protocol=proto,
            transport=trans,
            include_dirs=tuple(include_dir),
            stubs=tuple(stubs),
            seed=seed,
            strict=strict,
            admin_port=admin_port,
            admin_host=admin_host,
            admin_policy=AdminPolicy.from_env(admin_token, tuple(snapshot_root)),
            journal_size=journal_size,
            limits=limits,
            watch=watch,
            faults=fault_rules,
            snapshot_stubs=stub_mode,
        )
        if raw_bindings:
            from simdb.thrift.databind import check_bindings, parse_bindings

            parsed = parse_bindings(raw_bindings, "--bindings")
            config = dataclasses.replace(config, bindings=parsed)
            check_bindings(parsed, config, {n: e.kind for n, e in stores.items()}, "--bindings")
        # Loading thousands of stubs allocates a million long-lived objects: no cyclic garbage collection
        # meanwhile, then move them out of the collector's way for good (gc.freeze), so neither start-up nor
        # the first calls pay for scanning them.
        gc.disable()
        try:
            fake = ThriftFake(config)
            clear_ready()
            signals = StopSignals()  # before starting: a signal during start is kept
            endpoint = fake.start()
            try:
                if snapshot is not None:
                    fake.load(snapshot)
                if raw_bindings:
                    fake.bind_stack(stores)
            except SimdbError:
                fake.stop()
                raise
        finally:
            gc.freeze()
            gc.enable()
    except SimdbError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    mark_ready()
    served = ", ".join(fake.states)
    typer.echo(
        f"serving {served} from {idl} on {endpoint.url()} ({protocol}, {transport}"
        f"{', multiplexed' if multiplexed else ''})"
    )
    if endpoint.admin_port is not None:
        typer.echo(f"admin API on http://{config.admin_host}:{endpoint.admin_port}/_simdb/")
    if watch:
        typer.echo(f"watching {idl} and the stub files for changes")
    sys.stdout.flush()

    try:
        signals.wait(poll=1.0)
    finally:
        fake.stop()
        typer.echo("stopped", err=True)


@app.command()
def record(
    upstream: str = typer.Option(..., "--upstream", help="HOST:PORT of the real Thrift service."),
    listen: int = typer.Option(0, "--listen", help="Port the proxy listens on (0 picks a free one)."),
    idl: Path = typer.Option(..., "--idl", help="The service's IDL file."),
    service: str = typer.Option(..., "--service", help="Service name in the IDL."),
    out: Path = typer.Option(..., "--out", help="Snapshot directory to write (other parts are kept)."),
    part: str = typer.Option("", "--part", help="Snapshot part name (default: the service, lower case)."),
    include_dir: list[Path] = typer.Option([], "--include-dir", help="IDL include directory (repeatable)."),
    protocol: str = typer.Option("binary", "--protocol", help="binary or compact."),
    transport: str = typer.Option("buffered", "--transport", help="buffered or framed."),
    faults_out: Path | None = typer.Option(
        None, "--faults-out", help="Also write the recorded latency as a stub file `faults:` section."
    ),
    max_calls: int = typer.Option(0, "--max-calls", help="Stop after this many calls (0: until Ctrl-C)."),
) -> None:
    """Record calls to a real Thrift service through a proxy; the fake replays them.

    Example: simdb thrift record --upstream ranker.prod:9090 --listen 9190 --idl thrift/homefeed/ranker.thrift
    --service Ranker --out seeds/recorded --faults-out ranker-latency.yaml
    """
    from simdb.snapshot.record import (
        RecordConfig,
        RecordingProxy,
        dump_profile,
        parse_hostport,
        profile_of_part,
    )

    try:
        config = RecordConfig(
            upstream=parse_hostport(upstream),
            idl=idl,
            service=service,
            out=out,
            part=part,
            listen_port=listen,
            include_dirs=tuple(include_dir),
            protocol=protocol,
            transport=transport,
        )
        signals = StopSignals()  # before starting: a signal during start is kept
        proxy = RecordingProxy(config).start()
    except SimdbError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(
        f"recording {service} calls: clients connect to 127.0.0.1:{proxy.port}, forwarded to {upstream}"
    )
    sys.stdout.flush()
    signals.wait(poll=0.2, done=lambda: bool(max_calls) and proxy.calls >= max_calls)
    root = proxy.stop()
    typer.echo(f"wrote {proxy.calls} recordings to {root}/thrift/{config.part_name}/recordings.jsonl")
    if faults_out is not None:
        faults_out.write_text(dump_profile(profile_of_part(root, config.part_name)), encoding="utf-8")
        typer.echo(f"wrote the latency profile to {faults_out}")


@app.command("compat", no_args_is_help=True)
def compat(
    old: Path = typer.Argument(..., help="The old version of the IDL."),
    new: Path = typer.Argument(..., help="The new version of the IDL."),
    service: str | None = typer.Option(None, "--service", "-s", help="Compare only this service."),
    include_dir: list[Path] = typer.Option([], "--include-dir", "-I", help="Where to look for includes."),
    output: str = typer.Option("text", "--format", help="text or json."),
    side: str = typer.Option(
        "both", "--side", help="Which breaks set the exit code: clients (old clients), servers, both."
    ),
) -> None:
    """Report every change from OLD to NEW, breaking or safe for old clients and for old servers.

    Exit 1 when a change is breaking (for --side), 0 otherwise, 2 when an IDL does not load.
    The rules and their reasons: docs/thrift-compat.md.

    Example: simdb thrift compat main/pinstore.thrift thrift/homefeed/pinstore.thrift --service PinStore
    """
    from simdb.thrift.compat import compare_files

    if output not in ("text", "json"):
        raise typer.BadParameter(f"{output!r}: use text or json", param_hint="--format")
    if side not in ("clients", "servers", "both"):
        raise typer.BadParameter(f"{side!r}: use clients, servers or both", param_hint="--side")
    try:
        report = compare_files(old, new, service=service, include_dirs=tuple(include_dir))
    except SimdbError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(report.render_json() if output == "json" else report.render_text())
    gate: Literal["clients", "servers", "both"] = (
        "clients" if side == "clients" else "servers" if side == "servers" else "both"
    )
    raise typer.Exit(1 if report.breaking(gate) else 0)
