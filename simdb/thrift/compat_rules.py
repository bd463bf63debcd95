"""The rules of ``simdb thrift compat``: one :class:`Rule` per kind of change, with its verdicts and reason.

A verdict is given twice: for **old clients** (an old client calling a new server) and for **old
servers** (a new client calling an old server). Method-level rules give those two verdicts directly.
*Data* rules (changes to a field or an enum value) are written for a type that travels in a request
(the client writes it, the server reads it); a type that travels in a reply (a return value or an
exception) has the two verdicts swapped, since the server is then the writer. A type used both ways
gets the worse of the two. ``docs/thrift-compat.md`` renders :data:`RULES` (see :func:`rules_markdown`).

Swapping the old and the new IDL swaps the two sides: a rule's counterpart (``method-added`` for
``method-removed``) has the two verdicts the other way round; the tests check this for every rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

__all__ = ["BREAKING", "MIRRORS", "RULES", "SAFE", "Rule", "Verdict", "rule", "rules_markdown"]

Verdict = Literal["breaking", "safe"]
BREAKING: Verdict = "breaking"
SAFE: Verdict = "safe"


@dataclass(frozen=True)
class Rule:
    """One kind of change between two versions of an IDL."""

    id: str
    title: str
    old_clients: Verdict
    """An old client against a new server (for a data rule: the type in a request)."""
    old_servers: Verdict
    """A new client against an old server (for a data rule: the type in a request)."""
    reason: str
    data: bool = False
    """A change to a type's fields or values: verdicts swap when the type travels in a reply."""


_B, _S = BREAKING, SAFE

_RULE_LIST: tuple[Rule, ...] = (
    Rule(
        "service-removed",
        "service removed",
        _B,
        _S,
        "An old client calls a service the new server no longer has: every call fails with "
        "TApplicationException UNKNOWN_METHOD (or the connection is refused).",
    ),
    Rule(
        "service-added",
        "service added",
        _S,
        _B,
        "Old clients never call it; a new client calling it on an old server gets UNKNOWN_METHOD.",
    ),
    Rule(
        "extends-removed",
        "extends removed",
        _B,
        _S,
        "The methods inherited from the old base are gone from the new server (each one is also "
        "reported as removed): old clients calling them get UNKNOWN_METHOD.",
    ),
    Rule(
        "extends-changed",
        "extends another service",
        _B,
        _B,
        "Old clients lose the old base's methods and new clients call the new base's methods, which old "
        "servers lack (each method is also reported as removed or added).",
    ),
    Rule(
        "extends-added",
        "extends added",
        _S,
        _B,
        "The new base's methods are new to the service (each one is also reported as added).",
    ),
    Rule(
        "method-removed",
        "method removed",
        _B,
        _S,
        "An old client calling it gets TApplicationException UNKNOWN_METHOD from the new server.",
    ),
    Rule(
        "method-added",
        "method added",
        _S,
        _B,
        "Old clients never call it; a new client calling it on an old server gets UNKNOWN_METHOD. Safe "
        "when servers are deployed before clients (gate with --side clients).",
    ),
    Rule(
        "method-renamed",
        "method renamed",
        _B,
        _B,
        "The method name is on the wire: one removed and one added method with the same signature. Old "
        "clients call the old name, new clients the new one; each gets UNKNOWN_METHOD from the other side.",
    ),
    Rule(
        "oneway-added",
        "two-way method made oneway",
        _B,
        _B,
        "An old client waits for a reply the new server never sends (it hangs until its timeout). A new "
        "client sends a oneway call and never reads a reply: an Apache server replies anyway and the stale "
        "reply is read as the answer to the client's next call (simdb's fake honours the message type).",
    ),
    Rule(
        "oneway-removed",
        "oneway method made two-way",
        _B,
        _B,
        "The mirror of oneway-added: a new client waits for a reply an old server never sends; an old "
        "client never reads the reply an Apache server sends, so its next call reads a stale one.",
    ),
    Rule(
        "return-type-changed",
        "return type changed",
        _B,
        _B,
        "The reply's field 0 has another type: the reader skips a field of the wrong wire type (the "
        "Apache client then raises MISSING_RESULT) or decodes a different value (same wire type).",
    ),
    Rule(
        "return-added",
        "void method now returns a value",
        _S,
        _B,
        "An old client of a void method ignores field 0 of the reply; a new client expecting a value "
        "from an old server gets an empty reply: MISSING_RESULT.",
    ),
    Rule(
        "return-removed",
        "method now returns void",
        _B,
        _S,
        "An old client expects field 0 and gets an empty reply from the new server: MISSING_RESULT.",
    ),
    Rule(
        "exception-added",
        "declared exception added",
        _B,
        _S,
        "The new server may throw it; an old client does not know that reply field, so it raises "
        "MISSING_RESULT (value method) or sees a success (void method). Old servers never throw it.",
    ),
    Rule(
        "exception-removed",
        "declared exception removed",
        _S,
        _B,
        "The new server never throws it; an old server still does, and a new client no longer knows "
        "that reply field: MISSING_RESULT, or a silent success for a void method.",
    ),
    Rule(
        "exception-type-changed",
        "declared exception changed type",
        _B,
        _B,
        "Same reply field id, another exception struct: the reader decodes the fields of one as the other "
        "(or skips them), so the error arrives with the wrong class or wrong values.",
    ),
    Rule(
        "field-added-optional",
        "optional field added",
        _S,
        _S,
        "Readers skip field ids they do not know; a new reader finds the new field unset (or at its "
        "default) when an old writer sent it without.",
        data=True,
    ),
    Rule(
        "field-added-required",
        "required field added",
        _B,
        _S,
        "An old writer never sends it, so a new reader misses a required field (Apache Java and C++ "
        "refuse the struct; Python leaves it None). An old reader skips it.",
        data=True,
    ),
    Rule(
        "field-removed-optional",
        "optional field removed",
        _S,
        _S,
        "A new reader skips the field an old writer still sends; an old reader finds it unset, which an "
        "optional field allows. Keep its id retired: reusing it is field-id-reused.",
        data=True,
    ),
    Rule(
        "field-removed-required",
        "required field removed",
        _S,
        _B,
        "A new writer no longer sends it, so an old reader misses a required field. A new reader skips "
        "it when an old writer sends it.",
        data=True,
    ),
    Rule(
        "field-id-changed",
        "field moved to another id",
        _B,
        _B,
        "Only the id travels: the reader finds the value under an id it does not know (skipped) and its "
        "own id unset, so the value is lost both ways.",
        data=True,
    ),
    Rule(
        "field-id-reused",
        "field id reused for another field (or renamed)",
        _B,
        _B,
        "The id now names another field of the same wire type, so the reader takes the value sent for the "
        "old field as the new one (a list or map of other elements decodes to garbage). A pure rename is "
        "safe on the wire, but simdb cannot tell one from the other. With another wire type the reader "
        "skips the value: reported as the old field removed and the new one added.",
        data=True,
    ),
    Rule(
        "field-type-changed",
        "field type changed",
        _B,
        _B,
        "A field of another wire type is skipped by the reader (a required one is then missing); a "
        "container's element type is not checked by Apache readers, which decode garbage; the same wire "
        "type (string and binary, one enum and another) decodes to a different value.",
        data=True,
    ),
    Rule(
        "required-to-optional",
        "required field made optional",
        _S,
        _B,
        "An old writer always sends it, which a new reader accepts; a new writer may leave it out and an "
        "old reader then misses a required field.",
        data=True,
    ),
    Rule(
        "optional-to-required",
        "optional field made required",
        _B,
        _S,
        "An old writer may leave it out and a new reader then misses a required field; a new writer "
        "always sends it, which an old reader accepts.",
        data=True,
    ),
    Rule(
        "default-changed",
        "default value changed",
        _B,
        _B,
        "Apache writers send a field left at its default with the default value, so each side reads the "
        "other's default as a value set on purpose, and a missing field is filled in differently.",
        data=True,
    ),
    Rule(
        "union-field-added",
        "union field added",
        _S,
        _B,
        "A new writer may set the new field; an old reader skips it and finds the union empty.",
        data=True,
    ),
    Rule(
        "union-field-removed",
        "union field removed",
        _B,
        _S,
        "An old writer may still set the removed field; a new reader skips it and finds the union empty.",
        data=True,
    ),
    Rule(
        "enum-value-removed",
        "enum value removed",
        _B,
        _S,
        "An old writer may still send the value; the new reader gets a number its enum does not declare "
        "(Apache Java reads null, Python a bare int).",
        data=True,
    ),
    Rule(
        "enum-value-added",
        "enum value added",
        _S,
        _B,
        "A new writer may send the new value; an old reader gets a number its enum does not declare "
        "(Apache Java reads null, Python a bare int). Safe only where old readers never receive it.",
        data=True,
    ),
    Rule(
        "enum-value-changed",
        "enum value renumbered",
        _B,
        _B,
        "Enums travel as numbers: the same name with another number is read as another value (or as an "
        "undeclared one).",
        data=True,
    ),
    Rule(
        "enum-value-renamed",
        "enum value renamed (same number)",
        _B,
        _B,
        "Enums travel as numbers, so the number arrives and is read under its new name: a pure rename is "
        "safe on the wire, but simdb cannot tell it from giving the number to a new meaning.",
        data=True,
    ),
)

