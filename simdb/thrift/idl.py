"""Load Thrift IDL at runtime into a thriftpy2 module.

:func:`load_idl` wraps thriftpy2's parser (pinned at 0.7.1; this module reaches
into ``thriftpy2.parser.parser``) and adds what simdb needs on top of it:

* IDL that the Apache compiler accepts but thriftpy2 rejects is rewritten
  before parsing, keeping every line number intact (see :func:`preprocess`):
  annotations on ``namespace`` lines, ``&`` reference qualifiers on fields,
  signed hexadecimal constants (``-0x10``), a ``,`` separator after a
  ``typedef`` or ``const``, and names thriftpy2 reserves for other languages
  (``next``, ``end``, ...; only Python keywords and ``self`` stay refused).
* The ``uuid`` type (Apache Thrift 0.19+) is parsed as a placeholder struct,
  then every type descriptor naming it becomes :data:`~simdb.thrift.pywire.UUID`
  and every struct holding one is marked for simdb's own codec
  (:mod:`simdb.thrift.pywire`), since thriftpy2's codecs cannot read or write it.
  A uuid constant is written as its string (``"6ba7b810-9dad-..."``).
* Every error is an :class:`~simdb.errors.IdlError` of the form
  ``<file>:<line>: <problem>``; never a parser traceback.
* Each call gets a fresh module (and fresh modules for its includes), so loading
  the same file twice (``--watch`` reloads) never returns a stale cached module,
  and two different ``types.thrift`` in two directories never collide.
"""

from __future__ import annotations

import io
import keyword
import os
import re
import threading
import types
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from thriftpy2.parser.exc import ThriftParserError

from simdb.errors import IdlError
from simdb.thrift.pywire import UUID, UUID_MARKER, needs_own_codec
from simdb.thrift.thriftpy2_compat import build_parser, parse_lock, patched_parse

__all__ = ["is_union", "iter_modules", "load_idl", "preprocess"]

# thriftpy2 refuses ~100 words reserved in some target language (``next``, ``end``, ...) that the Apache
# compiler accepts; only Python keywords (and ``self``) truly break the classes thriftpy2 generates.
_PYTHON_RESERVED: tuple[str, ...] = (*keyword.kwlist, "self")

# Serialises load_idl: the parser's module globals are swapped while it runs.
_LOAD_LOCK = threading.Lock()

# thriftpy2 builds PLY's LALR tables anew for every file it parses (~0.1 s each); the tables only
# depend on the grammar, so simdb builds them once and hands the parser to every parse. PLY keeps a
# parse's state in locals, so the nested parses of includes can share it (lexers stay per file).
_PARSER: Any = None


def _parser() -> Any:
    global _PARSER
    if _PARSER is None:
        _PARSER = build_parser()
    return _PARSER


_TOKEN_RE = re.compile(
    r"""
    (?P<nl>\n)
  | (?P<ws>[ \t\r\f\v]+)
  | (?P<linecomment>(?://|\#)[^\n]*)
  | (?P<blockcomment>/\*.*?(?:\*/|\Z))
  | (?P<literal>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<hex>[+-]0[xX][0-9A-Fa-f]+)
  | (?P<number>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|0[xX][0-9A-Fa-f]+)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<punct>.)
    """,
    re.VERBOSE | re.DOTALL,
)

_DEFINITION_KEYWORDS = frozenset(
    {
        "include",
        "cpp_include",
        "namespace",
        "typedef",
        "const",
        "enum",
        "senum",
        "struct",
        "union",
        "exception",
        "service",
    }
)
_HEADERS = frozenset({"include", "cpp_include", "namespace"})
# Words after which an identifier is a type, not a name.
_TYPE_PREFIXES = frozenset({"required", "optional", "typedef", "const", "oneway", "extends"})
_OPEN = {"(": ")", "<": ">", "{": "}", "[": "]"}
_CLOSE = frozenset(_OPEN.values())


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    start: int
    end: int
    line: int


def _tokens(text: str) -> Iterator[_Tok]:
    line = 1
    for m in _TOKEN_RE.finditer(text):
        kind = m.lastgroup or "punct"
        value = m.group()
        if kind not in ("nl", "ws", "linecomment", "blockcomment"):
            yield _Tok(kind, value, m.start(), m.end(), line)
        line += value.count("\n")


def _blank(text: str) -> str:
    """Same length and newlines, everything else a space."""
    return "".join(c if c == "\n" else " " for c in text)


