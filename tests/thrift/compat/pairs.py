"""One pair of IDLs per compat rule, written for the purpose, each with its wire check (no pytest in here).

A pair's ``check`` is phrased in terms of the client's and the server's version (never "old" and
"new"), so the mirror of a pair (old and new swapped) reuses it: ``method-added`` is ``method-removed``
mirrored. A check raises (:class:`~tests.thrift.compat.wire.Broken`, a Thrift error, a timeout) when
the exchange loses or changes meaning; it returns when the client got what the server meant and the
server read what the client meant. The expected verdicts are never written here: the tests take them
from ``simdb thrift compat``'s report and compare them with what the check observed.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from simdb.thrift.model import field_models
from tests.thrift.compat.wire import Broken, Ctx, field_sample, sample

Check = Callable[[Ctx], None]


@dataclass(frozen=True)
class Pair:
    """Two versions of an IDL that differ by one rule (``expect``: every rule the report must name)."""

    rule: str
    old: str
    new: str
    check: Check
    expect: tuple[str, ...] = ()
    servers: tuple[str, ...] = ("simdb",)
    """Server kinds the wire check runs against: simdb's fake, and ``apache`` (generated) where the
    fake's leniency would hide the break (it honours a oneway message type)."""

    @property
    def rules(self) -> tuple[str, ...]:
        return self.expect or (self.rule,)

    def mirrored(self, rule: str, expect: tuple[str, ...] = ()) -> Pair:
        """The same pair with old and new swapped, for the counterpart rule."""
        return replace(self, rule=rule, old=self.new, new=self.old, expect=expect)


def _idl(text: str) -> str:
    return textwrap.dedent(text).strip() + "\n"


# --- checks --------------------------------------------------------------------------------------------


def calls_answer(*targets: tuple[str, str]) -> Check:
    """Each (service, method) the client's version has answers with the value the server sent."""

    def check(c: Ctx) -> None:
        for service, method in targets:
            server_m = c.server_method(method, service)
            if server_m is not None:
                c.stub(method, {"return": sample(server_m.return_ttype, server_m.return_spec)}, service)
        called = 0
        for service, method in targets:
            client_m = c.client_method(method, service)
            if client_m is None:
                continue
            got = getattr(c.client(service), method)()
            want = sample(client_m.return_ttype, client_m.return_spec)
            if got != want:
                raise Broken(f"{service}.{method} answered {got!r}, expected {want!r}")
            called += 1
        assert called, "the client's version has none of the methods: the check tests nothing"

    return check


def args_arrive(method: str = "m", omit: tuple[str, ...] = ()) -> Check:
    """The client sends every argument its version declares (leaving out the optional ones in ``omit``).

    The server must read each value the client sent under the same name, never read a value the client
    did not send under that name (other than its own default), and get every argument it requires.
    """

    def check(c: Ctx) -> None:
        client_m = c.client_method(method)
        server_m = c.server_method(method)
        assert client_m is not None and server_m is not None
        c.stub(method, {"return": 7})
        kwargs = {
            f.name: None if (f.name in omit and not f.required) else field_sample(f) for f in client_m.args
        }
        sent = {k: v for k, v in kwargs.items() if v is not None}
        got = getattr(c.client(), method)(**kwargs)
        if got != 7:
            raise Broken(f"answered {got!r}, expected 7")
        received = c.received(method)
        defaults = dict(server_m.args_cls.default_spec)
        for f in server_m.args:
            value = received.get(f.name)
            if f.required and value is None:
                raise Broken(f"the server reads no value for its required argument {f.name!r}")
            if f.name in sent and value != sent[f.name]:
                raise Broken(f"the client sent {f.name}={sent[f.name]!r}, the server read {value!r}")
            if f.name not in sent and value not in (None, defaults.get(f.name)):
                raise Broken(f"the client never set {f.name!r}, yet the server read {f.name}={value!r}")

    return check