RULES: Mapping[str, Rule] = MappingProxyType({r.id: r for r in _RULE_LIST})
"""Every rule by id, in the order of the docs table."""

_PAIRS = (
    ("service-removed", "service-added"),
    ("extends-removed", "extends-added"),
    ("method-removed", "method-added"),
    ("oneway-added", "oneway-removed"),
    ("return-added", "return-removed"),
    ("exception-added", "exception-removed"),
    ("field-added-optional", "field-removed-optional"),
    ("field-added-required", "field-removed-required"),
    ("required-to-optional", "optional-to-required"),
    ("union-field-added", "union-field-removed"),
    ("enum-value-added", "enum-value-removed"),
)
MIRRORS: Mapping[str, str] = MappingProxyType(
    {**{r: r for r in RULES}, **dict(_PAIRS), **{b: a for a, b in _PAIRS}}
)
"""The rule a change falls under when the old and the new IDL are swapped (itself for most)."""


def rule(rule_id: str) -> Rule:
    """The rule called ``rule_id`` (``KeyError`` naming the known ids otherwise)."""
    try:
        return RULES[rule_id]
    except KeyError:
        raise KeyError(f"no compat rule {rule_id!r} (rules: {', '.join(RULES)})") from None


def rules_markdown() -> str:
    """The rules table in Markdown, as ``docs/thrift-compat.md`` shows it."""
    lines = [
        "| rule | change | old clients | old servers | reason |",
        "|---|---|---|---|---|",
    ]
    for r in RULES.values():
        title = f"{r.title} (in a request; swapped in a reply)" if r.data else r.title
        lines.append(f"| `{r.id}` | {title} | {r.old_clients} | {r.old_servers} | {r.reason} |")
    return "\n".join(lines) + "\n"
