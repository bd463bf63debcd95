"""Direct paths for the hot commands, straight on fakeredis's data structures.

fakeredis's generic dispatch costs several microseconds per command (signature objects,
argument conversion, ``CommandItem`` wrappers, watch and notification bookkeeping). These
functions handle the plain forms of the hottest commands directly. Each returns the encoded
reply, or ``None`` to hand the command to fakeredis unchanged: anything unusual (an option,
an expired key, a wrong type, a bad number, a watched database, a subscriber that could want
a keyspace event, a blocked client) takes the general path, so errors and edge cases keep
fakeredis's exact semantics. The data layout used here (``Database._dict`` of ``Item``;
``bytes``, ``list``, ``Hash``, ``ExpiringMembersSet``, ``ZSet``) is fakeredis 2.40.0's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from simdb.redis.fakeredis_compat import ExpiringMembersSet, Float, Hash, Item, SimpleError, ZSet

if TYPE_CHECKING:
    from simdb.redis.engine import Session

FastPath = Callable[["Session", list[bytes]], bytes | None]

_OK = b"+OK\r\n"
_MIN, _MAX = -(2**63), 2**63 - 1


def _int(raw: bytes) -> int | None:
    """Redis's strict integer parsing (no spaces, no '+', no leading zeros)."""
    if not raw or len(raw) > 20:
        return None
    try:
        value = int(raw)
    except ValueError:
        return None
    if b"%d" % value != raw or not _MIN <= value <= _MAX:
        return None
    return value


def _live(s: Session, key: bytes) -> tuple[dict[bytes, Item], Item | None] | None:
    """The db dict and the item at ``key``; ``None`` when the item has expired (slow path)."""
    d = s.sock._db._dict
    item = d.get(key)
    if item is not None and item.expireat is not None and item.expireat < time.time():
        return None
    return d, item


def _writable(s: Session) -> bool:
    return not s.sock._db._watches and s.engine.writes_fast()


def ping(s: Session, argv: list[bytes]) -> bytes | None:
    if len(argv) == 1:
        return b"+PONG\r\n"
    return None


def get(s: Session, argv: list[bytes]) -> bytes | None:
    if len(argv) != 2:
        return None
    found = _live(s, argv[1])
    if found is None:
        return None
    item = found[1]
    if item is None:
        return s.null
    value = item.value
    if type(value) is not bytes:
        return None
    return b"$%d\r\n%s\r\n" % (len(value), value)


def set_(s: Session, argv: list[bytes]) -> bytes | None:
    if len(argv) != 3 or not _writable(s):
        return None
    d = s.sock._db._dict
    item = d.get(argv[1])
    if item is None:
        d[argv[1]] = Item(argv[2])
    else:
        item.value = argv[2]
        item.expireat = None
    return _OK


def _incr(s: Session, key: bytes, delta: int) -> bytes | None:
    if not _writable(s):
        return None
    found = _live(s, key)
    if found is None:
        return None
    d, item = found
    if item is None:
        new = delta
    else:
        if type(item.value) is not bytes:
            return None
        old = _int(item.value)
        if old is None:
            return None
        new = old + delta
    if not _MIN <= new <= _MAX:
        return None
    if item is None:
        d[key] = Item(b"%d" % new)
    else:
        item.value = b"%d" % new
    return b":%d\r\n" % new


def incr(s: Session, argv: list[bytes]) -> bytes | None:
    return _incr(s, argv[1], 1) if len(argv) == 2 else None


def decr(s: Session, argv: list[bytes]) -> bytes | None:
    return _incr(s, argv[1], -1) if len(argv) == 2 else None


def incrby(s: Session, argv: list[bytes]) -> bytes | None:
    if len(argv) != 3:
        return None
    amount = _int(argv[2])
    return None if amount is None else _incr(s, argv[1], amount)


def decrby(s: Session, argv: list[bytes]) -> bytes | None:
    if len(argv) != 3:
        return None
    amount = _int(argv[2])
    return None if amount is None or amount == _MIN else _incr(s, argv[1], -amount)


def _container(s: Session, key: bytes, kind: type) -> object | None:
    """The live container of ``kind`` at ``key``, created if missing; ``None`` for the slow path."""
    found = _live(s, key)
    if found is None:
        return None
    d, item = found
    if item is None:
        created: object = kind()
        d[key] = Item(created)
        return created
    existing: object = item.value
    if type(existing) is not kind:
        return None
    return existing


def lpush(s: Session, argv: list[bytes]) -> bytes | None:
    if len(argv) < 3 or not _writable(s):
        return None
    lst = _container(s, argv[1], list)
    if lst is None:
        return None
    assert isinstance(lst, list)
    # A head insert moves the whole list: a pipeline of LPUSHes to one key would cost O(n) each.
    # Consecutive pushes collect here and go in at once (RedisEngine.flush_heads), before anything
    # else runs and at the end of each batch, so no command ever sees the list without them.
    pending = s.engine.head_pending
    if pending is None or pending[0] is not lst:
        s.engine.flush_heads()
        pending = s.engine.head_pending = (lst, [])
    pending[1].extend(argv[2:])
    return b":%d\r\n" % (len(lst) + len(pending[1]))


def rpush(s: Session, argv: list[bytes]) -> bytes | None:
    if len(argv) < 3 or not _writable(s):
        return None
    lst = _container(s, argv[1], list)
    if lst is None:
        return None
    assert isinstance(lst, list)
    lst.extend(argv[2:])
    return b":%d\r\n" % len(lst)