def reply_arrives(omit: tuple[str, ...] = ()) -> Check:
    """``R m()``: the server returns an ``R`` with every field set (but the optional ones in ``omit``).

    The client must read each value under the name the server set it, never a value the server did
    not set under that name (other than the client's default), and pass Apache's ``validate()``
    (every required field present).
    """

    def check(c: Ctx) -> None:
        server_r = c.server_version.module.R
        sent = {f.name: field_sample(f) for f in field_models(server_r) if f.required or f.name not in omit}
        c.stub("m", {"return": sent})
        got = c.client().m()
        defaults = dict(c.client_version.module.R.default_spec)
        for f in field_models(c.client_version.module.R):
            value = getattr(got, f.name)
            if f.required and value is None:
                raise Broken(f"the client reads no value for its required field {f.name!r}")
            if f.name in sent and value != sent[f.name]:
                raise Broken(f"the server sent {f.name}={sent[f.name]!r}, the client read {value!r}")
            if f.name not in sent and value not in (None, defaults.get(f.name)):
                raise Broken(f"the server never set {f.name!r}, yet the client read {f.name}={value!r}")
        got.validate()

    return check


def enum_values_return(c: Ctx) -> None:
    """``E m(1: i32 i)``: the server returns each value of its enum ``E``; the client reads it by name."""
    values = sorted(c.server_version.module.E._VALUES_TO_NAMES.items())
    for i, (_number, name) in enumerate(values):
        c.stub("m", {"return": name}, args={"i": i})
    client = c.client()
    for i, (number, name) in enumerate(values):
        got = client.m(i=i)
        read = c.ct.E._VALUES_TO_NAMES.get(got)
        if read != name:
            raise Broken(f"the server returned {name} = {number}; the client read {read} = {got}")


def enum_values_arrive(c: Ctx) -> None:
    """Each value of the client's enum ``E`` (argument ``e`` of ``m``) reaches the server by name."""
    c.stub("m", {"return": 7})
    server_enum = c.server_version.module.E
    client = c.client()
    for number, name in sorted(c.ct.E._VALUES_TO_NAMES.items()):
        if client.m(e=number) != 7:
            raise Broken("m did not answer 7")
        read = c.received("m")["e"]
        if isinstance(read, int):
            raise Broken(f"the client sent {name} = {number}; the server's enum does not declare {number}")
        if read != name:
            raise Broken(f"the client sent {name} = {number}; the server read {read} = {number}")
        assert server_enum._NAMES_TO_VALUES[read] == number


def union_members_arrive(c: Ctx) -> None:
    """Each member of the client's union ``U`` (argument ``u`` of ``m``) reaches the server, set alone."""
    c.stub("m", {"return": 7})
    client = c.client()
    for f in field_models(c.client_version.module.U):
        name, value = f.name, field_sample(f)
        if client.m(u=c.ct.U(**{name: value})) != 7:
            raise Broken("m did not answer 7")
        read = {k: v for k, v in c.received("m")["u"].items() if v is not None}
        if read != {name: value}:
            raise Broken(f"the client set {name}={value!r}; the server read the union as {read}")


def default_agrees(c: Ctx) -> None:
    """A field left at its default (``Q.a``) is read by the server as the server's default."""
    c.stub("m", {"return": 7})
    if c.client().m(q=c.ct.Q(b=5)) != 7:
        raise Broken("m did not answer 7")
    read = c.received("m")["q"]
    server_default = dict(c.server_version.module.Q.default_spec)["a"]
    if read.get("b") != 5:
        raise Broken(f"the server read b={read.get('b')!r}, the client sent 5")
    if read.get("a") != server_default:
        raise Broken(
            f"the client left a at its default; the server read a={read.get('a')!r}, its default is "
            f"{server_default!r}"
        )


