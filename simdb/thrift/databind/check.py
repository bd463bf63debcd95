"""Parse a fake's ``bindings:`` and check them against the IDL, the stack's stores and the SQL schema.

Everything :func:`check_bindings` reports is found before anything starts:
an unknown method, a store that is not in the stack or of the wrong kind, a
template or parameter variable that is no argument (or argument field), a
mapped field the return type lacks, and, given the MySQL fake's schema, an
unknown table or column or a column whose type cannot fill its field.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from thriftpy2.thrift import TType

from simdb.errors import ConfigError
from simdb.thrift.codec import from_json, norm_desc, type_name
from simdb.thrift.databind.mapping import norm_name, struct_field
from simdb.thrift.databind.model import (
    Compose,
    DataBinding,
    Lookup,
    NotFound,
    RedisRead,
    RedisWrite,
    Shape,
    SqlRead,
    SqlWrite,
    Write,
)
from simdb.thrift.databind.params import SqlTemplate, Template, is_path
from simdb.thrift.databind.schema import ColumnKind, Tables, fits, load_schema, query_columns
from simdb.thrift.model import FieldModel, MethodModel, ServiceModel, field_models

if TYPE_CHECKING:
    from simdb.thrift.fake import ThriftConfig

__all__ = ["check_bindings", "parse_bindings", "resolve_method"]

_MODELS = (DataBinding, SqlRead, SqlWrite, RedisRead, RedisWrite, Write, Lookup, Compose, NotFound, Shape)
_KEYS = sorted({a or n for m in _MODELS for n, f in m.model_fields.items() for a in (f.alias, n)})
_IN = re.compile(r"\bIN\s*$", re.IGNORECASE)


def _format(exc: ValidationError, where: str) -> ConfigError:
    problems = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            key = str(err["loc"][-1])
            close = difflib.get_close_matches(key, _KEYS, n=1)
            msg = f"unknown key {key!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
        problems.append(f"{where}.{loc}: {msg}" if loc else f"{where}: {msg}")
    return ConfigError("; ".join(problems))


def parse_bindings(raw: object, where: str) -> tuple[DataBinding, ...]:
    """The bindings of one fake from ``{method or Service.method: spec}``; ConfigError naming the key."""
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected a mapping of method name to binding, got {type(raw).__name__}")
    out: list[DataBinding] = []
    for name, spec in raw.items():
        at = f"{where}.{name}"
        if not isinstance(name, str) or not re.match(r"^([A-Za-z_][\w]*\.)*[A-Za-z_]\w*$", name):
            raise ConfigError(f"{where}: {name!r} is not a method name (method or Service.method)")
        if not isinstance(spec, Mapping):
            raise ConfigError(f"{at}: expected a mapping (sql, redis, compose, writes, ...)")
        if "method" in spec:
            raise ConfigError(f"{at}.method: unknown key 'method' (the method is the binding's key)")
        try:
            binding = DataBinding.model_validate({**spec, "method": name})
        except ValidationError as exc:
            raise _format(exc, at) from None
        _parse_templates(binding, at)
        out.append(binding)
    return tuple(out)


def _steps(b: DataBinding, at: str) -> list[tuple[str, SqlRead | SqlWrite | RedisRead | RedisWrite]]:
    steps: list[tuple[str, SqlRead | SqlWrite | RedisRead | RedisWrite]] = []
    for i, w in enumerate(b.writes):
        if w.sql is not None:
            steps.append((f"{at}.writes[{i}].sql", w.sql))
        if w.redis is not None:
            steps.append((f"{at}.writes[{i}].redis", w.redis))
    if b.sql is not None:
        steps.append((f"{at}.sql", b.sql))
    if b.redis is not None:
        steps.append((f"{at}.redis", b.redis))
    if b.compose is not None:
        lk = b.compose.lookup
        if lk.sql is not None:
            steps.append((f"{at}.compose.lookup.sql", lk.sql))
        if lk.redis is not None:
            steps.append((f"{at}.compose.lookup.redis", lk.redis))
    return steps


def _paths(step: SqlRead | SqlWrite | RedisRead | RedisWrite, at: str) -> list[tuple[str, str]]:
    """``(key path, argument path)`` of every variable of a step; ConfigError on a bad template."""
    out: list[tuple[str, str]] = []
    try:
        if isinstance(step, SqlRead | SqlWrite):
            out.extend((f"{at}.query", p) for p in SqlTemplate.parse(step.query).names)
            return out
        out.extend((f"{at}.key", p) for p in Template.parse(step.key).paths)
        if isinstance(step, RedisWrite):
            for i, a in enumerate(step.args):
                out.extend((f"{at}.args[{i}]", p) for p in Template.parse(str(a)).paths)
        else:
            for name in ("start", "stop", "count"):
                value = getattr(step, name)
                if value is not None:
                    out.extend((f"{at}.{name}", p) for p in Template.parse(str(value)).paths)
            if step.each is not None:
                out.append((f"{at}.each", step.each))
    except ValueError as exc:
        raise ConfigError(f"{at}: {exc}") from None
    return out


def _parse_templates(b: DataBinding, at: str) -> None:
    for where, step in _steps(b, at):
        for key, path in _paths(step, where):
            if not is_path(path):
                raise ConfigError(f"{key}: {path!r} is not an argument path")
        if isinstance(step, SqlRead) and not re.match(r"^\s*(SELECT|WITH|\()", step.query, re.IGNORECASE):
            raise ConfigError(f"{where}.query: a read must be a SELECT")
        if isinstance(step, SqlWrite) and not re.match(
            r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", step.query, re.IGNORECASE
        ):
            raise ConfigError(f"{where}.query: a write must be an INSERT, UPDATE, DELETE or REPLACE")


def resolve_method(
    binding: DataBinding, models: Mapping[str, ServiceModel], where: str
) -> tuple[ServiceModel, MethodModel]:
    """The served service and method a binding answers; ConfigError naming ``where`` when unknown."""
    wanted = binding.service
    if wanted is not None:
        matches = [m for n, m in models.items() if wanted in (n, n.rpartition(".")[2], m.name)]
        if not matches:
            raise ConfigError(f"{where}: no service {wanted!r} is served here (served: {', '.join(models)})")
        owners = matches
    else:
        owners = [m for m in models.values() if binding.method_name in m.methods]
        if len(owners) > 1:
            names = ", ".join(m.name for m in owners)
            raise ConfigError(
                f"{where}: several served services have {binding.method!r} ({names}); write Service.method"
            )
    for model in owners:
        method = model.method(binding.method_name)
        if method is not None:
            return model, method
    known = sorted({m for s in (owners or models.values()) for m in s.methods})
    close = difflib.get_close_matches(binding.method_name, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else f" (methods: {', '.join(known)})"
    raise ConfigError(f"{where}: unknown method {binding.method!r}{hint}")


def _check_path(method: MethodModel, path: str, key: str, extra: Sequence[str] = ()) -> FieldModel | None:
    """The field a path ends at (None for ``item``); ConfigError when it is no argument (field)."""
    head, *rest = path.split(".")
    if head in extra and not rest:
        return None
    args = {f.name: f for f in method.args}
    if head not in args:
        names = ", ".join(list(args) + list(extra)) or "none"
        raise ConfigError(f"{key}: {{{path}}}: {method.name} has no argument {head!r} (arguments: {names})")
    f = args[head]
    for part in rest:
        if f.ttype != TType.STRUCT:
            raise ConfigError(f"{key}: {{{path}}}: {f.name} is a {type_name(f.ttype, f.spec)}, not a struct")
        sub = struct_field(f.spec, part)
        if sub is None:
            names = ", ".join(x.name for x in field_models(f.spec))
            raise ConfigError(f"{key}: {{{path}}}: {f.spec.__name__} has no field {part!r} (fields: {names})")
        f = sub
    return f


def _schemas(schema: Mapping[str, Path | Tables] | None) -> dict[str, Tables]:
    out: dict[str, Tables] = {}
    for name, value in (schema or {}).items():
        out[name] = load_schema(value) if isinstance(value, Path) else value
    return out


def _literal(query: str) -> str:
    tpl = SqlTemplate.parse(query)
    parts = [tpl.pieces[0].replace("%%", "%")]
    for piece in tpl.pieces[1:]:
        parts.append("(1)" if _IN.search(parts[-1]) else "1")
        parts.append(piece.replace("%%", "%"))
    return "".join(parts)


def check_bindings(
    bindings: Sequence[DataBinding],
    config: ThriftConfig,
    stores: Mapping[str, str],
    where: str,
    schema: Mapping[str, Path | Tables] | None = None,
) -> None:
    """Raise ConfigError naming ``where``, the binding's key and the problem of the first bad binding.

    ``config`` is the fake's :class:`~simdb.thrift.fake.ThriftConfig`; ``stores`` the stack's other
    fakes by name with their kind (``redis``/``mysql``); ``schema`` the tables of MySQL fakes by store
    name (a ``schema.sql`` path or :func:`~simdb.thrift.databind.schema.load_schema`'s result).
    """
    from simdb.thrift.idl import load_idl
    from simdb.thrift.model import service_model

    module = load_idl(config.idl, config.include_dirs)
    models = {svc: service_model(module, svc) for svc in config.services}
    tables = _schemas(schema)
    seen: dict[tuple[str, str], str] = {}
    for b in bindings:
        at = f"{where}.{b.method}"
        service, method = resolve_method(b, models, at)
        if (service.name, method.name) in seen:
            raise ConfigError(
                f"{at}: {service.name}.{method.name} is already bound by {seen[service.name, method.name]}"
            )
        seen[service.name, method.name] = b.method
        _check_one(b, method, stores, at, tables)


def _check_one(
    b: DataBinding, method: MethodModel, stores: Mapping[str, str], at: str, tables: Mapping[str, Tables]
) -> None:
    for step_at, step in _steps(b, at):
        want = "mysql" if isinstance(step, SqlRead | SqlWrite) else "redis"
        kind = stores.get(step.store)
        if kind is None:
            known = ", ".join(f"{n} ({k})" for n, k in stores.items()) or "none"
            raise ConfigError(f"{step_at}.store: no fake {step.store!r} in the stack (fakes: {known})")
        if kind != want:
            raise ConfigError(
                f"{step_at}.store: {step.store!r} is a {kind} fake; this step needs a {want} fake"
            )
        in_lookup = ".compose.lookup." in step_at
        extra = ("item",) if in_lookup or (isinstance(step, RedisRead) and step.each) else ()
        for key, path in _paths(step, step_at):
            if key.endswith(".each"):
                f = _check_path(method, path, key)
                if f is not None and f.ttype not in (TType.LIST, TType.SET):
                    raise ConfigError(f"{key}: {path} is a {type_name(f.ttype, f.spec)}, not a list")
                continue
            _check_path(method, path, key, extra)
    read = b.read
    if not method.has_return and read is not None:
        raise ConfigError(f"{at}: {method.name} returns nothing (void); a binding of it takes only 'writes'")
    if method.has_return and read is None:
        raise ConfigError(
            f"{at}: {method.name} returns {type_name(method.return_ttype, method.return_spec)}; "
            "give a read (sql, redis or compose) for its answer"
        )
    if isinstance(read, Compose):
        f = _check_path(method, read.items, f"{at}.compose.items")
        if f is not None and f.ttype not in (TType.LIST, TType.SET):
            raise ConfigError(
                f"{at}.compose.items: {read.items} is a {type_name(f.ttype, f.spec)}, not a list"
            )
        if isinstance(read.limit, str):
            f = _check_path(method, read.limit, f"{at}.compose.limit")
            if f is not None and f.ttype not in (TType.BYTE, TType.I16, TType.I32, TType.I64):
                raise ConfigError(f"{at}.compose.limit: {read.limit} is not an integer argument")
    if b.not_found is not None:
        _check_not_found(b.not_found, method, f"{at}.not_found")
    if read is not None:
        _check_shape(b, method, at, tables)


def _check_not_found(nf: NotFound, method: MethodModel, at: str) -> None:
    if nf.raise_ is not None:
        exc = method.exception_named(nf.raise_)
        if exc is None:
            declared = ", ".join(e.name for e in method.exceptions) or "nothing"
            raise ConfigError(
                f"{at}.raise: {method.name} does not declare {nf.raise_!r} (it declares: {declared})"
            )
        for name, raw in nf.fields.items():
            f = struct_field(exc.cls, name)
            if f is None:
                names = ", ".join(x.name for x in field_models(exc.cls))
                raise ConfigError(f"{at}.fields.{name}: {exc.name} has no field {name!r} (fields: {names})")
            if isinstance(raw, str):
                try:
                    paths = Template.parse(raw).paths
                except ValueError as err:
                    raise ConfigError(f"{at}.fields.{name}: {err}") from None
                for p in paths:
                    _check_path(method, p, f"{at}.fields.{name}")
    else:
        from_json(method.return_ttype, method.return_spec, nf.default, f"{at}.default")


def _target(b: DataBinding, method: MethodModel, at: str) -> tuple[int, Any]:
    shape = b.shape
    ttype, spec = method.return_ttype, method.return_spec
    for key in ("into", "count"):
        name = getattr(shape, key)
        if name is None:
            continue
        f = struct_field(spec, name) if ttype == TType.STRUCT else None
        if f is None:
            fields = (
                ", ".join(x.name for x in field_models(spec))
                if ttype == TType.STRUCT
                else "none (not a struct)"
            )
            raise ConfigError(
                f"{at}.{key}: the return type {type_name(ttype, spec)} has no field {name!r} "
                f"(fields: {fields})"
            )
        if key == "count" and f.ttype not in (TType.BYTE, TType.I16, TType.I32, TType.I64):
            raise ConfigError(f"{at}.count: {name} is a {type_name(f.ttype, f.spec)}, not an integer")
    for name, value in shape.set.items():
        f = struct_field(spec, name) if ttype == TType.STRUCT else None
        if f is None:
            raise ConfigError(
                f"{at}.set.{name}: the return type {type_name(ttype, spec)} has no field {name!r}"
            )
        from_json(f.ttype, f.spec, value, f"{at}.set.{name}")
    if shape.into is not None:
        f = struct_field(spec, shape.into)
        return f.ttype, f.spec
    return ttype, spec


def _element(ttype: int, spec: Any) -> tuple[int, Any, tuple[int, Any] | None]:
    """(element ttype, element spec, map key type) of the target."""
    if ttype in (TType.LIST, TType.SET):
        et, es = norm_desc(spec)
        return et, es, None
    if ttype == TType.MAP:
        vt, vs = norm_desc(spec[1])
        return vt, vs, norm_desc(spec[0])
    return ttype, spec, None


def _check_shape(b: DataBinding, method: MethodModel, at: str, tables: Mapping[str, Tables]) -> None:
    shape = b.shape
    ttype, spec, key_type = _element(*_target(b, method, at))
    if shape.map and ttype != TType.STRUCT:
        raise ConfigError(f"{at}.map: the result is a {type_name(ttype, spec)}, not a struct; use 'value:'")
    if ttype == TType.STRUCT:
        _check_map(spec, shape.map, f"{at}.map")
    columns: dict[str, ColumnKind] | None = None
    sql = b.sql or (b.compose.lookup.sql if b.compose else None)
    step_at = f"{at}.sql" if b.sql else f"{at}.compose.lookup.sql"
    for i, w in enumerate(b.writes):
        if w.sql is not None and w.sql.store in tables:
            _, problems = query_columns(_literal(w.sql.query), tables[w.sql.store])
            if problems:
                raise ConfigError(f"{at}.writes[{i}].sql.query: {'; '.join(problems)}")
    if sql is not None and sql.store in tables:
        columns, problems = query_columns(_literal(sql.query), tables[sql.store])
        if problems:
            raise ConfigError(f"{step_at}.query: {'; '.join(problems)}")
        if b.compose is not None:
            columns = {**columns, "item": "other"}
    if columns is None:
        return
    decoded = set(shape.json_columns) | set(shape.split)
    for key in ("key", "value"):
        col = getattr(shape, key)
        if col is not None and col not in columns:
            raise ConfigError(f"{at}.{key}: the query has no column {col!r} (columns: {', '.join(columns)})")
    if b.compose is not None and b.compose.sort_by is not None and b.compose.sort_by not in columns:
        raise ConfigError(
            f"{at}.compose.sort_by: the lookup has no column {b.compose.sort_by!r} "
            f"(columns: {', '.join(columns)})"
        )
    if key_type is not None:
        col = shape.key or next(iter(columns), "")
        if col in columns and not fits(columns[col], key_type[0], key_type[1], col in decoded):
            raise ConfigError(
                f"{at}.key: column {col!r} ({columns[col]}) cannot be a {type_name(*key_type)} map key"
            )
    if ttype == TType.STRUCT:
        _check_columns(spec, shape.map, columns, decoded, f"{at}.map")
    else:
        cols = (
            [c for c in columns if c != "item" and c != shape.key] if shape.value is None else [shape.value]
        )
        if len(cols) == 1 and not fits(columns[cols[0]], ttype, spec, cols[0] in decoded):
            raise ConfigError(
                f"{at}: column {cols[0]!r} ({columns[cols[0]]}) cannot be a {type_name(ttype, spec)}"
            )


def _check_map(cls: type, mapping: Mapping[str, Any], at: str) -> None:
    for name, target in mapping.items():
        f = struct_field(cls, name)
        if f is None:
            names = ", ".join(x.name for x in field_models(cls))
            raise ConfigError(f"{at}.{name}: {cls.__name__} has no field {name!r} (fields: {names})")
        if isinstance(target, Mapping):
            if f.ttype != TType.STRUCT:
                raise ConfigError(f"{at}.{name}: {name} is a {type_name(f.ttype, f.spec)}, not a struct")
            _check_map(f.spec, target, f"{at}.{name}")
        elif isinstance(target, list):
            et, es = norm_desc(f.spec) if f.ttype in (TType.LIST, TType.SET) else (TType.VOID, object)
            if et != TType.STRUCT or len(target) != 1 or not isinstance(target[0], Mapping):
                raise ConfigError(f"{at}.{name}: a list mapping is [{{field: column}}] for a list of structs")
            _check_map(es, target[0], f"{at}.{name}[0]")
        elif not isinstance(target, str):
            raise ConfigError(f"{at}.{name}: expected a column name, a mapping or a one-element list")


def _check_columns(
    cls: type, mapping: Mapping[str, Any], columns: Mapping[str, ColumnKind], decoded: set[str], at: str
) -> None:
    by_norm = {norm_name(c): c for c in columns}
    for f in field_models(cls):
        target = mapping.get(f.name)
        if isinstance(target, Mapping):
            _check_columns(f.spec, target, columns, decoded, f"{at}.{f.name}")
            continue
        if isinstance(target, list):
            _check_columns(norm_desc(f.spec)[1], target[0], columns, decoded, f"{at}.{f.name}[0]")
            continue
        if isinstance(target, str):
            if target not in columns:
                raise ConfigError(f"{at}.{f.name}: unknown column {target!r} (columns: {', '.join(columns)})")
            col = target
        else:
            found = by_norm.get(norm_name(f.name))
            if found is None:
                if f.required:
                    raise ConfigError(
                        f"{at}: required field {f.name!r} of {cls.__name__} has no column "
                        f"(columns: {', '.join(columns)})"
                    )
                continue
            col = found
        if not fits(columns[col], f.ttype, f.spec, col in decoded):
            raise ConfigError(
                f"{at}.{f.name}: column {col!r} ({columns[col]}) cannot fill "
                f"{f.name} ({type_name(f.ttype, f.spec)})"
            )