def hset(s: Session, argv: list[bytes]) -> bytes | None:
    if len(argv) < 4 or len(argv) % 2 or not _writable(s):
        return None
    h = _container(s, argv[1], Hash)
    if h is None:
        return None
    assert isinstance(h, Hash)
    before = len(h)
    h.update(dict(zip(argv[2::2], argv[3::2], strict=True)), clear_expiration=True)
    after = len(h)
    s.engine.objects.grew(s.sock._db_num, argv[1], h, after, argv[2:], "hash")
    return b":%d\r\n" % (after - before)


def hget(s: Session, argv: list[bytes]) -> bytes | None:
    if len(argv) != 3:
        return None
    found = _live(s, argv[1])
    if found is None:
        return None
    item = found[1]
    if item is None:
        return s.null
    h = item.value
    if type(h) is not Hash:
        return None
    value = h.get(argv[2])
    if value is None:
        return s.null
    return b"$%d\r\n%s\r\n" % (len(value), value)


def sadd(s: Session, argv: list[bytes]) -> bytes | None:
    if len(argv) < 3 or not _writable(s):
        return None
    members = _container(s, argv[1], ExpiringMembersSet)
    if members is None:
        return None
    assert isinstance(members, ExpiringMembersSet)
    before = len(members)
    members.update(argv[2:])
    after = len(members)
    s.engine.objects.grew(s.sock._db_num, argv[1], members, after, argv[2:], "set")
    return b":%d\r\n" % (after - before)


_ZADD_OPTIONS = frozenset([b"NX", b"XX", b"GT", b"LT", b"CH", b"INCR"])


def zadd_precheck(argv: list[bytes]) -> str | None:
    """Redis's ZADD argument checks, in Redis's order, all before the key is looked at.

    Returns the error text, or ``None`` when the arguments are valid. fakeredis checks the key's
    type first, so ``ZADD str nan m`` would say WRONGTYPE where Redis says the score is not a float;
    the engine runs this check before fakeredis too (see ``engine._Socket``).
    """
    i = 2
    flags: set[bytes] = set()
    while i < len(argv) and argv[i].upper() in _ZADD_OPTIONS:
        flags.add(argv[i].upper())
        i += 1
    elements = len(argv) - i
    if elements == 0 or elements % 2:
        return "ERR syntax error"
    if {b"NX", b"XX"} <= flags:
        return "ERR XX and NX options at the same time are not compatible"
    if len(flags & {b"GT", b"LT", b"NX"}) > 1:
        return "ERR GT, LT, and/or NX options at the same time are not compatible"
    if b"INCR" in flags and elements > 2:
        return "ERR INCR option supports a single increment-element pair"
    try:
        for j in range(i, len(argv), 2):
            Float.decode(argv[j])
    except SimpleError:
        return "ERR value is not a valid float"
    return None


def _checked(argv: list[bytes]) -> bytes | None:
    """The precheck's error as a reply, or ``None`` to let fakeredis run the command."""
    text = zadd_precheck(argv)
    return None if text is None else b"-" + text.encode() + b"\r\n"


def zadd(s: Session, argv: list[bytes]) -> bytes | None:
    if len(argv) < 3:
        return None
    if argv[2].upper() in _ZADD_OPTIONS or len(argv) < 4 or len(argv) % 2 or not _writable(s):
        return _checked(argv)  # NX/XX/GT/LT/CH/INCR or odd arguments: check as Redis does, then fakeredis
    pairs = []
    try:
        for i in range(2, len(argv), 2):
            pairs.append((Float.decode(argv[i]), argv[i + 1]))
    except SimpleError:
        # Redis parses every score before it looks at the key (fakeredis checks the type first).
        return b"-ERR value is not a valid float\r\n"
    z = _container(s, argv[1], ZSet)
    if z is None:
        return None
    assert isinstance(z, ZSet)
    added = 0
    bylex = z._bylex
    for score, member in pairs:
        if member not in bylex:
            added += 1
        z.add(member, score)
    s.engine.objects.grew(s.sock._db_num, argv[1], z, len(bylex), argv[3::2], "zset")
    return b":%d\r\n" % added


def mget(s: Session, argv: list[bytes]) -> bytes | None:
    if len(argv) < 2:
        return None
    d = s.sock._db._dict
    now = time.time()
    out = [b"*%d\r\n" % (len(argv) - 1)]
    null = s.null
    for key in argv[1:]:
        item = d.get(key)
        if item is None:
            out.append(null)
            continue
        if item.expireat is not None and item.expireat < now:
            return None
        value = item.value
        if type(value) is bytes:
            out.append(b"$%d\r\n%s\r\n" % (len(value), value))
        else:
            out.append(null)
    return b"".join(out)


def mset(s: Session, argv: list[bytes]) -> bytes | None:
    if len(argv) < 3 or len(argv) % 2 == 0 or not _writable(s):
        return None
    d = s.sock._db._dict
    for i in range(1, len(argv), 2):
        item = d.get(argv[i])
        if item is None:
            d[argv[i]] = Item(argv[i + 1])
        else:
            item.value = argv[i + 1]
            item.expireat = None
    return _OK


def _both_cases(table: dict[bytes, FastPath]) -> dict[bytes, FastPath]:
    out: dict[bytes, FastPath] = {}
    for name, fn in table.items():
        out[name.lower()] = fn
        out[name.upper()] = fn
    return out


COMMANDS: dict[bytes, FastPath] = _both_cases(
    {
        b"ping": ping,
        b"get": get,
        b"set": set_,
        b"incr": incr,
        b"decr": decr,
        b"incrby": incrby,
        b"decrby": decrby,
        b"lpush": lpush,
        b"rpush": rpush,
        b"hset": hset,
        b"hget": hget,
        b"sadd": sadd,
        b"zadd": zadd,
        b"mget": mget,
        b"mset": mset,
    }
)
"""Fast paths by command name as clients send it (lower or upper case; others take the slow path)."""