def outcome_arrives(c: Ctx) -> None:
    """``m(x=1)``: the server returns 7, or raises its first declared exception; the client sees the same."""
    server_m = c.server_method("m")
    assert server_m is not None
    raised: tuple[str, dict[str, Any]] | None = None
    if server_m.exceptions:
        exc = server_m.exceptions[0]
        fields = {e[1]: sample(e[0], e[2] if len(e) == 4 else None) for e in exc.cls.thrift_spec.values()}
        c.stub("m", {"raise": {exc.name: fields}})
        raised = (exc.name, fields)
    else:
        c.stub("m", {"return": 7})
    try:
        got = c.client().m(x=1)
    except Exception as exc:
        if raised is None or type(exc).__name__ != raised[0]:
            raise
        seen = {k: getattr(exc, k, None) for k in raised[1]}
        if seen != raised[1]:
            raise Broken(f"the server raised {raised[0]}{raised[1]}; the client read {seen}") from None
        return
    if raised is not None:
        raise Broken(f"the server raised {raised[0]}; the client saw a return value {got!r}")
    client_m = c.client_method("m")
    assert client_m is not None
    if client_m.has_return and got != 7:
        raise Broken(f"answered {got!r}, expected 7")


def value_returns(c: Ctx) -> None:
    """``m()``: the server returns a value of its return type (nothing if void); the client reads it."""
    server_m, client_m = c.server_method("m"), c.client_method("m")
    assert server_m is not None and client_m is not None
    sent = sample(server_m.return_ttype, server_m.return_spec) if server_m.has_return else None
    c.stub("m", {"return": sent})
    got = c.client().m()
    if client_m.has_return and got != sent:
        raise Broken(f"the server returned {sent!r}; the client read {got!r}")


def oneway_then_call(c: Ctx) -> None:
    """``ping(x=5)`` then ``m()``: the server sees the ping and the client reads m's own answer."""
    c.stub("m", {"return": 1})
    c.stub("ping", {"return": None})
    client = c.client()
    client.ping(x=5)
    got = client.m()
    if got != 1:
        raise Broken(f"m answered {got!r}, expected 1")
    if c.received("ping").get("x") != 5:
        raise Broken("the server did not read ping(x=5)")


# --- the pairs -----------------------------------------------------------------------------------------

