"""GEO commands on Redis's own geohash: 52-bit interleaved scores, Redis's earth, Redis's formats.

fakeredis stores a geo member's score as a geohash *string* over a ±90° latitude range, so
``ZSCORE`` of a geo member is garbage, positions come back off by metres and ``GEODIST`` prints
``166274.43400190416`` where Redis prints ``166274.1516``. Here the score is what Redis stores
(``geohash.c``: 26 steps per axis over latitude ±85.05112878°), positions decode to the cell's
centre as Redis does, distances use Redis's haversine (earth radius 6372797.560856 m) and are
printed with ``%.4f``, positions as ``%.17Lf`` with the zeros trimmed.

Searches (``GEORADIUS*``, ``GEOSEARCH*``) test every member against the same predicates Redis
applies. Without ``ASC``/``DESC``/``COUNT`` Redis returns members in the order it scans geohash
boxes, which it does not specify; the fake returns them by score.
"""

from __future__ import annotations

import math
from typing import Any

from simdb.redis.fakeredis_compat import CommandItem, Key, SimpleError, ZSet, command

LAT_MIN, LAT_MAX = -85.05112878, 85.05112878
LON_MIN, LON_MAX = -180.0, 180.0
STEP = 26
EARTH_RADIUS = 6372797.560856
UNITS = {b"m": 1.0, b"km": 1000.0, b"ft": 0.3048, b"mi": 1609.34}
_ALPHABET = "0123456789bcdefghjkmnpqrstuvwxyz"
_SYNTAX = "ERR syntax error"
_UNIT_ERROR = "ERR unsupported unit provided. please use M, KM, FT, MI"


def _spread(v: int) -> int:
    v &= 0xFFFFFFFF
    v = (v | (v << 16)) & 0x0000FFFF0000FFFF
    v = (v | (v << 8)) & 0x00FF00FF00FF00FF
    v = (v | (v << 4)) & 0x0F0F0F0F0F0F0F0F
    v = (v | (v << 2)) & 0x3333333333333333
    return (v | (v << 1)) & 0x5555555555555555


def _squash(v: int) -> int:
    v &= 0x5555555555555555
    v = (v | (v >> 1)) & 0x3333333333333333
    v = (v | (v >> 2)) & 0x0F0F0F0F0F0F0F0F
    v = (v | (v >> 4)) & 0x00FF00FF00FF00FF
    v = (v | (v >> 8)) & 0x0000FFFF0000FFFF
    return (v | (v >> 16)) & 0x00000000FFFFFFFF


def encode(lon: float, lat: float, lat_min: float = LAT_MIN, lat_max: float = LAT_MAX) -> int:
    """Redis's 52-bit geohash of a position (``geohashEncode``)."""
    lat_offset = (lat - lat_min) / (lat_max - lat_min) * (1 << STEP)
    lon_offset = (lon - LON_MIN) / (LON_MAX - LON_MIN) * (1 << STEP)
    return _spread(int(lat_offset)) | (_spread(int(lon_offset)) << 1)


def decode(bits: int) -> tuple[float, float]:
    """The centre of a geohash cell as ``(lon, lat)``, clamped as Redis clamps it."""
    ilat, ilon = _squash(bits), _squash(bits >> 1)
    lat_scale, lon_scale = LAT_MAX - LAT_MIN, LON_MAX - LON_MIN
    lat_lo = LAT_MIN + (ilat * 1.0 / (1 << STEP)) * lat_scale
    lat_hi = LAT_MIN + ((ilat + 1) * 1.0 / (1 << STEP)) * lat_scale
    lon_lo = LON_MIN + (ilon * 1.0 / (1 << STEP)) * lon_scale
    lon_hi = LON_MIN + ((ilon + 1) * 1.0 / (1 << STEP)) * lon_scale
    lon = min(max((lon_lo + lon_hi) / 2, LON_MIN), LON_MAX)
    lat = min(max((lat_lo + lat_hi) / 2, LAT_MIN), LAT_MAX)
    return lon, lat


