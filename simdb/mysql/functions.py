"""The one registry of SQL functions the MySQL fake supports, and their SQLite implementations.

Every function call in a statement is checked against :data:`REGISTRY` before the statement is
translated; a name that is not in it is refused with 1235 ("simdb fake does not support ...").
Each entry says how the call runs on SQLite: ``native`` (SQLite's own function has MySQL's
semantics for the argument types the fake accepts) or ``udf`` (a deterministic Python function
registered on every SQLite connection under ``simdb_<name>``). The coverage page lists the same
registry.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import random
import re
import threading
import time
import unicodedata
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

# Result type rules (see simdb.mysql.semantics): a fixed kind, or "arg0" (the first argument's),
# "merge" (the common type of all arguments), "numeric" (int for int arguments else the arg's).
INT, DEC, FLOAT, STR, BYTES, DATE, DATETIME, TIME, NULL, ANY = (
    "int",
    "dec",
    "float",
    "str",
    "bytes",
    "date",
    "datetime",
    "time",
    "null",
    "any",
)


@dataclass(frozen=True)
class FuncSpec:
    """One supported function: its category, arity, result type rule and implementation."""

    name: str
    category: str
    min_args: int
    max_args: int  # -1: any number
    returns: str
    impl: Callable[..., Any] | None = None  # None: SQLite's own function of the same name
    native: str | None = None  # SQLite's function name when it differs

    @property
    def sqlite_name(self) -> str:
        """The function name the translated SQL calls."""
        if self.impl is not None:
            return "simdb_" + self.name.lower()
        return self.native or self.name

    @property
    def kind(self) -> str:
        """``udf`` or ``native``."""
        return "udf" if self.impl is not None else "native"


class UdfError(Exception):
    """A function got arguments it cannot handle faithfully (reported as 1235), or raised
    a MariaDB error of its own (``code``, message as MariaDB words it)."""

    def __init__(self, message: str, code: int = 1235) -> None:
        super().__init__(message)
        self.code = code


class _Last(threading.local):
    error: str | None = None
    code: int = 1235


LAST_ERROR = _Last()
"""The construct the last failing UDF refused, per thread (SQLite only says a UDF raised)."""


def _guard(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        try:
            return fn(*args)
        except UdfError as exc:
            LAST_ERROR.error = str(exc)
            LAST_ERROR.code = exc.code
            raise
        except (ValueError, TypeError, OverflowError, ArithmeticError) as exc:
            LAST_ERROR.error = f"{getattr(fn, '__name__', 'function')} on these arguments ({exc})"
            LAST_ERROR.code = 1235
            raise

    return call


# --- value helpers -----------------------------------------------------------------------------


def to_number(v: Any) -> int | float | None:
    """MySQL's string-to-number conversion: the longest numeric prefix, else 0."""
    if v is None:
        return None
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int | float):
        return v
    if isinstance(v, bytes):
        v = v.decode("utf-8", "replace")
    s = str(v).lstrip(" \t\n")
    end = 0
    seen_digit = seen_dot = seen_e = False
    i = 0
    if i < len(s) and s[i] in "+-":
        i += 1
    while i < len(s):
        ch = s[i]
        if ch.isdigit():
            seen_digit = True
            end = i + 1
        elif ch == "." and not seen_dot and not seen_e:
            seen_dot = True
        elif ch in "eE" and seen_digit and not seen_e:
            j = i + 1
            if j < len(s) and s[j] in "+-":
                j += 1
            if j < len(s) and s[j].isdigit():
                seen_e = True
                i = j
                continue
            break
        else:
            break
        i += 1
    text = s[:end]
    if not seen_digit:
        return 0
    try:
        return float(text) if (seen_dot or seen_e) else int(text)
    except ValueError:
        return 0


def to_text(v: Any) -> str | None:
    """A value as MySQL would show it in a string context."""
    if v is None:
        return None
    if isinstance(v, bytes):
        return v.decode("utf-8", "surrogateescape")
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    return str(v)


def _ci(s: str) -> str:
    return s.upper()


def _dec(v: Any) -> Decimal:
    if isinstance(v, float):
        return Decimal(repr(v))
    if isinstance(v, int):
        return Decimal(v)
    n = to_number(v)
    return Decimal(repr(n)) if isinstance(n, float) else Decimal(n or 0)


def _num_out(d: Decimal) -> int | float:
    exponent = d.as_tuple().exponent
    return int(d) if isinstance(exponent, int) and exponent >= 0 else float(d)


# --- string functions --------------------------------------------------------------------------


def _length(s: Any) -> int | None:
    t = to_text(s) if not isinstance(s, bytes) else None
    if isinstance(s, bytes):
        return len(s)
    return None if t is None else len(t.encode("utf-8"))


def _char_length(s: Any) -> int | None:
    if isinstance(s, bytes):
        return len(s)
    t = to_text(s)
    return None if t is None else len(t)


def _substring(s: Any, pos: Any, length: Any = 0, *rest: Any) -> str | None:
    has_len = rest == () and length is not _NOARG
    t = to_text(s)
    if t is None or pos is None:
        return None
    p = int(to_number(pos) or 0)
    n = len(t)
    if p == 0 or abs(p) > n:
        return ""
    start = p - 1 if p > 0 else n + p
    if has_len:
        if length is None:
            return None
        ln = int(to_number(length) or 0)
        return t[start : start + ln] if ln > 0 else ""
    return t[start:]