_SERVICE_REMOVED = Pair(
    "service-removed",
    old=_idl("service S { i32 m() }\nservice T { i32 n() }"),
    new=_idl("service S { i32 m() }"),
    check=calls_answer(("S", "m"), ("T", "n")),
)
_EXTENDS_REMOVED = Pair(
    "extends-removed",
    old=_idl("service Base { i32 b() }\nservice S extends Base { i32 m() }"),
    new=_idl("service Base { i32 b() }\nservice S { i32 m() }"),
    check=calls_answer(("S", "m"), ("S", "b")),
    expect=("extends-removed", "method-removed"),
)
_EXTENDS_CHANGED = Pair(
    "extends-changed",
    old=_idl("service A { i32 a() }\nservice B { string b() }\nservice S extends A { i32 m() }"),
    new=_idl("service A { i32 a() }\nservice B { string b() }\nservice S extends B { i32 m() }"),
    check=calls_answer(("S", "m"), ("S", "a"), ("S", "b")),
    expect=("extends-changed", "method-removed", "method-added"),
)
_METHOD_REMOVED = Pair(
    "method-removed",
    old=_idl("service S { i32 m(), string gone() }"),
    new=_idl("service S { i32 m() }"),
    check=calls_answer(("S", "m"), ("S", "gone")),
)
_METHOD_RENAMED = Pair(
    "method-renamed",
    old=_idl("service S { i32 m(), string before() }"),
    new=_idl("service S { i32 m(), string after() }"),
    check=calls_answer(("S", "m"), ("S", "before"), ("S", "after")),
)
_ONEWAY_ADDED = Pair(
    "oneway-added",
    old=_idl("service S { void ping(1: i32 x), i32 m() }"),
    new=_idl("service S { oneway void ping(1: i32 x), i32 m() }"),
    check=oneway_then_call,
    servers=("simdb", "apache"),
)
_RETURN_TYPE = Pair(
    "return-type-changed",
    old=_idl("service S { i32 m() }"),
    new=_idl("service S { string m() }"),
    check=value_returns,
)
_RETURN_ADDED = Pair(
    "return-added",
    old=_idl("service S { void m() }"),
    new=_idl("service S { i32 m() }"),
    check=value_returns,
)
_EXCEPTION_ADDED = Pair(
    "exception-added",
    old=_idl("exception Oops { 1: string why }\nservice S { i32 m(1: i32 x) }"),
    new=_idl("exception Oops { 1: string why }\nservice S { i32 m(1: i32 x) throws (1: Oops oops) }"),
    check=outcome_arrives,
)
_EXCEPTION_TYPE = Pair(
    "exception-type-changed",
    old=_idl(
        "exception A { 1: string why }\nexception B { 1: i32 code }\n"
        "service S { i32 m(1: i32 x) throws (1: A e) }"
    ),
    new=_idl(
        "exception A { 1: string why }\nexception B { 1: i32 code }\n"
        "service S { i32 m(1: i32 x) throws (1: B e) }"
    ),
    check=outcome_arrives,
)
_FIELD_ADDED_OPTIONAL = Pair(
    "field-added-optional",
    old=_idl("service S { i32 m(1: i32 a) }"),
    new=_idl("service S { i32 m(1: i32 a, 2: optional string b) }"),
    check=args_arrive(),
)
_FIELD_ADDED_REQUIRED = Pair(
    "field-added-required",
    old=_idl("service S { i32 m(1: i32 a) }"),
    new=_idl("service S { i32 m(1: i32 a, 2: required string b) }"),
    check=args_arrive(),
)
_FIELD_ID_CHANGED = Pair(
    "field-id-changed",
    old=_idl("service S { i32 m(1: i32 a, 2: string c) }"),
    new=_idl("service S { i32 m(2: string c, 3: i32 a) }"),
    check=args_arrive(),
)
_FIELD_ID_REUSED = Pair(
    "field-id-reused",
    old=_idl("service S { i32 m(1: i32 a, 2: string c) }"),
    new=_idl("service S { i32 m(1: i32 z, 2: string c) }"),
    check=args_arrive(),
)
_FIELD_ID_REUSED_WIRE = Pair(
    "field-id-reused-other-wire-type",
    old=_idl("service S { i32 m(1: i32 a, 2: string c) }"),
    new=_idl("service S { i32 m(1: string z, 2: string c) }"),
    check=args_arrive(),
    expect=("field-removed-optional", "field-added-optional"),
)
_FIELD_TYPE = Pair(
    "field-type-changed",
    old=_idl("service S { i32 m(1: i32 a, 2: string c) }"),
    new=_idl("service S { i32 m(1: string a, 2: string c) }"),
    check=args_arrive(),
)
_REQUIRED_TO_OPTIONAL = Pair(
    "required-to-optional",
    old=_idl("service S { i32 m(1: required i32 a, 2: i32 c) }"),
    new=_idl("service S { i32 m(1: optional i32 a, 2: i32 c) }"),
    check=args_arrive(omit=("a",)),
)
_DEFAULT = Pair(
    "default-changed",
    old=_idl("struct Q { 1: i32 a = 1, 2: i32 b }\nservice S { i32 m(1: Q q) }"),
    new=_idl("struct Q { 1: i32 a = 2, 2: i32 b }\nservice S { i32 m(1: Q q) }"),
    check=default_agrees,
)
_UNION_ADDED = Pair(
    "union-field-added",
    old=_idl("union U { 1: i32 a, 2: string b }\nservice S { i32 m(1: U u) }"),
    new=_idl("union U { 1: i32 a, 2: string b, 3: i64 c }\nservice S { i32 m(1: U u) }"),
    check=union_members_arrive,
)
_ENUM_REMOVED = Pair(
    "enum-value-removed",
    old=_idl("enum E { A = 1, B = 2 }\nservice S { i32 m(1: E e) }"),
    new=_idl("enum E { A = 1 }\nservice S { i32 m(1: E e) }"),
    check=enum_values_arrive,
)
_ENUM_CHANGED = Pair(
    "enum-value-changed",
    old=_idl("enum E { A = 1, B = 2 }\nservice S { i32 m(1: E e) }"),
    new=_idl("enum E { A = 1, B = 3 }\nservice S { i32 m(1: E e) }"),
    check=enum_values_arrive,
)
_ENUM_RENAMED = Pair(
    "enum-value-renamed",
    old=_idl("enum E { A = 1, B = 2 }\nservice S { i32 m(1: E e) }"),
    new=_idl("enum E { A = 1, C = 2 }\nservice S { i32 m(1: E e) }"),
    check=enum_values_arrive,
)