def preprocess(text: str, filename: str = "<idl>") -> str:
    """Rewrite Apache-accepted constructs thriftpy2 rejects; line numbers stay the same.

    ``uuid`` becomes a placeholder struct (resolved by :func:`load_idl`).
    """
    toks = list(_tokens(text))
    edits: list[tuple[int, int, str]] = []
    depth_angle = 0
    i = 0
    n = len(toks)
    while i < n:
        tok = toks[i]
        nxt = toks[i + 1] if i + 1 < n else None
        if tok.kind == "punct":
            if tok.text == "<":
                depth_angle += 1
            elif tok.text == ">":
                depth_angle = max(0, depth_angle - 1)
            elif tok.text == "&":
                # C++ reference qualifier (`1: optional Node &next`): no meaning on the wire.
                edits.append((tok.start, tok.end, " "))
        elif tok.kind == "hex":
            sign = -1 if tok.text[0] == "-" else 1
            edits.append((tok.start, tok.end, str(sign * int(tok.text[1:], 16))))
        elif tok.kind == "ident":
            prev = toks[i - 1] if i > 0 else None
            named = prev is not None and (
                prev.text == ">" or (prev.kind == "ident" and prev.text not in _TYPE_PREFIXES)
            )
            if (
                tok.text == "uuid"
                and not named
                and nxt is not None
                and (nxt.kind == "ident" or (depth_angle > 0 and nxt.text in (",", ">")))
            ):
                edits.append((tok.start, tok.end, UUID_MARKER))
            if tok.text in _DEFINITION_KEYWORDS - _HEADERS and (prev is None or prev.text != "."):
                defined = _defined_name(toks, i)
                if defined is not None and "." in defined.text:
                    raise IdlError(
                        f"{filename}:{defined.line}: a definition name cannot contain '.': {defined.text!r}"
                    )
            if tok.text == "namespace":
                j = i + 1
                # namespace <scope> <name> (annotations)
                if j + 2 < n and toks[j + 2].text == "(":
                    k = _matching(toks, j + 2)
                    if k is None:
                        raise IdlError(f"{filename}:{tok.line}: unclosed '(' in namespace annotations")
                    start, end = toks[j + 2].start, toks[k].end
                    edits.append((start, end, _blank(text[start:end])))
                    i = k + 1
                    continue
            if tok.text in ("typedef", "const"):
                k = _definition_end(toks, i + 1)
                if k is not None and toks[k].text == ",":
                    edits.append((toks[k].start, toks[k].end, ";"))
        i += 1
    if not edits:
        return text
    if any(repl == UUID_MARKER for _s, _e, repl in edits):
        # Declare the placeholder before the first definition (after include/namespace headers), on the
        # same line, so line numbers stay and every use of uuid, constants too, comes after it.
        first = next(
            (t for t in toks if t.kind == "ident" and t.text in _DEFINITION_KEYWORDS - _HEADERS), None
        )
        at = first.start if first is not None else len(text)
        edits.append((at, at, f"struct {UUID_MARKER} {{}} "))
    out: list[str] = []
    pos = 0
    for start, end, repl in sorted(edits):
        out.append(text[pos:start])
        out.append(repl)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _matching(toks: list[_Tok], open_index: int) -> int | None:
    depth = 0
    for k in range(open_index, len(toks)):
        t = toks[k].text
        if toks[k].kind != "punct":
            continue
        if t in _OPEN:
            depth += 1
        elif t in _CLOSE:
            depth -= 1
            if depth == 0:
                return k
    return None


def _defined_name(toks: list[_Tok], i: int) -> _Tok | None:
    """The name a definition starting with keyword ``toks[i]`` defines (a best effort, for checks)."""
    if toks[i].text not in ("typedef", "const"):
        return toks[i + 1] if i + 1 < len(toks) and toks[i + 1].kind == "ident" else None
    depth = 0
    last: _Tok | None = None
    for k in range(i + 1, len(toks)):
        tok = toks[k]
        if tok.kind == "punct":
            if tok.text in _OPEN:
                depth += 1
            elif tok.text in _CLOSE:
                depth -= 1
            elif depth == 0 and tok.text in ("=", ",", ";"):
                return last
        elif depth == 0 and tok.kind == "ident":
            if tok.text in _DEFINITION_KEYWORDS:
                return last
            last = tok
    return last


def _definition_end(toks: list[_Tok], start: int) -> int | None:
    """Index of the ``,``/``;`` ending a typedef/const at bracket depth 0, if any."""
    depth = 0
    for k in range(start, len(toks)):
        tok = toks[k]
        if tok.kind == "punct":
            if tok.text in _OPEN:
                depth += 1
            elif tok.text in _CLOSE:
                depth -= 1
            elif depth == 0 and tok.text in (",", ";"):
                return k
        elif depth == 0 and tok.kind == "ident" and tok.text in _DEFINITION_KEYWORDS:
            return None
    return None