_NOARG = object()


def _substring2(s: Any, pos: Any) -> str | None:
    return _substring(s, pos, _NOARG)


def _substr_any(*args: Any) -> str | None:
    if len(args) == 2:
        return _substring2(*args)
    return _substring(*args)


def _substring_index(s: Any, delim: Any, count: Any) -> str | None:
    t, d = to_text(s), to_text(delim)
    if t is None or d is None or count is None:
        return None
    c = int(to_number(count) or 0)
    if c == 0 or d == "":
        return ""
    parts = t.split(d)
    return d.join(parts[:c]) if c > 0 else d.join(parts[c:])


def _left(s: Any, n: Any) -> str | None:
    t = to_text(s)
    if t is None or n is None:
        return None
    k = int(to_number(n) or 0)
    return t[:k] if k > 0 else ""


def _right(s: Any, n: Any) -> str | None:
    t = to_text(s)
    if t is None or n is None:
        return None
    k = int(to_number(n) or 0)
    return t[-k:] if k > 0 else ""


def _case_map(t: str, upper: bool) -> str:
    """MariaDB maps case one character to one character (UPPER('ß') stays 'ß')."""
    if t.isascii():
        return t.upper() if upper else t.lower()
    out = []
    for ch in t:
        m = ch.upper() if upper else ch.lower()
        out.append(m if len(m) == 1 else ch)
    return "".join(out)


def _upper(s: Any) -> str | None:
    t = to_text(s)
    return None if t is None else _case_map(t, True)


def _lower(s: Any) -> str | None:
    t = to_text(s)
    return None if t is None else _case_map(t, False)


def _enum_member(v: Any, members_json: str) -> Any:
    if not isinstance(v, str):
        return v
    key = ci_key(v.rstrip(" "))
    for m in json.loads(members_json):
        if ci_key(m.rstrip(" ")) == key:
            return m
    return v


def _concat(*args: Any) -> str | None:
    parts = [to_text(a) for a in args]
    return None if any(p is None for p in parts) else "".join(p for p in parts if p is not None)


def _concat_ws(sep: Any, *args: Any) -> str | None:
    s = to_text(sep)
    if s is None:
        return None
    return s.join(t for t in (to_text(a) for a in args) if t is not None)


def _locate(sub: Any, s: Any, pos: Any = 1) -> int | None:
    a, b = to_text(sub), to_text(s)
    if a is None or b is None or pos is None:
        return None
    p = int(to_number(pos) or 0)
    if p < 1:
        return 0
    return _ci(b).find(_ci(a), p - 1) + 1


def _instr(s: Any, sub: Any) -> int | None:
    return _locate(sub, s)


def _hex(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, bytes):
        return v.hex().upper()
    if isinstance(v, int | float):
        n = int(_dec(v).quantize(Decimal(1), rounding=ROUND_HALF_UP)) if isinstance(v, float) else v
        return format(n if n >= 0 else n + (1 << 64), "X")
    return str(v).encode("utf-8").hex().upper()


def _unhex(v: Any) -> bytes | None:
    t = to_text(v)
    if t is None:
        return None
    try:
        return bytes.fromhex(t if len(t) % 2 == 0 else "0" + t)
    except ValueError:
        return None


def _repeat(s: Any, n: Any) -> str | None:
    t = to_text(s)
    if t is None or n is None:
        return None
    k = int(to_number(n) or 0)
    if k * len(t) > 1 << 20:
        raise UdfError("REPEAT results above 1 MB")
    return t * max(k, 0)