# The same kinds of change in a reply: the verdicts swap (the server writes, the client reads).
_REPLY_REQUIRED_TO_OPTIONAL = Pair(
    "required-to-optional-in-a-reply",
    old=_idl("struct R { 1: required i32 a, 2: i32 c }\nservice S { R m() }"),
    new=_idl("struct R { 1: optional i32 a, 2: i32 c }\nservice S { R m() }"),
    check=reply_arrives(omit=("a",)),
    expect=("required-to-optional",),
)
_REPLY_FIELD_ADDED_REQUIRED = Pair(
    "field-added-required-in-a-reply",
    old=_idl("struct R { 1: i32 a }\nservice S { R m() }"),
    new=_idl("struct R { 1: i32 a, 2: required string b }\nservice S { R m() }"),
    check=reply_arrives(),
    expect=("field-added-required",),
)
_REPLY_FIELD_ID_CHANGED = Pair(
    "field-id-changed-in-a-reply",
    old=_idl("struct R { 1: i32 a, 2: string c }\nservice S { R m() }"),
    new=_idl("struct R { 2: string c, 3: i32 a }\nservice S { R m() }"),
    check=reply_arrives(),
    expect=("field-id-changed",),
)
_REPLY_ENUM_ADDED = Pair(
    "enum-value-added-in-a-reply",
    old=_idl("enum E { A = 1 }\nservice S { E m(1: i32 i) }"),
    new=_idl("enum E { A = 1, B = 2 }\nservice S { E m(1: i32 i) }"),
    check=enum_values_return,
    expect=("enum-value-added",),
)

PAIRS: tuple[Pair, ...] = (
    _SERVICE_REMOVED,
    _SERVICE_REMOVED.mirrored("service-added"),
    _EXTENDS_REMOVED,
    _EXTENDS_REMOVED.mirrored("extends-added", ("extends-added", "method-added")),
    _EXTENDS_CHANGED,
    _METHOD_REMOVED,
    _METHOD_REMOVED.mirrored("method-added"),
    _METHOD_RENAMED,
    _ONEWAY_ADDED,
    _ONEWAY_ADDED.mirrored("oneway-removed"),
    _RETURN_TYPE,
    _RETURN_ADDED,
    _RETURN_ADDED.mirrored("return-removed"),
    _EXCEPTION_ADDED,
    _EXCEPTION_ADDED.mirrored("exception-removed"),
    _EXCEPTION_TYPE,
    _FIELD_ADDED_OPTIONAL,
    _FIELD_ADDED_OPTIONAL.mirrored("field-removed-optional"),
    _FIELD_ADDED_REQUIRED,
    _FIELD_ADDED_REQUIRED.mirrored("field-removed-required"),
    _FIELD_ID_CHANGED,
    _FIELD_ID_REUSED,
    _FIELD_ID_REUSED_WIRE,
    _FIELD_TYPE,
    _REQUIRED_TO_OPTIONAL,
    _REQUIRED_TO_OPTIONAL.mirrored("optional-to-required"),
    _DEFAULT,
    _UNION_ADDED,
    _UNION_ADDED.mirrored("union-field-removed"),
    _ENUM_REMOVED,
    _ENUM_REMOVED.mirrored("enum-value-added"),
    _ENUM_CHANGED,
    _ENUM_RENAMED,
    _REPLY_REQUIRED_TO_OPTIONAL,
    _REPLY_REQUIRED_TO_OPTIONAL.mirrored("optional-to-required-in-a-reply", ("optional-to-required",)),
    _REPLY_FIELD_ADDED_REQUIRED,
    _REPLY_FIELD_ADDED_REQUIRED.mirrored("field-removed-required-in-a-reply", ("field-removed-required",)),
    _REPLY_FIELD_ID_CHANGED,
    _REPLY_ENUM_ADDED,
    _REPLY_ENUM_ADDED.mirrored("enum-value-removed-in-a-reply", ("enum-value-removed",)),
)
