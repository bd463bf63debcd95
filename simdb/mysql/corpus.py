"""A generated SQL corpus over the home-feed schema (``seeds/homefeed``), for differential runs.

:func:`generate` draws statements from a small grammar with a :class:`random.Random`, so a seed
gives the same corpus every time (``bench/mysql_fidelity.py``) and hypothesis can drive it
(``tests/mysql/test_fidelity_corpus.py``). Each statement carries its category and whether its
rows come in a defined order (an ORDER BY that ends on a unique key).

:func:`compare` runs one statement's outcomes side by side: the same rows (values and Python
types as PyMySQL decodes them), the same column type families, or the same error code; a fake
refusal with 1235 counts as *unsupported*, never as agreement or disagreement.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Statement:
    """One generated statement."""

    category: str
    sql: str
    ordered: bool


INT_COLS = ["save_count", "width", "height", "quality_tier", "is_promoted", "owner_id", "board_id", "id"]
STR_COLS = ["title", "media_type", "image_url"]
WORDS = ["recipes", "Travel", "DIY", "idea", "IMAGE", "video", "art", "img", "1001", "x"]


_SEPS = ["'/'", "'.'", "'img'"]
_FORMATS = ["'%Y-%m'", "'%d/%m/%Y %H:%i'", "'%Y%m%d'"]
_LOCALES = ["'DE-de'", "'en-us'", "'fr-FR'"]
_NAME_PATTERNS = ["'%a%'", "'S%'", "'%PEREZ'"]


_UNITS = ["DAY", "HOUR", "MONTH", "YEAR", "MINUTE", "WEEK"]


def _dec_lit(r: random.Random) -> str:
    return f"{r.randint(-99, 99)}.{r.randint(0, 99)}"


def _lit_int(r: random.Random) -> str:
    return str(r.choice([0, 1, 2, 3, 5, 7, 10, 100, 736, 1000, 1005, 2500, r.randint(-50, 5000)]))


def _num_as_str(r: random.Random) -> str:
    return "'" + r.choice(["3", "1001", " 7", "2500", "1e3", "12abc", "0", "-1", "3.0"]) + "'"


def _str_lit(r: random.Random) -> str:
    w = r.choice(WORDS)
    w = r.choice([w, w.upper(), w.lower(), w.capitalize()])
    return "'" + w + "'"


def _int_expr(r: random.Random) -> str:
    c = r.choice(INT_COLS)
    k = r.random()
    if k < 0.5:
        return c
    op = r.choice(["+", "-", "*", "DIV", "%"])
    n = r.choice(["1", "2", "3", "7", "10"])
    return f"({c} {op} {n})"


def _pred(r: random.Random) -> str:
    kind = r.randrange(9)
    if kind == 0:
        return f"{_int_expr(r)} {r.choice(['=', '<>', '<', '>', '<=', '>=', '<=>'])} {_lit_int(r)}"
    if kind == 1:
        return f"{r.choice(INT_COLS)} {r.choice(['=', '<', '>='])} {_num_as_str(r)}"
    if kind == 2:
        items = ", ".join(r.choice([_lit_int(r), _num_as_str(r)]) for _ in range(r.randint(1, 5)))
        neg = r.choice(["", "NOT "])
        return f"{r.choice(INT_COLS)} {neg}IN ({items})"
    if kind == 3:
        a, b = sorted([r.randint(0, 3000), r.randint(0, 5000)])
        neg = r.choice(["", "NOT "])
        return f"{r.choice(INT_COLS)} {neg}BETWEEN {a} AND {b}"
    if kind == 4:
        w = r.choice(WORDS)
        w = r.choice([w, w.upper(), w.lower()])
        pat = r.choice([f"{w}%", f"%{w}%", f"%{w}", f"{w}_%", "%\\_%", "R%", "%1__"])
        neg = r.choice(["", "NOT "])
        return f"{r.choice(STR_COLS)} {neg}LIKE '{pat}'"
    if kind == 5:
        return f"media_type {r.choice(['=', '<>'])} {_str_lit(r)}"
    if kind == 6:
        return f"price {r.choice(['IS NULL', 'IS NOT NULL', '> 100', '<= 50.5', '= 195.14'])}"
    if kind == 7:
        when = r.choice(["2024-03-01", "2024-06-22 17:41:00", "2024-01-01 00:00:00"])
        return f"created_at {r.choice(['>=', '<', '='])} '{when}'"
    return f"({_pred(r)} {r.choice(['AND', 'OR'])} {_pred(r)})"


_STRING_FNS: list[Callable[[random.Random], str]] = [
    lambda r: f"UPPER({r.choice(STR_COLS)})",
    lambda r: f"LOWER({r.choice(STR_COLS)})",
    lambda r: f"LENGTH({r.choice(STR_COLS)})",
    lambda r: f"CHAR_LENGTH({r.choice(STR_COLS)})",
    lambda r: f"SUBSTRING({r.choice(STR_COLS)}, {r.randint(-5, 8)}, {r.randint(0, 6)})",
    lambda r: f"SUBSTRING({r.choice(STR_COLS)}, {r.randint(-5, 8)})",
    lambda r: f"SUBSTRING_INDEX(image_url, {r.choice(_SEPS)}, {r.randint(-3, 3)})",
    lambda r: f"LEFT(title, {r.randint(0, 8)})",
    lambda r: f"RIGHT(title, {r.randint(0, 8)})",
    lambda r: f"CONCAT(title, '-', {r.choice(INT_COLS)})",
    lambda r: "CONCAT(media_type, ':', price)",
    lambda r: f"CONCAT_WS('|', title, media_type, {r.choice(INT_COLS)})",
    lambda r: f"REPLACE(title, {_str_lit(r)}, 'z')",
    lambda r: f"LOCATE({_str_lit(r)}, title)",
    lambda r: f"INSTR(title, {_str_lit(r)})",
    lambda r: "REVERSE(media_type)",
    lambda r: f"LPAD(media_type, {r.randint(0, 12)}, '*')",
    lambda r: f"RPAD(media_type, {r.randint(0, 12)}, 'ab')",
    lambda r: "TRIM(CONCAT('  ', title, ' '))",
    lambda r: f"HEX({r.choice(INT_COLS)})",
    lambda r: "HEX(media_type)",
    lambda r: "REPEAT(media_type, 2)",
    lambda r: f"STRCMP(media_type, {_str_lit(r)})",
    lambda r: "FIND_IN_SET(media_type, 'video,IMAGE,idea')",
]
_NUMERIC_FNS: list[Callable[[random.Random], str]] = [
    lambda r: f"ABS(save_count - {_lit_int(r)})",
    lambda r: f"ROUND(price, {r.randint(0, 3)})",
    lambda r: "ROUND(price)",
    lambda r: f"ROUND(save_count / {r.randint(1, 9)}, {r.randint(0, 2)})",
    lambda r: f"TRUNCATE(price, {r.randint(0, 2)})",
    lambda r: "FLOOR(price)",
    lambda r: "CEIL(price)",
    lambda r: f"MOD(save_count, {r.randint(1, 9)})",
    lambda r: f"save_count % {r.randint(1, 9)}",
    lambda r: f"save_count DIV {r.randint(1, 9)}",
    lambda r: f"save_count / {r.randint(1, 9)}",
    lambda r: "width / height",
    lambda r: f"price * {r.randint(1, 5)}",
    lambda r: "price + 1.5",
    lambda r: "price / 3",
    lambda r: f"GREATEST(width, height, {_lit_int(r)})",
    lambda r: f"LEAST(width, height, {_lit_int(r)})",
    lambda r: f"SIGN(save_count - {_lit_int(r)})",
    lambda r: f"{r.choice(INT_COLS)} + {_num_as_str(r)}",
    lambda r: "-save_count",
]
_DATE_FNS: list[Callable[[random.Random], str]] = [
    lambda r: "DATE(created_at)",
    lambda r: "YEAR(created_at)",
    lambda r: "MONTH(created_at)",
    lambda r: "DAY(created_at)",
    lambda r: "HOUR(created_at)",
    lambda r: f"DATE_FORMAT(created_at, {r.choice(_FORMATS)})",
    lambda r: f"DATE_ADD(created_at, INTERVAL {r.randint(-40, 40)} {r.choice(_UNITS)})",
    lambda r: f"DATE_SUB(created_at, INTERVAL {r.randint(1, 40)} DAY)",
    lambda r: f"created_at + INTERVAL {r.randint(1, 30)} DAY",
    lambda r: "DATEDIFF(created_at, '2024-01-01')",
    lambda r: "UNIX_TIMESTAMP(created_at)",
    lambda r: "EXTRACT(MONTH FROM created_at)",
]
_CONTROL_FNS: list[Callable[[random.Random], str]] = [
    lambda r: "IFNULL(price, 0)",
    lambda r: "IFNULL(price, 'none')",
    lambda r: "COALESCE(price, save_count)",
    lambda r: f"NULLIF(quality_tier, {r.randint(1, 4)})",
    lambda r: "IF(is_promoted, 'promoted', 'organic')",
    lambda r: f"IF(save_count > {_lit_int(r)}, save_count, 0)",
    lambda r: (
        f"CASE WHEN save_count > {_lit_int(r)} THEN 'hot' WHEN save_count > {_lit_int(r)} THEN 'warm' "
        "ELSE 'cold' END"
    ),
    lambda r: f"CASE media_type WHEN {_str_lit(r)} THEN 1 WHEN 'VIDEO' THEN 2 ELSE 0 END",
    lambda r: "CASE WHEN price IS NULL THEN NULL ELSE price * 2 END",
]
_TABLELESS: list[Callable[[random.Random], str]] = [
    lambda r: f"SELECT {_num_as_str(r)} = {_lit_int(r)}",
    lambda r: f"SELECT {_str_lit(r)} = {_str_lit(r)}",
    lambda r: f"SELECT {_str_lit(r)} LIKE {_str_lit(r)}",
    lambda r: f"SELECT {r.randint(-20, 99)} / {r.randint(1, 9)}",
    lambda r: f"SELECT {r.randint(0, 99)}.{r.randint(0, 99)} / {r.randint(1, 9)}",
    lambda r: f"SELECT GREATEST({_lit_int(r)}, {_lit_int(r)}, {_lit_int(r)})",
    lambda r: f"SELECT LEAST({_str_lit(r)}, {_str_lit(r)})",
    lambda r: "SELECT 1 FROM DUAL",
    lambda r: f"SELECT {_lit_int(r)} FROM DUAL WHERE {_lit_int(r)} > {_lit_int(r)}",
    lambda r: (
        f"SELECT IFNULL(NULL, {_lit_int(r)}), COALESCE(NULL, NULL, {_str_lit(r)}), "
        f"NULLIF({_lit_int(r)}, {_lit_int(r)})"
    ),
    lambda r: (
        f"SELECT DATE_ADD('2024-01-{r.randint(10, 31)}', INTERVAL {r.randint(-13, 13)} {r.choice(_UNITS)})"
    ),
    lambda r: f"SELECT UNIX_TIMESTAMP('2024-0{r.randint(1, 9)}-1{r.randint(0, 9)} 0{r.randint(0, 9)}:00:00')",
    lambda r: f"SELECT SUBSTRING_INDEX('www.example.com', '.', {r.randint(-3, 3)})",
    lambda r: f"SELECT CAST({_num_as_str(r)} AS SIGNED)",
    lambda r: f"SELECT CAST({r.randint(0, 99)}.{r.randint(0, 99)} AS SIGNED)",
    lambda r: f"SELECT CAST({r.randint(0, 999)}.{r.randint(0, 999)} AS DECIMAL(8,2))",
    lambda r: f"SELECT HEX({_str_lit(r)}), UPPER({_str_lit(r)}), LENGTH('héllo'), CHAR_LENGTH('héllo')",
    lambda r: f"SELECT HEX({_lit_int(r)})",
    lambda r: f"SELECT TRUNCATE({r.randint(-99, 99)}.{r.randint(0, 999)}, {r.randint(0, 2)})",
    lambda r: f"SELECT ROUND({r.randint(-99, 99)}.{r.randint(0, 999)}, {r.randint(0, 2)})",
    lambda r: f"SELECT FLOOR({_dec_lit(r)}), CEIL({_dec_lit(r)})",
    lambda r: f"SELECT {_lit_int(r)} + {_num_as_str(r)}",
    lambda r: f"SELECT CONCAT({_str_lit(r)}, {_lit_int(r)}, 1.50)",
    lambda r: (
        f'SELECT JSON_EXTRACT(\'{{"a": {r.randint(0, 9)}, "b": "x"}}\', \'$.{r.choice(["a", "b", "c"])}\')'
    ),
    lambda r: f"SELECT JSON_UNQUOTE(JSON_EXTRACT('[\"p\", \"q\"]', '$[{r.randint(0, 2)}]'))",
    lambda r: f"SELECT CASE WHEN {_lit_int(r)} > {_lit_int(r)} THEN 'a' ELSE 'b' END",
    lambda r: f"SELECT {_lit_int(r)} IN ({_lit_int(r)}, {_num_as_str(r)})",
    lambda r: f"SELECT {_lit_int(r)} BETWEEN {_lit_int(r)} AND {_lit_int(r)}",
    lambda r: (
        f"SELECT MOD({r.randint(-20, 20)}, {r.randint(1, 7)}), {r.randint(-20, 20)} DIV {r.randint(1, 7)}"
    ),
]


def _projection(r: random.Random, category: str) -> str:
    pool = {
        "string": _STRING_FNS,
        "numeric": _NUMERIC_FNS,
        "date": _DATE_FNS,
        "control": _CONTROL_FNS,
    }[category]
    return ", ".join(r.choice(pool)(r) for _ in range(r.randint(1, 3)))


def _select_functions(r: random.Random, category: str) -> Statement:
    where = f" WHERE {_pred(r)}" if r.random() < 0.5 else ""
    return Statement(category, f"SELECT id, {_projection(r, category)} FROM pins{where} ORDER BY id", True)


def _select_where(r: random.Random) -> Statement:
    return Statement("where", f"SELECT id, title, save_count FROM pins WHERE {_pred(r)} ORDER BY id", True)


def _select_group(r: random.Random) -> Statement:
    key = r.choice(["board_id", "owner_id", "media_type", "quality_tier", "is_promoted", "LOWER(media_type)"])
    aggs = r.sample(
        [
            "COUNT(*)",
            "SUM(save_count)",
            "MAX(price)",
            "MIN(price)",
            "AVG(width)",
            "AVG(price)",
            "SUM(price)",
            "COUNT(DISTINCT owner_id)",
            "MAX(title)",
            "MIN(created_at)",
            "GROUP_CONCAT(id ORDER BY id SEPARATOR ',')",
        ],
        r.randint(1, 3),
    )
    having = f" HAVING COUNT(*) > {r.randint(0, 8)}" if r.random() < 0.4 else ""
    where = f" WHERE {_pred(r)}" if r.random() < 0.3 else ""
    by = r.choice([key, "1"])
    return Statement(
        "group",
        f"SELECT {key}, {', '.join(aggs)} FROM pins{where} GROUP BY {by}{having} ORDER BY 1",
        True,
    )


def _select_group_concat(r: random.Random) -> Statement:
    order = r.choice(["tag", "tag DESC", "tag ASC"])
    sep = r.choice(["", " SEPARATOR ';'", " SEPARATOR ''", " SEPARATOR ', '"])
    distinct = r.choice(["", "DISTINCT "])
    where = f" WHERE pin_id <= {r.randint(1001, 1200)}"
    return Statement(
        "group",
        f"SELECT pin_id, GROUP_CONCAT({distinct}tag ORDER BY {order}{sep}), COUNT(*) FROM pin_tags"
        f"{where} GROUP BY pin_id ORDER BY pin_id",
        True,
    )


def _select_order(r: random.Random) -> Statement:
    kind = r.randrange(4)
    k = r.randint(0, 25)
    if kind == 0:
        return Statement(
            "order_limit",
            f"SELECT id, save_count FROM pins ORDER BY save_count {r.choice(['DESC', 'ASC'])}, id LIMIT {k}",
            True,
        )
    if kind == 1:
        return Statement(
            "order_limit",
            f"SELECT media_type, id, title FROM pins ORDER BY 1, 2 DESC LIMIT {k} OFFSET {r.randint(0, 50)}",
            True,
        )
    if kind == 2:
        return Statement(
            "order_limit",
            f"SELECT title, id FROM pins WHERE {_pred(r)} ORDER BY 1, id LIMIT {r.randint(0, 20)}, {k}",
            True,
        )
    return Statement(
        "order_limit", f"SELECT username, id FROM users ORDER BY UPPER(username), 2 LIMIT {k}", True
    )


def _select_join(r: random.Random) -> Statement:
    kind = r.randrange(3)
    if kind == 0:
        return Statement(
            "join",
            "SELECT p.id, u.username, p.save_count FROM pins p JOIN users u ON u.id = p.owner_id "
            f"WHERE {_pred(r).replace('save_count', 'p.save_count')} ORDER BY p.id LIMIT {r.randint(1, 30)}",
            True,
        )
    if kind == 1:
        return Statement(
            "join",
            "SELECT b.name, COUNT(p.id) FROM boards b LEFT JOIN pins p ON p.board_id = b.id "
            f"AND p.save_count > {_lit_int(r)} GROUP BY b.id, b.name ORDER BY b.id",
            True,
        )
    return Statement(
        "join",
        "SELECT f.follower_id, u.username FROM follows f JOIN users u ON u.id = f.followee_id "
        f"WHERE f.follower_id = {r.randint(1, 20)} ORDER BY u.id",
        True,
    )


def _select_subquery(r: random.Random) -> Statement:
    kind = r.randrange(3)
    if kind == 0:
        return Statement(
            "subquery",
            "SELECT id, owner_id FROM pins WHERE owner_id IN "
            f"(SELECT followee_id FROM follows WHERE follower_id = {r.randint(1, 20)}) ORDER BY id",
            True,
        )
    if kind == 1:
        return Statement(
            "subquery",
            "SELECT u.id, (SELECT COUNT(*) FROM pins p WHERE p.owner_id = u.id) FROM users u ORDER BY u.id",
            True,
        )
    return Statement(
        "subquery",
        "SELECT id FROM pins p WHERE EXISTS (SELECT 1 FROM pin_tags t WHERE t.pin_id = p.id AND "
        f"t.tag = {_str_lit(r)}) ORDER BY id",
        True,
    )


def _select_users(r: random.Random) -> Statement:
    pred = r.choice(
        [
            f"username = UPPER(username) OR locale = {r.choice(_LOCALES)}",
            f"display_name LIKE {r.choice(_NAME_PATTERNS)}",
            f"follower_count {r.choice(['>', '='])} {_num_as_str(r)}",
            "display_name IS NULL",
            f"created_at < '2023-0{r.randint(1, 9)}-01'",
        ]
    )
    proj = r.choice(
        [
            "id, username",
            "id, CONCAT(display_name, ' <', email, '>')",
            "id, LOWER(locale), follower_count / 3",
            "id, SUBSTRING_INDEX(email, '@', -1)",
        ]
    )
    return Statement("users", f"SELECT {proj} FROM users WHERE {pred} ORDER BY id", True)


SETUP = [
    "CREATE TABLE typed (id INT NOT NULL AUTO_INCREMENT, s VARCHAR(20) DEFAULT NULL, "
    "sb VARCHAR(20) COLLATE utf8mb4_bin DEFAULT NULL, c CHAR(4) DEFAULT NULL, t TEXT, "
    "u INT UNSIGNED DEFAULT NULL, ti TINYINT DEFAULT NULL, bi BIGINT DEFAULT NULL, "
    "d DECIMAL(10,3) DEFAULT NULL, f DOUBLE DEFAULT NULL, dt DATE DEFAULT NULL, ts DATETIME DEFAULT NULL, "
    "e ENUM('small','medium','large') DEFAULT NULL, j JSON DEFAULT NULL, vb VARBINARY(8) DEFAULT NULL, "
    "PRIMARY KEY (id), UNIQUE KEY uq_s (s))",
    "INSERT INTO typed (s, sb, c, t, u, ti, bi, d, f, dt, ts, e, j, vb) VALUES "
    "('alpha', 'alpha', 'ab', 'long text', 1, -1, 9000000000, 1.5, 0.25, '2024-01-31', "
    "'2024-01-31 23:59:59', "
    "'small', '{\"k\": 1, \"arr\": [1, 2]}', X'00ff'), "
    "('Beta', 'Beta', 'AB', 'Text', 42, 127, -5, -2.125, 1e10, '2024-02-29', '2024-02-29 00:00:00', "
    "'large', '{\"k\": \"x\"}', X'41'), "
    "('gamma ', 'gamma ', 'x', NULL, 0, -128, 0, 0.001, -3.5, '2023-12-01', '2023-12-01 12:30:00', "
    "'medium', '[1, \"two\", null]', NULL), "
    "('Élan', 'Élan', 'é', 'Ünïcode ✓', 4294967295, 0, 1, 999.999, NULL, NULL, NULL, NULL, NULL, X''), "
    "('delta', 'DELTA', NULL, '', NULL, NULL, NULL, NULL, 2.5, '2024-06-15', '2024-06-15 08:00:00', "
    "'small', '{}', X'0102'), "
    "('straße', 'strasse', 'ss', 'ß', 7, 7, 7, 7, 7, '2024-07-07', '2024-07-07 07:07:07', 'medium', "
    "'{\"k\": true}', X'07')",
    "CREATE TABLE scratch (id INT NOT NULL AUTO_INCREMENT, name VARCHAR(8) NOT NULL, "
    "qty SMALLINT UNSIGNED NOT NULL DEFAULT 0, kind ENUM('a','b') NOT NULL DEFAULT 'a', "
    "seen DATETIME DEFAULT NULL, "
    "PRIMARY KEY (id), UNIQUE KEY uq_name (name))",
]
"""Statements both servers run once before the corpus (a typed table and a scratch table)."""

_TYPED_COLS = ["s", "sb", "c", "t", "u", "ti", "bi", "d", "f", "dt", "ts", "e"]
_TYPED_STR = ["s", "sb", "c", "t", "e"]
_TYPED_LITS = [
    "'alpha'",
    "'ALPHA'",
    "'beta'",
    "'gamma'",
    "'elan'",
    "'ÉLAN'",
    "'strasse'",
    "'small'",
    "'ab'",
    "'AB '",
    "'x'",
    "'1.5'",
    "'7'",
]


_NUM_LITS = ["0", "7", "1.5", "'7'", "'1.50'", "-1"]
_DATE_LITS = ["'2024-02-29'", "'2024-01-31 00:00:00'", "'2024-06-15'"]


def _select_typed(r: random.Random) -> Statement:
    kind = r.randrange(8)
    col = r.choice(_TYPED_COLS)
    if kind == 0:
        return Statement("typed", f"SELECT id, {col} FROM typed ORDER BY {col}, id", True)
    if kind == 1:
        op = r.choice(["=", "<>", "<", ">=", "LIKE"])
        return Statement(
            "typed", f"SELECT id FROM typed WHERE {r.choice(_TYPED_STR)} {op} {r.choice(_TYPED_LITS)}", False
        )
    if kind == 2:
        return Statement(
            "typed", f"SELECT {r.choice(_TYPED_STR)} AS k, COUNT(*) FROM typed GROUP BY k ORDER BY k", False
        )
    if kind == 3:
        fn = r.choice(
            [
                "UPPER(s)",
                "LENGTH(t)",
                "CHAR_LENGTH(t)",
                "HEX(vb)",
                "LENGTH(vb)",
                "d * 2",
                "d / 4",
                "f / 2",
                "u + 1",
                "ti - 1",
                "bi * 3",
                "ROUND(d, 1)",
                "ROUND(f)",
                "FLOOR(f)",
                "DATE_ADD(dt, INTERVAL 1 MONTH)",
                "DATE_ADD(ts, INTERVAL 1 DAY)",
                "ts + INTERVAL 30 MINUTE",
                "DATEDIFF(ts, dt)",
                "JSON_EXTRACT(j, '$.k')",
                "JSON_UNQUOTE(JSON_EXTRACT(j, '$.k'))",
                "JSON_EXTRACT(j, '$.arr[1]')",
                "JSON_LENGTH(j)",
                "JSON_TYPE(j)",
                "CONCAT(s, '/', d, '/', e)",
                "COALESCE(f, d, u)",
                "IF(f > 1, s, c)",
                "CASE e WHEN 'small' THEN 1 WHEN 'large' THEN 3 ELSE 2 END",
            ]
        )
        return Statement("typed", f"SELECT id, {fn} FROM typed ORDER BY id", True)
    if kind == 4:
        return Statement("typed", f"SELECT DISTINCT {r.choice(_TYPED_STR)} FROM typed", False)
    if kind == 5:
        agg = r.choice(["SUM(d)", "AVG(d)", "MAX(s)", "MIN(sb)", "SUM(u)", "AVG(f)", "MAX(dt)", "COUNT(j)"])
        return Statement("typed", f"SELECT {agg} FROM typed", False)
    if kind == 6:
        return Statement(
            "typed",
            f"SELECT id FROM typed WHERE {r.choice(['u', 'ti', 'bi', 'd', 'f'])} "
            f"{r.choice(['=', '>', '<'])} {r.choice(_NUM_LITS)} ORDER BY id",
            True,
        )
    return Statement(
        "typed",
        f"SELECT id FROM typed WHERE dt {r.choice(['=', '>=', '<'])} {r.choice(_DATE_LITS)} ORDER BY id",
        True,
    )


_NAMES = ["ann", "Ann", "bob", "BOB ", "carl", "dora", "toolongname", "é", "e"]


_WHEN = ["'2024-02-29'", "'2023-02-29'", "'2024-1-5 3:4:5'", "20240105", "'2024-13-01'", "'x'", "NULL"]


def _write(r: random.Random) -> Statement:
    kind = r.randrange(12)
    if kind == 9:
        return Statement(
            "write",
            f"INSERT INTO scratch (name, seen) VALUES ('{r.choice(_NAMES)}', {r.choice(_WHEN)})",
            False,
        )
    if kind == 10:
        return Statement(
            "write", f"UPDATE scratch SET seen = {r.choice(_WHEN)} WHERE id = {r.randint(1, 8)}", False
        )
    if kind == 11:
        return Statement(
            "write",
            f"UPDATE scratch SET name = {r.randint(1, 99)}, qty = '{r.randint(0, 9)}' "
            f"WHERE id = {r.randint(1, 8)}",
            False,
        )
    name = r.choice(_NAMES)
    qty = r.choice(["0", "5", "65535", "65536", "-1", "'12'", "'x'", "NULL", "3.0"])
    kindv = r.choice(["'a'", "'b'", "'B'", "'c'"])
    if kind == 0:
        return Statement("write", f"INSERT INTO scratch (name, qty) VALUES ('{name}', {qty})", False)
    if kind == 1:
        return Statement("write", f"INSERT INTO scratch (name, kind) VALUES ('{name}', {kindv})", False)
    if kind == 2:
        other = r.choice(_NAMES)
        return Statement("write", f"INSERT INTO scratch (name) VALUES ('{name}'), ('{other}')", False)
    if kind == 3:
        return Statement(
            "write", f"UPDATE scratch SET qty = qty + {r.choice(['1', '100', '-1', '70000'])}", False
        )
    if kind == 4:
        return Statement("write", f"UPDATE scratch SET name = '{name}' WHERE id = {r.randint(1, 6)}", False)
    if kind == 5:
        return Statement("write", f"DELETE FROM scratch WHERE name = '{name}'", False)
    if kind == 6:
        return Statement(
            "write",
            f"INSERT INTO scratch (name, qty) VALUES ('{name}', 1) ON DUPLICATE KEY UPDATE qty = qty + 1",
            False,
        )
    if kind == 7:
        return Statement("write", f"UPDATE scratch SET kind = {kindv} WHERE name = '{name}'", False)
    return Statement("write", "SELECT name, qty, kind, seen FROM scratch ORDER BY id", True)


_BUILDERS: list[tuple[str, Callable[[random.Random], Statement], int]] = [
    ("typed", _select_typed, 3),
    ("write", _write, 2),
    ("string", lambda r: _select_functions(r, "string"), 3),
    ("numeric", lambda r: _select_functions(r, "numeric"), 3),
    ("date", lambda r: _select_functions(r, "date"), 2),
    ("control", lambda r: _select_functions(r, "control"), 2),
    ("where", _select_where, 3),
    ("group", _select_group, 2),
    ("group", _select_group_concat, 1),
    ("order_limit", _select_order, 2),
    ("join", _select_join, 1),
    ("subquery", _select_subquery, 1),
    ("users", _select_users, 1),
    ("tableless", lambda r: Statement("tableless", r.choice(_TABLELESS)(r), False), 3),
]
_WEIGHTS = [w for _, _, w in _BUILDERS]


def generate(rng: random.Random, n: int) -> list[Statement]:
    """``n`` statements drawn with ``rng``."""
    return [rng.choices(_BUILDERS, weights=_WEIGHTS)[0][1](rng) for _ in range(n)]


# --- comparing outcomes ------------------------------------------------------------------------

_FAMILY = {
    1: "int",
    2: "int",
    3: "int",
    8: "int",
    9: "int",
    13: "int",
    16: "int",
    0: "dec",
    246: "dec",
    4: "float",
    5: "float",
    10: "date",
    7: "datetime",
    12: "datetime",
    11: "time",
    6: "null",
}


def _value(v: Any) -> Any:
    if isinstance(v, float):
        return ("float", float(f"{v:.12g}"))
    if isinstance(v, Decimal):
        return ("dec", str(v))
    if isinstance(v, dt.datetime | dt.date | dt.timedelta):
        return (type(v).__name__, str(v))
    if isinstance(v, bytes):
        return ("bytes", v)
    return (type(v).__name__, v)


def outcome(cur: Any, sql: str, ordered: bool) -> tuple[Any, ...]:
    """Run ``sql`` on a PyMySQL cursor: ``("error", code, text)``, ``("ok", affected, insert id)``
    or ``("rows", (name, type family) per column, rows)``."""
    import pymysql

    try:
        cur.execute(sql)
    except pymysql.err.MySQLError as exc:
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else -1
        text = exc.args[1] if len(exc.args) > 1 else ""
        return ("error", code, text)
    if cur.description is None:
        return ("ok", cur.rowcount, cur.lastrowid)
    families = tuple((d[0], _FAMILY.get(d[1], "str")) for d in cur.description)
    rows = [tuple(_value(v) for v in row) for row in cur.fetchall()]
    if not ordered:
        rows.sort(key=repr)
    return ("rows", families, rows)


def verdict(fake: tuple[Any, ...], real: tuple[Any, ...]) -> str:
    """``agree``, ``unsupported`` (the fake refused with 1235) or ``wrong``."""
    if fake[0] == "error" and fake[1] == 1235:
        return "unsupported"
    if fake[0] == "error" or real[0] == "error":
        return "agree" if fake[0] == real[0] and fake[1] == real[1] else "wrong"
    return "agree" if fake == real else "wrong"