def _pad(left: bool) -> Callable[[Any, Any, Any], str | None]:
    def pad(s: Any, n: Any, fill: Any) -> str | None:
        t, f = to_text(s), to_text(fill)
        if t is None or n is None or f is None:
            return None
        k = int(to_number(n) or 0)
        if k < 0:
            return None
        if len(t) >= k:
            return t[:k]
        if not f:
            return None
        need = k - len(t)
        padding = (f * (need // len(f) + 1))[:need]
        return padding + t if left else t + padding

    return pad


def _reverse(s: Any) -> str | None:
    t = to_text(s)
    return None if t is None else t[::-1]


def _strcmp(a: Any, b: Any) -> int | None:
    x, y = to_text(a), to_text(b)
    if x is None or y is None:
        return None
    x, y = _ci(x), _ci(y)
    return (x > y) - (x < y)


def _find_in_set(s: Any, lst: Any) -> int | None:
    a, b = to_text(s), to_text(lst)
    if a is None or b is None:
        return None
    if "," in a:
        return 0
    for i, item in enumerate(b.split(",") if b else [], 1):
        if _ci(item) == _ci(a):
            return i
    return 0


def _space(n: Any) -> str | None:
    return None if n is None else " " * max(int(to_number(n) or 0), 0)


def _ascii(s: Any) -> int | None:
    if isinstance(s, bytes):
        return s[0] if s else 0
    t = to_text(s)
    if t is None:
        return None
    return t.encode("utf-8")[0] if t else 0


def _crc32(s: Any) -> int | None:
    if s is None:
        return None
    raw = s if isinstance(s, bytes) else (to_text(s) or "").encode("utf-8")
    return zlib.crc32(raw)


# --- numeric functions -------------------------------------------------------------------------


def _floor(v: Any) -> int | None:
    n = to_number(v)
    return None if n is None else math.floor(n)


def _ceil(v: Any) -> int | None:
    n = to_number(v)
    return None if n is None else math.ceil(n)


def _round(v: Any, d: Any = 0, exact: Any = 1) -> int | float | None:
    if v is None or d is None:
        return None
    places = int(to_number(d) or 0)
    if not exact:  # DOUBLE: rint semantics (half to even) on the binary value
        x = float(to_number(v) or 0)
        r = round(x, places)
        return float(r)
    q = Decimal(1).scaleb(-places)
    try:
        out = _dec(v).quantize(q, rounding=ROUND_HALF_UP) if places >= 0 else _dec(v)
        if places < 0:
            step = Decimal(10) ** (-places)
            out = (_dec(v) / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step
    except InvalidOperation:
        return None
    return int(out) if places <= 0 else float(out)


def _truncate(v: Any, d: Any) -> int | float | None:
    if v is None or d is None:
        return None
    places = int(to_number(d) or 0)
    if places >= 0:
        out = _dec(v).quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN)
        return int(out) if places == 0 else float(out)
    step = Decimal(10) ** (-places)
    return int((_dec(v) / step).to_integral_value(rounding=ROUND_DOWN) * step)


def _mod(a: Any, b: Any) -> int | float | None:
    x, y = to_number(a), to_number(b)
    if x is None or y is None or y == 0:
        return None
    if isinstance(x, int) and isinstance(y, int):
        return int(math.fmod(x, y)) if abs(x) < 1 << 53 else x - y * int(x / y)
    return _num_out(_dec(x) % _dec(y))


def _abs(v: Any) -> int | float | None:
    n = to_number(v)
    return None if n is None else abs(n)


def _sign(v: Any) -> int | None:
    n = to_number(v)
    return None if n is None else (n > 0) - (n < 0)


def _math1(fn: Callable[[float], float], domain: Callable[[float], bool]) -> Callable[[Any], float | None]:
    def f(v: Any) -> float | None:
        n = to_number(v)
        if n is None or not domain(float(n)):
            return None
        return fn(float(n))

    return f


def _pow(a: Any, b: Any) -> float | None:
    x, y = to_number(a), to_number(b)
    if x is None or y is None:
        return None
    try:
        return float(math.pow(x, y))
    except (ValueError, OverflowError):
        return None


def _log(*args: Any) -> float | None:
    nums = [to_number(a) for a in args]
    if any(n is None for n in nums):
        return None
    if len(nums) == 1:
        x = float(nums[0])  # type: ignore[arg-type]
        return math.log(x) if x > 0 else None
    b, x = float(nums[0]), float(nums[1])  # type: ignore[arg-type]
    return math.log(x) / math.log(b) if x > 0 and b > 0 and b != 1 else None


def _greatest_least(pick: Callable[..., Any]) -> Callable[..., Any]:
    def f(*args: Any) -> Any:
        if any(a is None for a in args):
            return None
        if all(isinstance(a, int | float) for a in args):
            return pick(args)
        if all(isinstance(a, str) for a in args):
            return pick(args, key=_ci)
        if any(isinstance(a, bytes) for a in args):
            raise UdfError("GREATEST/LEAST over binary strings")
        return pick([to_number(a) for a in args])

    return f


def mysql_eq(a: Any, b: Any) -> bool:
    """MySQL's ``=`` on two non-NULL values (numbers vs strings compare as numbers)."""
    if isinstance(a, str) and isinstance(b, str):
        return _ci(a.rstrip(" ")) == _ci(b.rstrip(" "))
    if isinstance(a, int | float) or isinstance(b, int | float):
        return to_number(a) == to_number(b)
    return bool(a == b)


def _nullif(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return a
    return None if mysql_eq(a, b) else a


def _cast_signed(v: Any) -> int | None:
    if v is None:
        return None
    if isinstance(v, float):
        return int(_dec(v).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    n = to_number(v)
    if isinstance(n, float):  # a string: MySQL takes the integer prefix
        n = to_number(str(v).strip().split(".")[0].split("e")[0].split("E")[0])
    return int(n or 0)


def _cast_unsigned(v: Any) -> int | None:
    n = _cast_signed(v)
    if n is None:
        return None
    out = n if n >= 0 else n + (1 << 64)
    if out >= 1 << 63:
        raise UdfError("CAST AS UNSIGNED results above 9223372036854775807")
    return out


def _cast_decimal(v: Any, scale: Any) -> int | float | None:
    if v is None:
        return None
    s = int(scale)
    out = _dec(v).quantize(Decimal(1).scaleb(-s), rounding=ROUND_HALF_UP)
    return int(out) if s == 0 else float(out)


def _cast_char(v: Any) -> str | None:
    return to_text(v)


def _unsigned_result(v: Any, text: str) -> Any:
    if isinstance(v, int | float) and v < 0:
        raise UdfError(f"BIGINT UNSIGNED value is out of range in '{text}'", 1690)
    return v


def _bitop(op: str, a: Any, b: Any) -> int | None:
    x, y = to_number(a), to_number(b)
    if x is None or y is None:
        return None
    if not isinstance(x, int) or not isinstance(y, int) or x < 0 or y < 0:
        raise UdfError(f"the {op} operator on negative or fractional values (unsigned 64-bit in MariaDB)")
    if op == "&":
        out = x & y
    elif op == "|":
        out = x | y
    elif op == "<<":
        out = (x << y) & ((1 << 64) - 1) if y < 64 else 0
    else:
        out = x >> y if y < 64 else 0
    if out >= 1 << 63:
        raise UdfError(f"{op} results above 9223372036854775807")
    return out


# --- date and time -----------------------------------------------------------------------------

_DT_FORMATS = ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")


def parse_temporal(v: Any) -> tuple[dt.datetime, bool] | None:
    """(value, has_time) of a DATE/DATETIME value or string; None when it is not one."""
    if v is None:
        return None
    if isinstance(v, bytes):
        v = v.decode("utf-8", "replace")
    if isinstance(v, int):
        text = str(v)
        if len(text) == 8:
            v = f"{text[:4]}-{text[4:6]}-{text[6:]}"
        elif len(text) == 14:
            v = f"{text[:4]}-{text[4:6]}-{text[6:8]} {text[8:10]}:{text[10:12]}:{text[12:]}"
        else:
            return None
    if not isinstance(v, str):
        return None
    s = v.strip().replace("T", " ")
    for fmt in _DT_FORMATS:
        try:
            return dt.datetime.strptime(s, fmt), fmt != "%Y-%m-%d"
        except ValueError:
            continue
    return None


def _fmt(d: dt.datetime, with_time: bool) -> str:
    if not with_time:
        return d.strftime("%Y-%m-%d")
    if d.microsecond:
        return d.strftime("%Y-%m-%d %H:%M:%S.%f")
    return d.strftime("%Y-%m-%d %H:%M:%S")


_UNITS = {"SECOND", "MINUTE", "HOUR", "DAY", "WEEK", "MONTH", "QUARTER", "YEAR"}


def _add_months(d: dt.datetime, months: int) -> dt.datetime:
    total = d.year * 12 + (d.month - 1) + months
    year, month = divmod(total, 12)
    month += 1
    if not 1 <= year <= 9999:
        raise OverflowError
    last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return d.replace(year=year, month=month, day=min(d.day, last))


_STORE_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d+)?)?$")


def store_temporal(v: Any, kind: str, where: str) -> Any:
    """:func:`_store_temporal` for callers outside SQLite (same errors)."""
    return _store_temporal(v, kind, where)


def _store_temporal(v: Any, kind: str, where: str) -> Any:
    """A value stored into a DATE/DATETIME column, in MariaDB's canonical text (1292 if invalid)."""
    if v is None:
        return None
    text = to_text(v) or ""
    if isinstance(v, int) and len(text) in (8, 14):
        text = f"{text[:4]}-{text[4:6]}-{text[6:8]}" + (
            f" {text[8:10]}:{text[10:12]}:{text[12:]}" if len(text) == 14 else ""
        )
    m = _STORE_DATE.match(text.strip()) if isinstance(v, str | int) else None
    bad = UdfError(f"Incorrect {kind} value: '{to_text(v)}' for column {where}", 1292)
    if m is None:
        raise bad
    y, mo, d = (int(g) for g in m.group(1, 2, 3))
    hh, mi, ss = (int(g) if g else 0 for g in m.group(4, 5, 6))
    if m.group(7) and kind == "datetime":
        raise UdfError("fractional seconds into a DATETIME column (MariaDB rounds them)")
    if (y, mo, d) == (0, 0, 0):
        out = dt.datetime(1, 1, 1)  # the zero date, allowed without NO_ZERO_DATE
        zero = True
    else:
        zero = False
        try:
            out = dt.datetime(y, mo, d, hh, mi, ss)
        except ValueError:
            raise bad from None
    if kind == "date":
        return "0000-00-00" if zero else out.strftime("%Y-%m-%d")
    return f"0000-00-00 {hh:02d}:{mi:02d}:{ss:02d}" if zero else out.strftime("%Y-%m-%d %H:%M:%S")


def _date_add(v: Any, n: Any, unit: Any, sign: Any = 1) -> str | None:
    parsed = parse_temporal(v)
    if parsed is None or n is None:
        return None
    d, with_time = parsed
    u = str(unit).upper()
    if u not in _UNITS:
        raise UdfError(f"INTERVAL unit {u}")
    amount = to_number(n)
    if amount is None:
        return None
    if isinstance(amount, float):
        if u in ("SECOND",):
            raise UdfError("fractional INTERVAL")
        amount = int(_dec(amount).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    k = int(amount) * int(sign)
    try:
        if u in ("MONTH", "QUARTER", "YEAR"):
            out = _add_months(d, k * {"MONTH": 1, "QUARTER": 3, "YEAR": 12}[u])
        else:
            secs = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400, "WEEK": 604800}[u]
            out = d + dt.timedelta(seconds=k * secs)
            with_time = with_time or secs < 86400
        if not 1 <= out.year <= 9999:
            return None
    except (OverflowError, ValueError):
        return None
    return _fmt(out, with_time)


def _date(v: Any) -> str | None:
    p = parse_temporal(v)
    return None if p is None else p[0].strftime("%Y-%m-%d")


def _part(attr: str) -> Callable[[Any], int | None]:
    def f(v: Any) -> int | None:
        p = parse_temporal(v)
        return None if p is None else int(getattr(p[0], attr))

    return f


def _datediff(a: Any, b: Any) -> int | None:
    x, y = parse_temporal(a), parse_temporal(b)
    if x is None or y is None:
        return None
    return (x[0].date() - y[0].date()).days


_EPOCH = dt.datetime(1970, 1, 1)


def _unix_timestamp(*args: Any) -> int | float | None:
    if not args:
        return int(time.time())
    p = parse_temporal(args[0])
    if p is None:
        return None
    secs = (p[0] - _EPOCH).total_seconds()
    if not secs.is_integer():
        raise UdfError("UNIX_TIMESTAMP of fractional seconds")
    return int(secs)


def _from_unixtime(n: Any) -> str | None:
    x = to_number(n)
    if x is None or x < 0:
        return None
    return _fmt(_EPOCH + dt.timedelta(seconds=int(x)), True)


_DATE_FORMAT = {
    "Y": "%Y",
    "y": "%y",
    "m": "%m",
    "d": "%d",
    "H": "%H",
    "i": "%M",
    "s": "%S",
    "S": "%S",
    "T": "%H:%M:%S",
    "M": "%B",
    "b": "%b",
    "W": "%A",
    "a": "%a",
    "j": "%j",
    "p": "%p",
    "%": "%%",
}


def _date_format(v: Any, f: Any) -> str | None:
    p = parse_temporal(v)
    fmt = to_text(f)
    if p is None or fmt is None:
        return None
    out = []
    i = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch == "%" and i + 1 < len(fmt):
            spec = fmt[i + 1]
            if spec == "e":
                out.append(str(p[0].day))
            elif spec == "c":
                out.append(str(p[0].month))
            elif spec in _DATE_FORMAT:
                out.append(p[0].strftime(_DATE_FORMAT[spec]))
            else:
                raise UdfError(f"DATE_FORMAT specifier %{spec}")
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _now() -> str:
    return dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")


def _curdate() -> str:
    return dt.date.today().isoformat()


# --- JSON --------------------------------------------------------------------------------------


def _json_path(path: str) -> list[str | int]:
    if not path.startswith("$"):
        raise UdfError(f"JSON path {path!r}")
    steps: list[str | int] = []
    i = 1
    while i < len(path):
        ch = path[i]
        if ch == ".":
            j = i + 1
            if j < len(path) and path[j] == '"':
                k = path.index('"', j + 1)
                steps.append(path[j + 1 : k])
                i = k + 1
                continue
            k = j
            while k < len(path) and (path[k].isalnum() or path[k] in "_$"):
                k += 1
            if k == j:
                raise UdfError(f"JSON path {path!r}")
            steps.append(path[j:k])
            i = k
        elif ch == "[":
            k = path.index("]", i)
            inner = path[i + 1 : k].strip()
            if not inner.isdigit():
                raise UdfError(f"JSON path {path!r}")
            steps.append(int(inner))
            i = k + 1
        else:
            raise UdfError(f"JSON path {path!r}")
    return steps


def json_dump(v: Any) -> str:
    """A JSON value as MariaDB prints one it built."""
    return json.dumps(v, ensure_ascii=False, separators=(", ", ": "))


def _json_load(doc: Any) -> Any:
    t = to_text(doc)
    if t is None:
        return _NOARG
    try:
        return json.loads(t)
    except ValueError:
        raise UdfError("JSON functions on invalid JSON") from None


def _json_extract(doc: Any, *paths: Any) -> str | None:
    data = _json_load(doc)
    if data is _NOARG or any(p is None for p in paths):
        return None
    found = []
    for p in paths:
        cur: Any = data
        ok = True
        for step in _json_path(str(p)):
            if (isinstance(step, int) and isinstance(cur, list) and step < len(cur)) or (
                isinstance(step, str) and isinstance(cur, dict) and step in cur
            ):
                cur = cur[step]  # type: ignore[index]
            else:
                ok = False
                break
        if ok:
            found.append(cur)
    if not found:
        return None
    if len(paths) > 1:
        return json_dump(found)
    return json_dump(found[0])


def _json_unquote(v: Any) -> str | None:
    t = to_text(v)
    if t is None:
        return None
    if len(t) >= 2 and t[0] == '"' and t[-1] == '"':
        try:
            return str(json.loads(t))
        except ValueError:
            return t
    return t


def _json_extract_text(doc: Any, path: Any) -> str | None:
    return _json_unquote(_json_extract(doc, path))


def _json_valid(v: Any) -> int | None:
    t = to_text(v)
    if t is None:
        return None
    try:
        json.loads(t)
    except ValueError:
        return 0
    return 1


def _json_length(doc: Any, *path: Any) -> int | None:
    if path:
        inner = _json_extract(doc, *path)
        if inner is None:
            return None
        doc = inner
    data = _json_load(doc)
    if data is _NOARG:
        return None
    return len(data) if isinstance(data, list | dict) else 1


def _json_type(doc: Any) -> str | None:
    data = _json_load(doc)
    if data is _NOARG:
        return None
    if isinstance(data, bool):
        return "BOOLEAN"
    if data is None:
        return "NULL"
    if isinstance(data, int):
        return "INTEGER"
    if isinstance(data, float):
        return "DOUBLE"
    if isinstance(data, str):
        return "STRING"
    return "ARRAY" if isinstance(data, list) else "OBJECT"


def _json_scalar(v: Any) -> Any:
    if isinstance(v, bytes):
        raise UdfError("JSON of binary strings")
    return v


def _json_array(*args: Any) -> str:
    return json_dump([_json_scalar(a) for a in args])


def _json_object(*args: Any) -> str:
    if len(args) % 2:
        raise UdfError("JSON_OBJECT with an odd number of arguments")
    out = {}
    for k, v in zip(args[::2], args[1::2], strict=True):
        if k is None:
            raise UdfError("JSON_OBJECT with a NULL key")
        out[to_text(k)] = _json_scalar(v)
    return json_dump(out)


# --- GROUP_CONCAT ------------------------------------------------------------------------------


class GroupConcat:
    """``simdb_group_concat(separator, distinct, directions, value, key1, ...)``: MySQL's
    GROUP_CONCAT with DISTINCT (case-insensitive), ORDER BY keys (``directions`` is a string of
    ``A``/``D``) and SEPARATOR. NULL values are skipped; the result is cut at 1024 bytes
    (group_concat_max_len) only by refusing longer results."""

    def __init__(self) -> None:
        self.items: list[tuple[Any, ...]] = []
        self.sep = ","
        self.distinct = False
        self.dirs = ""

    def step(self, sep: Any, distinct: Any, dirs: Any, value: Any, *keys: Any) -> None:
        self.sep, self.distinct, self.dirs = to_text(sep) or "", bool(distinct), str(dirs or "")
        if value is None:
            return
        self.items.append((to_text(value), *keys))

    def finalize(self) -> str | None:
        items = self.items
        if not items:
            return None
        if self.distinct:
            seen: set[str] = set()
            kept = []
            for it in items:
                k = _ci(str(it[0]))
                if k not in seen:
                    seen.add(k)
                    kept.append(it)
            items = kept
        for i in reversed(range(len(self.dirs))):
            desc = self.dirs[i] == "D"

            def key(it: tuple[Any, ...], i: int = i) -> tuple[int, Any]:
                v = it[1 + i]
                if v is None:
                    return (0, 0)
                if isinstance(v, str):
                    return (2, _ci(v))
                if isinstance(v, bytes):
                    return (3, v)
                return (1, v)

            items = sorted(items, key=key, reverse=desc)
        out = self.sep.join(str(it[0]) for it in items)
        if len(out.encode("utf-8")) > 1024:
            raise UdfError("GROUP_CONCAT results longer than group_concat_max_len (1024)")
        return out


# --- the registry ------------------------------------------------------------------------------


def _spec(
    name: str,
    category: str,
    args: tuple[int, int],
    returns: str,
    impl: Callable[..., Any] | None = None,
    native: str | None = None,
) -> FuncSpec:
    return FuncSpec(name, category, args[0], args[1], returns, impl, native)


_SPECS = [
    # aggregates (SQLite's own; GROUP_CONCAT is a Python aggregate)
    _spec("COUNT", "aggregate", (1, 1), INT),
    _spec("SUM", "aggregate", (1, 1), "sum"),
    _spec("AVG", "aggregate", (1, 1), "avg"),
    _spec("MIN", "aggregate", (1, 1), "arg0"),
    _spec("MAX", "aggregate", (1, 1), "arg0"),
    _spec("GROUP_CONCAT", "aggregate", (1, -1), STR),
    # control flow
    _spec("IF", "control flow", (3, 3), "merge12"),
    _spec("IFNULL", "control flow", (2, 2), "merge", native="COALESCE"),
    _spec("COALESCE", "control flow", (1, -1), "merge"),
    _spec("NULLIF", "control flow", (2, 2), "arg0", _nullif),
    # comparison
    _spec("GREATEST", "comparison", (2, -1), "merge", _greatest_least(max)),
    _spec("LEAST", "comparison", (2, -1), "merge", _greatest_least(min)),
    _spec("STRCMP", "comparison", (2, 2), INT, _strcmp),
    # strings
    _spec("CONCAT", "string", (1, -1), STR, _concat),
    _spec("CONCAT_WS", "string", (2, -1), STR, _concat_ws),
    _spec("LENGTH", "string", (1, 1), INT, _length),
    _spec("OCTET_LENGTH", "string", (1, 1), INT, _length),
    _spec("CHAR_LENGTH", "string", (1, 1), INT, _char_length),
    _spec("CHARACTER_LENGTH", "string", (1, 1), INT, _char_length),
    _spec("UPPER", "string", (1, 1), STR, _upper),
    _spec("UCASE", "string", (1, 1), STR, _upper),
    _spec("LOWER", "string", (1, 1), STR, _lower),
    _spec("LCASE", "string", (1, 1), STR, _lower),
    _spec("SUBSTRING", "string", (2, 3), STR, _substr_any),
    _spec("SUBSTR", "string", (2, 3), STR, _substr_any),
    _spec("MID", "string", (3, 3), STR, _substr_any),
    _spec("SUBSTRING_INDEX", "string", (3, 3), STR, _substring_index),
    _spec("LEFT", "string", (2, 2), STR, _left),
    _spec("RIGHT", "string", (2, 2), STR, _right),
    _spec("LOCATE", "string", (2, 3), INT, _locate),
    _spec("INSTR", "string", (2, 2), INT, _instr),
    _spec("REPLACE", "string", (3, 3), STR),
    _spec("TRIM", "string", (1, 1), STR),
    _spec("LTRIM", "string", (1, 1), STR, lambda s: None if s is None else (to_text(s) or "").lstrip(" ")),
    _spec("RTRIM", "string", (1, 1), STR, lambda s: None if s is None else (to_text(s) or "").rstrip(" ")),
    _spec("REVERSE", "string", (1, 1), STR, _reverse),
    _spec("REPEAT", "string", (2, 2), STR, _repeat),
    _spec("LPAD", "string", (3, 3), STR, _pad(True)),
    _spec("RPAD", "string", (3, 3), STR, _pad(False)),
    _spec("SPACE", "string", (1, 1), STR, _space),
    _spec("HEX", "string", (1, 1), STR, _hex),
    _spec("UNHEX", "string", (1, 1), BYTES, _unhex),
    _spec("ASCII", "string", (1, 1), INT, _ascii),
    _spec("FIND_IN_SET", "string", (2, 2), INT, _find_in_set),
    _spec("CRC32", "string", (1, 1), INT, _crc32),
    # numbers
    _spec("ABS", "numeric", (1, 1), "arg0", _abs),
    _spec("SIGN", "numeric", (1, 1), INT, _sign),
    _spec("FLOOR", "numeric", (1, 1), "intlike", _floor),
    _spec("CEIL", "numeric", (1, 1), "intlike", _ceil),
    _spec("CEILING", "numeric", (1, 1), "intlike", _ceil),
    _spec("ROUND", "numeric", (1, 2), "round", _round),
    _spec("TRUNCATE", "numeric", (2, 2), "round", _truncate),
    _spec("MOD", "numeric", (2, 2), "arith", _mod),
    _spec("POW", "numeric", (2, 2), FLOAT, _pow),
    _spec("POWER", "numeric", (2, 2), FLOAT, _pow),
    _spec("SQRT", "numeric", (1, 1), FLOAT, _math1(math.sqrt, lambda x: x >= 0)),
    _spec("EXP", "numeric", (1, 1), FLOAT, _math1(math.exp, lambda x: x < 709)),
    _spec("LN", "numeric", (1, 1), FLOAT, _math1(math.log, lambda x: x > 0)),
    _spec("LOG", "numeric", (1, 2), FLOAT, _log),
    _spec("LOG10", "numeric", (1, 1), FLOAT, _math1(math.log10, lambda x: x > 0)),
    _spec("LOG2", "numeric", (1, 1), FLOAT, _math1(math.log2, lambda x: x > 0)),
    _spec("PI", "numeric", (0, 0), FLOAT, lambda: math.pi),
    _spec("RAND", "numeric", (0, 0), FLOAT, random.random),
    # date and time
    _spec("NOW", "date and time", (0, 0), DATETIME, _now),
    _spec("SYSDATE", "date and time", (0, 0), DATETIME, _now),
    _spec("CURDATE", "date and time", (0, 0), DATE, _curdate),
    _spec("DATE_ADD", "date and time", (2, 2), "dateadd", _date_add),
    _spec("DATE_SUB", "date and time", (2, 2), "dateadd", _date_add),
    _spec("ADDDATE", "date and time", (2, 2), "dateadd", _date_add),
    _spec("SUBDATE", "date and time", (2, 2), "dateadd", _date_add),
    _spec("DATE", "date and time", (1, 1), DATE, _date),
    _spec("YEAR", "date and time", (1, 1), INT, _part("year")),
    _spec("MONTH", "date and time", (1, 1), INT, _part("month")),
    _spec("DAY", "date and time", (1, 1), INT, _part("day")),
    _spec("DAYOFMONTH", "date and time", (1, 1), INT, _part("day")),
    _spec("HOUR", "date and time", (1, 1), INT, _part("hour")),
    _spec("MINUTE", "date and time", (1, 1), INT, _part("minute")),
    _spec("SECOND", "date and time", (1, 1), INT, _part("second")),
    _spec("DATEDIFF", "date and time", (2, 2), INT, _datediff),
    _spec("UNIX_TIMESTAMP", "date and time", (0, 1), "unixts", _unix_timestamp),
    _spec("FROM_UNIXTIME", "date and time", (1, 1), DATETIME, _from_unixtime),
    _spec("DATE_FORMAT", "date and time", (2, 2), STR, _date_format),
    # JSON
    _spec("JSON_EXTRACT", "JSON", (2, -1), STR, _json_extract),
    _spec("JSON_UNQUOTE", "JSON", (1, 1), STR, _json_unquote),
    _spec("JSON_VALUE", "JSON", (2, 2), STR, _json_extract_text),
    _spec("JSON_VALID", "JSON", (1, 1), INT, _json_valid),
    _spec("JSON_LENGTH", "JSON", (1, 2), INT, _json_length),
    _spec("JSON_TYPE", "JSON", (1, 1), STR, _json_type),
    _spec("JSON_ARRAY", "JSON", (0, -1), STR, _json_array),
    _spec("JSON_OBJECT", "JSON", (0, -1), STR, _json_object),
    # session (answered by the fake itself)
    _spec("LAST_INSERT_ID", "session", (0, 0), INT, native="LAST_INSERT_ID"),
]

REGISTRY: dict[str, FuncSpec] = {s.name: s for s in _SPECS}
"""Every function the fake supports, by MySQL name."""

# internal helpers the translation calls (not MySQL functions; not on the coverage page)
HELPERS: dict[str, tuple[int, Callable[..., Any]]] = {
    "simdb_cast_signed": (1, _cast_signed),
    "simdb_cast_unsigned": (1, _cast_unsigned),
    "simdb_cast_decimal": (2, _cast_decimal),
    "simdb_cast_char": (1, _cast_char),
    "simdb_json_extract_text": (2, _json_extract_text),
    "simdb_num": (1, to_number),
    "simdb_temporal": (3, _store_temporal),
    "simdb_unsigned": (2, _unsigned_result),
    "simdb_enum": (2, _enum_member),
    "simdb_bitop": (3, _bitop),
    "simdb_dec_text": (2, lambda v, s: None if v is None else f"{_dec(v):.{int(s)}f}"),
    "simdb_dt": (1, lambda v: (lambda p: v if p is None else _fmt(p[0], True))(parse_temporal(v))),
}


COLLATION = "simdb_ci"
"""The SQLite collation of text columns and string comparisons: utf8mb4_general_ci."""


@functools.lru_cache(maxsize=65536)
def ci_key(s: str) -> str:
    """utf8mb4_general_ci's sort key: case- and accent-insensitive, trailing spaces ignored
    (PAD SPACE), every character beyond the BMP equal to every other."""
    if s.isascii():
        return s.upper()
    out = []
    for ch in s:
        if ord(ch) > 0xFFFF:
            out.append("\ufffd")
        elif ch == "ß":
            out.append("S")
        else:
            out.append(unicodedata.normalize("NFD", ch)[0].upper()[:1])
    return "".join(out)


def _ci_collate(a: str, b: str) -> int:
    ka, kb = ci_key(a.rstrip(" ")), ci_key(b.rstrip(" "))
    return (ka > kb) - (ka < kb)


@functools.lru_cache(maxsize=4096)
def _like_regex(pattern: str, escape: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == escape and i + 1 < len(pattern):
            out.append(re.escape(ci_key(pattern[i + 1])))
            i += 2
            continue
        if ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        else:
            out.append(re.escape(ci_key(ch)))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def mysql_like(pattern: Any, value: Any, escape: Any = "\\") -> int | None:
    """``value LIKE pattern [ESCAPE escape]`` under utf8mb4_general_ci (no PAD SPACE in LIKE)."""
    if pattern is None or value is None:
        return None
    p, v = to_text(pattern) or "", to_text(value) or ""
    esc = to_text(escape) or ""
    if len(esc) > 1:
        raise UdfError("an ESCAPE of more than one character")
    return 1 if _like_regex(p, esc).fullmatch(ci_key(v)) else 0


def _bin_collate(a: str, b: str) -> int:
    x, y = a.rstrip(" "), b.rstrip(" ")
    return (x > y) - (x < y)


@functools.lru_cache(maxsize=4096)
def _like_bin_regex(pattern: str, escape: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == escape and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def mysql_like_bin(pattern: Any, value: Any, escape: Any = "\\") -> int | None:
    """``value LIKE pattern`` under utf8mb4_bin (code point by code point)."""
    if pattern is None or value is None:
        return None
    esc = to_text(escape) or ""
    if len(esc) > 1:
        raise UdfError("an ESCAPE of more than one character")
    return 1 if _like_bin_regex(to_text(pattern) or "", esc).fullmatch(to_text(value) or "") else 0


def install_collation(conn: Any) -> None:
    """Register :data:`COLLATION` and ``simdb_bin`` (utf8mb4_bin, PAD SPACE): every connection
    that writes or searches the fake's tables needs them."""
    conn.create_collation(COLLATION, _ci_collate)
    conn.create_collation("simdb_bin", _bin_collate)


def install(conn: Any) -> None:
    """Register every UDF and helper on a SQLite connection."""
    install_collation(conn)
    conn.create_function("like", 2, _guard(mysql_like), deterministic=True)
    conn.create_function("like", 3, _guard(mysql_like), deterministic=True)
    conn.create_function("simdb_like_bin", 3, _guard(mysql_like_bin), deterministic=True)
    for spec in _SPECS:
        if spec.impl is not None:
            volatile = spec.name in ("NOW", "SYSDATE", "CURDATE", "RAND", "UNIX_TIMESTAMP")
            conn.create_function(spec.sqlite_name, -1, _guard(spec.impl), deterministic=not volatile)
    for name, (nargs, fn) in HELPERS.items():
        conn.create_function(name, nargs, _guard(fn), deterministic=True)
    conn.create_aggregate("simdb_group_concat", -1, GroupConcat)
    # the names services call without translation (defaults in DDL, older plans)
    conn.create_function("NOW", 0, _now)
    conn.create_function("SYSDATE", 0, _now)
    conn.create_function("CURDATE", 0, _curdate)
    conn.create_function("UNIX_TIMESTAMP", 0, lambda: int(time.time()))
    conn.create_function("RAND", 0, random.random)


def by_category() -> dict[str, list[str]]:
    """Supported function names by category (for the coverage page)."""
    out: dict[str, list[str]] = {}
    for spec in _SPECS:
        out.setdefault(spec.category, []).append(spec.name)
    return out
