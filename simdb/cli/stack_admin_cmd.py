"""``simdb config render``, ``simdb stubs add/list/rm``, ``simdb faults set/clear`` on a running stack.

Stubs go through each Thrift fake's admin API (``docs/thrift-admin.md``); faults through any
fake's ``/_simdb/faults`` (``docs/faults.md``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
import yaml

from simdb.cli.stack_cmd import FILE_OPTION, _running, console, fail
from simdb.errors import ConfigError, SimdbError

config_app = typer.Typer(help="Configuration for the services under test, from the running stack.")
stubs_app = typer.Typer(
    help="Stubs of a running stack's Thrift fakes.\n\nExamples:\n\n  simdb stubs list pinstore"
)
faults_app = typer.Typer(
    help="Fault rules of a running stack's fakes (Thrift, Redis, MySQL; docs/faults.md).\n\n"
    "Examples:\n\n  simdb faults clear ranker"
)


def _json_or_file(text: str, what: str) -> Any:
    """Inline JSON, or a JSON/YAML file."""
    path = Path(text)
    try:
        if path.is_file():
            return yaml.safe_load(path.read_text(encoding="utf-8"))
        return json.loads(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise ConfigError(f"{what}: neither a readable file nor valid JSON: {exc}") from exc


@config_app.command("render")
def render(
    template: Path = typer.Argument(..., help="A Jinja2 template (stack, endpoints, env in context)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write here [default: stdout]."),
    file: Path | None = FILE_OPTION,
    view: str = typer.Option(
        "", "--view", help="A Docker stack's endpoints from the 'host' or inside its 'network'."
    ),
) -> None:
    """Render a template with the running stack's endpoints (filters: hostport, url, jdbc, redis_url).

    Examples:

      simdb config render service.yaml.j2 -o service.yaml

      # in the template: {{ endpoints.db | jdbc }}  {{ endpoints.cache.port }}
    """
    from simdb.stack.render import render_template

    if view:
        from simdb.cli.stack_cmd import _load, docker_view

        stack = _load(file)
        endpoints = docker_view(stack, view)
    else:
        stack, state = _running(file)
        endpoints = state.endpoints
    try:
        text = render_template(template, stack.spec.model_dump(mode="json"), endpoints, stack.name)
    except SimdbError as exc:
        raise fail(exc, 2) from exc
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"wrote {output}")


def _any_fake(file: Path | None, fake: str) -> tuple[str, Any]:
    _, state = _running(file)
    ep = state.endpoints.get(fake)
    if ep is None:
        raise fail(f"no fake {fake!r} in stack {state.stack} (fakes: {', '.join(state.endpoints)})", 2)
    return fake, ep


def _thrift_fake(file: Path | None, fake: str) -> tuple[str, Any]:
    _, state = _running(file)
    ep = state.endpoints.get(fake)
    if ep is None:
        raise fail(f"no fake {fake!r} in stack {state.stack} (fakes: {', '.join(state.endpoints)})", 2)
    if ep.kind != "thrift":
        raise fail(f"fake {fake!r} is a {ep.kind} fake: stubs and faults are for Thrift fakes", 2)
    return fake, ep


def _call(fake: str, ep: Any, method: str, path: str, body: Any = None) -> Any:
    from simdb.stack.control import admin_call

    try:
        return admin_call(fake, ep, method, path, body)
    except SimdbError as exc:
        raise fail(exc) from exc


def _query(service: str | None) -> str:
    from urllib.parse import quote

    return f"?service={quote(service)}" if service else ""


SERVICE_OPTION = typer.Option(None, "--service", help="Service of a multiplexed fake.")


@stubs_app.command("add")
def stubs_add(
    fake: str = typer.Argument(..., help="Thrift fake name."),
    stub: str = typer.Argument(..., help="The stub as JSON, or a JSON/YAML file (one stub or a list)."),
    service: str | None = SERVICE_OPTION,
    file: Path | None = FILE_OPTION,
) -> None:
    """Add stubs to a running Thrift fake.

    Examples:

      simdb stubs add pinstore '{"method": "getPin", "args": {"pinId": 1}, "reply": {"return": {"id": 1}}}'
    """
    name, ep = _thrift_fake(file, fake)
    try:
        data = _json_or_file(stub, "stub")
    except SimdbError as exc:
        raise fail(exc, 2) from exc
    for one in data if isinstance(data, list) else [data]:
        answer = _call(name, ep, "POST", "/stubs" + _query(service), one)
        console.print(f"added stub {answer.get('id')} to {name} ({answer.get('service')})")


@stubs_app.command("list")
def stubs_list(
    fake: str = typer.Argument(..., help="Thrift fake name."),
    service: str | None = SERVICE_OPTION,
    file: Path | None = FILE_OPTION,
) -> None:
    """The live stubs of a running Thrift fake, as JSON.

    Examples:

      simdb stubs list pinstore
    """
    name, ep = _thrift_fake(file, fake)
    typer.echo(json.dumps(_call(name, ep, "GET", "/stubs" + _query(service)), indent=1, sort_keys=True))


@stubs_app.command("rm")
def stubs_rm(
    fake: str = typer.Argument(..., help="Thrift fake name."),
    stub_id: str = typer.Argument(..., help="Stub id (from stubs list)."),
    service: str | None = SERVICE_OPTION,
    file: Path | None = FILE_OPTION,
) -> None:
    """Remove one stub from a running Thrift fake.

    Examples:

      simdb stubs rm pinstore stub-3
    """
    from urllib.parse import quote

    name, ep = _thrift_fake(file, fake)
    _call(name, ep, "DELETE", f"/stubs/{quote(stub_id, safe='')}" + _query(service))
    console.print(f"removed stub {stub_id} from {name}")


@faults_app.command("set")
def faults_set(
    fake: str = typer.Argument(..., help="Fake name (Thrift, Redis or MySQL)."),
    rules: str = typer.Argument(
        ..., help='Rules as JSON or a JSON/YAML file: {"getPin": {"p50_ms": 5}} or [{"match": ...}].'
    ),
    seed: int | None = typer.Option(None, help="Seed of the fault streams."),
    service: str | None = SERVICE_OPTION,
    file: Path | None = FILE_OPTION,
) -> None:
    """Replace the fault rules of a running fake.

    Thrift rules are keyed by method; Redis and MySQL rules are a list, each with a ``match``.

    Examples:

      simdb faults set ranker '{"rank": {"p50_ms": 20, "p99_ms": 200}}'

      simdb faults set cache '[{"match": {"command": "get"}, "error_rate": 0.1, "error": "OOM"}]'

      simdb faults set db '[{"match": {"kind": "update"}, "error_rate": 0.05, "error": 1213}]'
    """
    name, ep = _any_fake(file, fake)
    try:
        data = _json_or_file(rules, "rules")
    except SimdbError as exc:
        raise fail(exc, 2) from exc
    if isinstance(data, dict) and set(data) == {"faults"}:
        data = data["faults"]
    if ep.kind == "thrift":
        if not isinstance(data, dict):
            raise fail("rules: expected a mapping of method -> rule", 2)
        body: dict[str, Any] = data if "rules" in data else {"rules": data}
    else:
        if service:
            raise fail(f"--service is for multiplexed Thrift fakes; {name} is a {ep.kind} fake", 2)
        if isinstance(data, list):
            body = {"rules": data}
        elif isinstance(data, dict) and "rules" in data:
            body = data
        else:
            raise fail("rules: expected a list of rules, each with 'match' (or {seed, rules})", 2)
    if seed is not None:
        body["seed"] = seed
    answer = _call(name, ep, "PUT", "/faults" + _query(service), body)
    shown = answer.get("rules", {})
    count = len(shown)
    what = ", ".join(sorted(shown)) if isinstance(shown, dict) else f"{count} rule{'s' if count != 1 else ''}"
    console.print(f"{name}: fault rules for {what or 'no method'}")


@faults_app.command("clear")
def faults_clear(
    fake: str = typer.Argument(..., help="Fake name (Thrift, Redis or MySQL)."),
    service: str | None = SERVICE_OPTION,
    file: Path | None = FILE_OPTION,
) -> None:
    """Remove every fault rule of a running fake.

    Examples:

      simdb faults clear ranker
    """
    name, ep = _any_fake(file, fake)
    _call(name, ep, "DELETE", "/faults" + _query(service))
    console.print(f"{name}: fault rules cleared")
