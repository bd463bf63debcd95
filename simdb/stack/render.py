"""Configuration for the services under test, rendered from a running stack's endpoints.

``simdb env`` writes ``SIMDB_<FAKE>_HOST``/``_PORT``/``_URL`` as dotenv, JSON, YAML or shell
exports; ``simdb config render`` fills a Jinja2 template with the stack and its endpoints.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from simdb.errors import ConfigError
from simdb.fake import Endpoint

FORMATS = ("dotenv", "json", "yaml", "shell")


def env_key(name: str) -> str:
    """``SIMDB_<NAME>`` with the fake name upper-cased (other characters become ``_``)."""
    return "SIMDB_" + "".join(c if c.isalnum() else "_" for c in name).upper()


def env_vars(endpoints: Mapping[str, Endpoint]) -> dict[str, str]:
    """``SIMDB_<FAKE>_HOST``, ``_PORT``, ``_URL`` (and ``_ADMIN_URL``) for every fake, sorted."""
    out: dict[str, str] = {}
    for name, ep in sorted(endpoints.items()):
        key = env_key(name)
        out[f"{key}_HOST"] = ep.host
        out[f"{key}_PORT"] = str(ep.port)
        out[f"{key}_URL"] = ep.url()
        if ep.admin_port:
            out[f"{key}_ADMIN_URL"] = f"http://{ep.host}:{ep.admin_port}/_simdb/"
    return out


def render_env(endpoints: Mapping[str, Endpoint], fmt: str = "dotenv") -> str:
    """The environment in one of :data:`FORMATS`."""
    values = env_vars(endpoints)
    if fmt == "dotenv":
        return "".join(f"{k}={v}\n" for k, v in values.items())
    if fmt == "shell":
        return "".join(f"export {k}={shlex.quote(v)}\n" for k, v in values.items())
    if fmt == "json":
        return json.dumps(values, indent=2) + "\n"
    if fmt == "yaml":
        return yaml.safe_dump(values, sort_keys=False)
    raise ConfigError(f"--format: must be one of {', '.join(FORMATS)}, not {fmt!r}")


def endpoint_context(name: str, ep: Endpoint) -> dict[str, Any]:
    """What a template sees of one endpoint."""
    extra = dict(ep.extra)
    return {
        "name": name,
        "kind": ep.kind,
        "host": ep.host,
        "port": ep.port,
        "address": ep.address,
        "url": ep.url(),
        "admin_url": f"http://{ep.host}:{ep.admin_port}/_simdb/" if ep.admin_port else None,
        **{k: v for k, v in extra.items() if k not in ("name", "host", "port", "url")},
    }


def _ep(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping) or "host" not in value or "port" not in value:
        raise ConfigError(f"template filter: expected an endpoint (endpoints.NAME), got {value!r}")
    return dict(value)


def _hostport(value: Any) -> str:
    ep = _ep(value)
    return f"{ep['host']}:{ep['port']}"


def _url(value: Any) -> str:
    return str(_ep(value)["url"])


def _jdbc(value: Any) -> str:
    ep = _ep(value)
    if ep["kind"] != "mysql":
        raise ConfigError(f"template filter jdbc: {ep['name']} is a {ep['kind']} fake, not mysql")
    return f"jdbc:mysql://{ep['host']}:{ep['port']}/{ep.get('database', '')}"


def _redis_url(value: Any) -> str:
    ep = _ep(value)
    if ep["kind"] != "redis":
        raise ConfigError(f"template filter redis_url: {ep['name']} is a {ep['kind']} fake, not redis")
    return str(ep["url"])


def _serverset(value: Any) -> str:
    return _hostport(value) + "\n"


FILTERS = {
    "hostport": _hostport,
    "url": _url,
    "jdbc": _jdbc,
    "redis_url": _redis_url,
    "mysql_url": _url,
    "thrift_url": _url,
    "serverset": _serverset,
}


def render_template(
    template: Path, stack: Mapping[str, Any], endpoints: Mapping[str, Endpoint], name: str
) -> str:
    """Render a Jinja2 template with ``stack`` (the stack file), ``endpoints`` and ``env`` in context.

    Undefined names are errors (StrictUndefined), never silently empty.
    """
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template.parent)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters.update(FILTERS)
    context = {
        "stack": dict(stack),
        "name": name,
        "endpoints": {n: endpoint_context(n, ep) for n, ep in endpoints.items()},
        "env": env_vars(endpoints),
    }
    try:
        return env.get_template(template.name).render(context)
    except jinja2.TemplateNotFound as exc:
        raise ConfigError(f"{template}: template not found") from exc
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(
            f"{exc.filename or template}:{exc.lineno}: template syntax error: {exc.message}"
        ) from exc
    except jinja2.UndefinedError as exc:
        raise ConfigError(f"{template}: {exc.message}") from exc