# --- loading ---------------------------------------------------------------------------------------------


class _Loader:
    """State of one :func:`load_idl` call: preprocessed texts and the file stack."""

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}
        self.stack: list[str] = []

    def open(self, path: Any, *args: Any, **kwargs: Any) -> io.StringIO:
        name = os.fspath(path)
        if name not in self.texts:
            try:
                raw = Path(name).read_bytes().decode("utf-8")
            except UnicodeDecodeError as exc:
                raise IdlError(f"{name}: not UTF-8 text (byte {exc.start})") from exc
            except OSError as exc:
                raise IdlError(f"{name}: cannot read: {exc.strerror or exc}") from exc
            self.texts[name] = preprocess(raw, name)
        return io.StringIO(self.texts[name])

    def wrap_parse(self, real_parse: Callable[..., types.ModuleType]) -> Callable[..., types.ModuleType]:
        def parse(path: str, *args: Any, **kwargs: Any) -> types.ModuleType:
            if not args and kwargs.get("parser") is None:
                kwargs["parser"] = _parser()
            self.stack.append(path)
            try:
                return real_parse(path, *args, **kwargs)
            except IdlError:
                raise
            except ThriftParserError as exc:
                raise IdlError(self.describe(path, str(exc))) from None
            except RecursionError:
                raise IdlError(f"{path}: definitions nest too deeply to load") from None
            except (AttributeError, KeyError, TypeError, ValueError, IndexError, AssertionError) as exc:
                raise IdlError(f"{path}: cannot load IDL: {type(exc).__name__}: {exc}") from None
            finally:
                self.stack.pop()

        return parse

    def describe(self, path: str, message: str) -> str:
        """Turn a thriftpy2 message into ``file:line: problem``."""
        m = re.match(r"Grammar error (.*) at line (\d+) of the file '(.*)'$", message)
        if m:
            return f"{m.group(3)}:{m.group(2)}: syntax error near {m.group(1)}"
        if message.startswith("Grammar error at EOF"):
            return f"{path}: syntax error at end of file (unclosed block?)"
        m = re.search(r"\bat line (\d+)", message)
        if m:
            line = int(m.group(1))
            problem = re.sub(r",? at line \d+", "", message)
            problem = re.sub(r"^No type found: '(.*)'$", r"unknown type '\1'", problem)
            problem = re.sub(
                r"^Cannot use reserved language keyword: '(.*)'$",
                r"'\1' is a Python keyword, which thriftpy2 cannot use as a name; rename it",
                problem,
            )
            return f"{self._file_for(path, line, problem)}:{line}: {problem}"
        m = re.match(r"Couldn't include thrift (.*) in any directories provided", message)
        if m:
            return (
                f"{path}:{self._line_of(path, m.group(1))}: cannot find include {m.group(1)!r} "
                "next to the file or in any include directory"
            )
        m = re.match(r"Dead including on (.*)", message)
        if m:
            includer = self.stack[-2] if len(self.stack) > 1 else path
            chain = " -> ".join([*self.stack[:-1], path])
            return f"{includer}:{self._line_of(includer, Path(path).name)}: circular include ({chain})"
        m = re.match(r"Can't find service '(.*)' for service '(.*)' to extend", message)
        if m:
            return (
                f"{path}:{self._line_of(path, m.group(2))}: service {m.group(2)!r} extends "
                f"unknown service {m.group(1)!r}"
            )
        m = re.search(r"'([^']+)'", message)
        if m:  # e.g. "'S' type is already defined": point at the last line naming it
            name = m.group(1).rsplit(":", 1)[-1]
            last = self._last_line_naming(path, name)
            if last is not None:
                return f"{path}:{last}: {message}"
        return f"{path}: {message}"

    def _last_line_naming(self, path: str, name: str) -> int | None:
        pattern = re.compile(rf"(?<![\w.]){re.escape(name)}(?![\w])")
        found = None
        for number, line in enumerate(self.texts.get(path, "").splitlines(), start=1):
            if pattern.search(line):
                found = number
        return found

    def _line_of(self, path: str, needle: str) -> int:
        for number, line in enumerate(self.texts.get(path, "").splitlines(), start=1):
            if needle in line:
                return number
        return 1

    def _file_for(self, path: str, line: int, problem: str) -> str:
        """The file a line-only message is about: the innermost one whose line mentions the name."""
        m = re.search(r"'([^']+)'", problem)
        needle = m.group(1) if m else None
        candidates = [path, *reversed(list(self.texts))]
        for name in candidates:
            lines = self.texts.get(name, "").splitlines()
            if needle is not None and 0 < line <= len(lines) and needle in lines[line - 1]:
                return name
        return path