def lat_distance(lat1: float, lat2: float) -> float:
    """Metres between two latitudes on one meridian (``geohashGetLatDistance``)."""
    return EARTH_RADIUS * abs(math.radians(lat2) - math.radians(lat1))


def distance(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Redis's haversine distance in metres (``geohashGetDistance``)."""
    lat1r, lon1r, lat2r, lon2r = map(math.radians, (lat1, lon1, lat2, lon2))
    v = math.sin((lon2r - lon1r) / 2)
    if v == 0.0:
        return lat_distance(lat1, lat2)
    u = math.sin((lat2r - lat1r) / 2)
    a = u * u + math.cos(lat1r) * math.cos(lat2r) * v * v
    return 2.0 * EARTH_RADIUS * math.asin(math.sqrt(a))


def geohash_string(bits: int) -> bytes:
    """The 11-character standard geohash ``GEOHASH`` prints (re-encoded over latitude ±90)."""
    lon, lat = decode(bits)
    std = encode(lon, lat, -90.0, 90.0)
    chars = [_ALPHABET[0 if i == 10 else (std >> (52 - (i + 1) * 5)) & 0x1F] for i in range(11)]
    return "".join(chars).encode()


def fmt_distance(metres: float, unit: float) -> bytes:
    """A distance as Redis replies it: ``%.4f`` in the unit."""
    return b"%.4f" % (metres / unit)


def fmt_coord(value: float) -> bytes:
    """A coordinate as Redis replies it in RESP2 (``addReplyHumanLongDouble``: ``%.17Lf``, zeros trimmed)."""
    text = b"%.17f" % value
    if b"." in text:
        text = text.rstrip(b"0").rstrip(b".")
    return text


def _float(raw: bytes) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise SimpleError("ERR value is not a valid float") from None
    if math.isnan(value):
        raise SimpleError("ERR value is not a valid float")
    return value


def _unit(raw: bytes) -> float:
    unit = UNITS.get(raw.lower())
    if unit is None:
        raise SimpleError(_UNIT_ERROR)
    return unit


def _lonlat(lon_raw: bytes, lat_raw: bytes) -> tuple[float, float]:
    lon, lat = _float(lon_raw), _float(lat_raw)
    if not (LON_MIN <= lon <= LON_MAX and LAT_MIN <= lat <= LAT_MAX):
        raise SimpleError(f"ERR invalid longitude,latitude pair {lon:f},{lat:f}")
    return lon, lat


def _zset(key: CommandItem) -> ZSet | None:
    value = key.value
    return value if isinstance(value, ZSet) and len(value) else None


class GeoMixin:
    """GEO commands, mixed into the engine's fakeredis socket ahead of fakeredis's own."""

    _db: Any
    _resp_version: int

    def _coords(self, lon: float, lat: float) -> list[Any]:
        """A position as Redis replies it: bulk strings in RESP2 (:func:`fmt_coord`), doubles in RESP3."""
        if self._resp_version == 3:
            return [lon, lat]
        return [fmt_coord(lon), fmt_coord(lat)]

    @command(name="GEOADD", fixed=(Key(ZSet), bytes, bytes, bytes), repeat=(bytes,))
    def geoadd(self, key: CommandItem, *args: bytes) -> int:
        i, xx, nx, ch = 0, False, False, False
        while i < len(args) and args[i].lower() in (b"xx", b"nx", b"ch"):
            flag = args[i].lower()
            xx, nx, ch = xx or flag == b"xx", nx or flag == b"nx", ch or flag == b"ch"
            i += 1
        rest = args[i:]
        if not rest or len(rest) % 3 or (xx and nx):
            raise SimpleError(_SYNTAX)
        pairs = []
        for j in range(0, len(rest), 3):
            lon, lat = _lonlat(rest[j], rest[j + 1])
            pairs.append((float(encode(lon, lat)), rest[j + 2]))
        zset = key.value  # Key(ZSet) hands a new, empty one for a missing key
        added = changed = 0
        for score, member in pairs:
            old = zset.get(member)
            if (old is None and xx) or (old is not None and nx):
                continue
            if old is None:
                added += 1
            elif old != score:
                changed += 1
            zset.add(member, score)
        if added or changed:
            key.updated()
        return added + changed if ch else added

    @command(name="GEOPOS", fixed=(Key(ZSet),), repeat=(bytes,))
    def geopos(self, key: CommandItem, *members: bytes) -> list[Any]:
        zset = _zset(key)
        out: list[Any] = []
        for m in members:
            score = None if zset is None else zset.get(m)
            if score is None:
                out.append(None)
            else:
                out.append(self._coords(*decode(int(score))))
        return out

    @command(name="GEODIST", fixed=(Key(ZSet), bytes, bytes), repeat=(bytes,))
    def geodist(self, key: CommandItem, m1: bytes, m2: bytes, *args: bytes) -> bytes | None:
        if len(args) > 1:
            raise SimpleError(_SYNTAX)
        unit = _unit(args[0]) if args else 1.0
        zset = _zset(key)
        s1 = None if zset is None else zset.get(m1)
        s2 = None if zset is None else zset.get(m2)
        if s1 is None or s2 is None:
            return None
        (lon1, lat1), (lon2, lat2) = decode(int(s1)), decode(int(s2))
        return fmt_distance(distance(lon1, lat1, lon2, lat2), unit)

    @command(name="GEOHASH", fixed=(Key(ZSet),), repeat=(bytes,))
    def geohash(self, key: CommandItem, *members: bytes) -> list[bytes | None]:
        zset = _zset(key)
        out: list[bytes | None] = []
        for m in members:
            score = None if zset is None else zset.get(m)
            out.append(None if score is None else geohash_string(int(score)))
        return out

    # -- searches ----------------------------------------------------------------------------------
    def _center_of(self, zset: ZSet | None, member: bytes) -> tuple[float, float]:
        score = None if zset is None else zset.get(member)
        if score is None:
            raise SimpleError("ERR could not decode requested zset member")
        return decode(int(score))

    def _search(self, key: CommandItem, spec: dict[str, Any]) -> list[tuple[bytes, float, int]]:
        zset = _zset(key)
        if zset is None:  # no key: nothing found, whatever the centre member
            return []
        center = spec["center"]
        if isinstance(center, bytes):
            center = self._center_of(zset, center)
        lon0, lat0 = center
        found = []
        for member, score in sorted(zset.items(), key=lambda kv: (kv[1], kv[0])):
            lon, lat = decode(int(score))
            if spec["box"] is not None:
                width, height = spec["box"]
                if lat_distance(lat, lat0) > height / 2 or distance(lon, lat, lon0, lat) > width / 2:
                    continue
                dist = distance(lon0, lat0, lon, lat)
            else:
                dist = distance(lon0, lat0, lon, lat)
                if dist > spec["radius"]:
                    continue
            found.append((member, dist, int(score)))
        order = spec["order"]
        if order is None and spec["count"] and not spec["any"]:
            order = "asc"
        if order is not None:
            found.sort(key=lambda f: f[1], reverse=order == "desc")
        if spec["count"]:
            found = found[: spec["count"]]
        return found

    def _reply(self, found: list[tuple[bytes, float, int]], spec: dict[str, Any]) -> list[Any]:
        if not (spec["withdist"] or spec["withhash"] or spec["withcoord"]):
            return [m for m, _, _ in found]
        out = []
        for member, dist, score in found:
            item: list[Any] = [member]
            if spec["withdist"]:
                item.append(fmt_distance(dist, spec["unit"]))
            if spec["withhash"]:
                item.append(score)
            if spec["withcoord"]:
                item.append(self._coords(*decode(score)))
            out.append(item)
        return out

    def _store(self, dest: bytes, found: list[tuple[bytes, float, int]], spec: dict[str, Any]) -> int:
        db: Any = self._db
        if not found:
            db.pop(dest, None)
            return 0
        zset = ZSet()
        for member, dist, score in found:
            zset.add(member, dist / spec["unit"] if spec["storedist"] else float(score))
        item = CommandItem(dest, db, item=db.get(dest))
        item.update(zset)
        item.writeback()
        return len(found)

    def _options(self, args: tuple[bytes, ...], spec: dict[str, Any], radius_form: bool) -> bytes | None:
        """Parse the options after the centre and shape; the STORE/STOREDIST key, if any."""
        store = None
        i = 0
        while i < len(args):
            opt = args[i].lower()
            if opt in (b"withdist", b"withhash", b"withcoord"):
                spec[opt.decode()] = True
            elif opt in (b"asc", b"desc"):
                spec["order"] = opt.decode()
            elif opt == b"any":
                spec["any"] = True
            elif opt == b"count" and i + 1 < len(args):
                try:
                    spec["count"] = int(args[i + 1])
                except ValueError:
                    raise SimpleError("ERR value is not an integer or out of range") from None
                if spec["count"] <= 0:
                    raise SimpleError("ERR COUNT must be > 0")
                i += 1
            elif radius_form and opt in (b"store", b"storedist") and i + 1 < len(args):
                store = args[i + 1]
                spec["storedist"] = opt == b"storedist"
                i += 1
            elif not radius_form and opt == b"frommember" and i + 1 < len(args) and spec["center"] is None:
                spec["center"] = args[i + 1]
                i += 1
            elif not radius_form and opt == b"fromlonlat" and i + 2 < len(args) and spec["center"] is None:
                spec["center"] = _lonlat(args[i + 1], args[i + 2])
                i += 2
            elif not radius_form and opt == b"byradius" and i + 2 < len(args) and spec["shape"] is None:
                spec["radius"] = _float(args[i + 1])
                if spec["radius"] < 0:
                    raise SimpleError("ERR radius cannot be negative")
                spec["unit"] = _unit(args[i + 2])
                spec["radius"] *= spec["unit"]
                spec["shape"] = "radius"
                i += 2
            elif not radius_form and opt == b"bybox" and i + 3 < len(args) and spec["shape"] is None:
                width, height = _float(args[i + 1]), _float(args[i + 2])
                if width < 0 or height < 0:
                    raise SimpleError("ERR height or width cannot be negative")
                spec["unit"] = _unit(args[i + 3])
                spec["box"] = (width * spec["unit"], height * spec["unit"])
                spec["shape"] = "box"
                i += 3
            else:
                raise SimpleError(_SYNTAX)
            i += 1
        if spec["any"] and not spec["count"]:
            raise SimpleError("ERR the ANY argument requires COUNT argument")
        if store is not None and (spec["withdist"] or spec["withhash"] or spec["withcoord"]):
            raise SimpleError(
                "ERR STORE option in GEORADIUS is not compatible with "
                "WITHDIST, WITHHASH and WITHCOORD options"
            )
        return store

    @staticmethod
    def _spec() -> dict[str, Any]:
        return {
            "center": None,
            "shape": None,
            "radius": 0.0,
            "box": None,
            "unit": 1.0,
            "withdist": False,
            "withhash": False,
            "withcoord": False,
            "order": None,
            "count": 0,
            "any": False,
            "storedist": False,
        }

    def _radius(
        self, key: CommandItem, center: Any, radius: bytes, unit: bytes, args: tuple[bytes, ...]
    ) -> Any:
        spec = self._spec()
        spec["center"] = center
        spec["unit"] = _unit(unit)
        spec["radius"] = _float(radius)
        if spec["radius"] < 0:
            raise SimpleError("ERR radius cannot be negative")
        spec["radius"] *= spec["unit"]
        store = self._options(args, spec, radius_form=True)
        found = self._search(key, spec)
        return self._reply(found, spec) if store is None else self._store(store, found, spec)

    @command(name="GEORADIUS", fixed=(Key(ZSet), bytes, bytes, bytes, bytes), repeat=(bytes,))
    def georadius(
        self, key: CommandItem, lon: bytes, lat: bytes, radius: bytes, unit: bytes, *args: bytes
    ) -> Any:
        return self._radius(key, _lonlat(lon, lat), radius, unit, args)

    @command(name="GEORADIUS_RO", fixed=(Key(ZSet), bytes, bytes, bytes, bytes), repeat=(bytes,))
    def georadius_ro(
        self, key: CommandItem, lon: bytes, lat: bytes, radius: bytes, unit: bytes, *args: bytes
    ) -> Any:
        if any(a.lower() in (b"store", b"storedist") for a in args):
            raise SimpleError(_SYNTAX)
        return self._radius(key, _lonlat(lon, lat), radius, unit, args)

    @command(name="GEORADIUSBYMEMBER", fixed=(Key(ZSet), bytes, bytes, bytes), repeat=(bytes,))
    def georadiusbymember(
        self, key: CommandItem, member: bytes, radius: bytes, unit: bytes, *args: bytes
    ) -> Any:
        return self._radius(key, member, radius, unit, args)

    @command(name="GEORADIUSBYMEMBER_RO", fixed=(Key(ZSet), bytes, bytes, bytes), repeat=(bytes,))
    def georadiusbymember_ro(
        self, key: CommandItem, member: bytes, radius: bytes, unit: bytes, *args: bytes
    ) -> Any:
        if any(a.lower() in (b"store", b"storedist") for a in args):
            raise SimpleError(_SYNTAX)
        return self._radius(key, member, radius, unit, args)

    def _geosearch(self, key: CommandItem, args: tuple[bytes, ...], store: bool) -> Any:
        spec = self._spec()
        rest = args
        storedist = False
        if store:
            storedist = any(a.lower() == b"storedist" for a in args)
            rest = tuple(a for a in args if a.lower() != b"storedist")
        self._options(rest, spec, radius_form=False)
        if spec["center"] is None:
            raise SimpleError("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GEOSEARCH")
        if spec["shape"] is None:
            raise SimpleError("ERR exactly one of BYRADIUS and BYBOX can be specified for GEOSEARCH")
        found = self._search(key, spec)
        if not store:
            return self._reply(found, spec)
        spec["storedist"] = storedist
        return found

    @command(name="GEOSEARCH", fixed=(Key(ZSet), bytes, bytes, bytes, bytes, bytes), repeat=(bytes,))
    def geosearch(self, key: CommandItem, *args: bytes) -> Any:
        return self._geosearch(key, args, store=False)

    @command(
        name="GEOSEARCHSTORE", fixed=(bytes, Key(ZSet), bytes, bytes, bytes, bytes, bytes), repeat=(bytes,)
    )
    def geosearchstore(self, dest: bytes, key: CommandItem, *args: bytes) -> Any:
        if any(a.lower() in (b"withdist", b"withhash", b"withcoord") for a in args):
            raise SimpleError(_SYNTAX)
        found = self._geosearch(key, args, store=True)
        spec = self._spec()
        spec["storedist"] = any(a.lower() == b"storedist" for a in args)
        for i, a in enumerate(args):  # the unit, for STOREDIST
            if a.lower() in (b"byradius",) and i + 2 < len(args):
                spec["unit"] = _unit(args[i + 2])
            if a.lower() == b"bybox" and i + 3 < len(args):
                spec["unit"] = _unit(args[i + 3])
        return self._store(dest, found, spec)