def load_idl(path: Path | str, include_dirs: Sequence[Path | str] = ()) -> types.ModuleType:
    """Parse ``path`` (and its includes) into a fresh thriftpy2 module.

    Includes are looked up next to the including file, then in ``include_dirs``
    in order. Raises :class:`IdlError` naming file, line and construct.
    """
    file = Path(path)
    if not file.is_file():
        raise IdlError(f"{file}: no such IDL file")
    if file.suffix != ".thrift":
        raise IdlError(f"{file}: an IDL file name must end in .thrift")
    dirs = [os.fspath(d) for d in include_dirs]
    for d in dirs:
        if not Path(d).is_dir():
            raise IdlError(f"{d}: include directory does not exist")
    loader = _Loader()
    with _LOAD_LOCK, parse_lock(), patched_parse(loader.open, loader.wrap_parse, _PYTHON_RESERVED) as parse:
        module: types.ModuleType = parse(os.fspath(file), include_dirs=dirs)
    _mark_unions(module)
    _resolve_uuid(module)
    for cls in _payload_classes(module):
        if needs_own_codec(12, cls):
            setattr(cls, "__simdb_own_codec__", True)  # noqa: B010 - routed to simdb.thrift.pywire
    return module


def iter_modules(module: types.ModuleType) -> Iterator[types.ModuleType]:
    """``module`` and every module it includes, transitively, each once."""
    seen: set[int] = set()
    todo = [module]
    while todo:
        mod = todo.pop()
        if id(mod) in seen:
            continue
        seen.add(id(mod))
        yield mod
        meta = getattr(mod, "__thrift_meta__", {})
        todo.extend(meta.get("includes", ()))


def _resolve_uuid(module: types.ModuleType) -> None:
    """Replace the ``uuid`` placeholder struct by :data:`UUID` in every type descriptor."""
    markers: set[type] = set()
    for mod in iter_modules(module):
        marker = mod.__dict__.pop(UUID_MARKER, None)
        if marker is not None:
            markers.add(marker)
            structs = mod.__thrift_meta__.get("structs", [])
            structs[:] = [c for c in structs if c is not marker]
    if not markers:
        return

    def fix_spec(ttype: int, spec: Any) -> Any:
        if ttype in (15, 14):  # list, set: an element descriptor
            return fix(spec)
        if ttype == 13:  # map
            return (fix(spec[0]), fix(spec[1]))
        return spec

    def fix(desc: Any) -> Any:
        """An element descriptor (a ttype, or ``(ttype, spec)``) with the placeholder replaced."""
        if isinstance(desc, tuple) and len(desc) == 2:
            if desc[1] in markers:
                return UUID
            return (desc[0], fix_spec(*desc))
        return desc

    classes = list(_payload_classes(module))
    for cls in classes:
        spec: dict[int, tuple[Any, ...]] = getattr(cls, "thrift_spec")  # noqa: B009
        for fid, entry in list(spec.items()):
            if len(entry) == 4:
                if entry[2] in markers:
                    spec[fid] = (UUID, entry[1], entry[3])
                else:
                    spec[fid] = (entry[0], entry[1], fix_spec(entry[0], entry[2]), entry[3])
    for mod in iter_modules(module):
        for name, value in list(vars(mod).items()):
            if isinstance(value, tuple) and len(value) == 2 and not name.startswith("__"):
                setattr(mod, name, fix(value))  # a typedef of uuid (or of a container of it)


def _payload_classes(module: types.ModuleType) -> Iterator[type]:
    """Every struct, union and exception class, and every service's argument and result classes."""
    for mod in iter_modules(module):
        meta = getattr(mod, "__thrift_meta__", {})
        for kind in ("structs", "unions", "exceptions"):
            yield from meta.get(kind, ())
        for service in meta.get("services", ()):
            for value in vars(service).values():
                if isinstance(value, type) and hasattr(value, "thrift_spec"):
                    yield value


def _mark_unions(module: types.ModuleType) -> None:
    for mod in iter_modules(module):
        for cls in getattr(mod, "__thrift_meta__", {}).get("unions", ()):
            cls.__simdb_union__ = True


def is_union(cls: type) -> bool:
    """True if ``cls`` was declared with ``union`` (thriftpy2 makes unions plain structs)."""
    return bool(cls.__dict__.get("__simdb_union__", False))
