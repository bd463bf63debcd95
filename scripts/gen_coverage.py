"""Write docs/coverage.md: which Redis commands, SQL statements and Thrift methods simdb answers.

Everything on the page is derived, never hand-kept:

* Redis: the front end's own table (``simdb.redis.frontend.COMMANDS``), the fast paths
  (``simdb.redis.fastpath.COMMANDS``), blocking commands (``simdb.redis.engine.BLOCKING_COMMANDS``)
  and the pinned fakeredis engine's registry (``fakeredis._commands.SUPPORTED_COMMANDS``),
  filtered as :meth:`simdb.redis.engine.Session._run` filters it (Redis server type, a method
  on the session's socket class); families are the fakeredis mixin that implements each command.
* SQL: the MySQL fake has no statement table, so each statement kind is probed: an embedded fake
  is started on a loopback port and every probe is sent with PyMySQL; the page records whether
  it was answered or the exact error the client got.
* Thrift: every method of every service of each demo IDL in ``thrift/homefeed/`` (through
  ``simdb.thrift.idl.load_idl`` and ``simdb.thrift.model.service_model``), with the number of
  stubs ``seeds/homefeed/thrift/<part>/stubs.jsonl`` holds for it.

Run ``.venv/bin/python scripts/gen_coverage.py`` (``--output PATH`` to write elsewhere);
``tests/core/test_coverage_page.py`` fails when the committed page differs from a fresh one.
Output is sorted and carries no timestamps, ports or paths, so it is deterministic.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "docs" / "coverage.md"
THRIFT_PARTS = ("candidates", "pinstore", "ranker", "usergraph")
"""Demo IDL ``thrift/homefeed/<part>.thrift`` and its seed ``seeds/homefeed/thrift/<part>/``."""

REGENERATE = ".venv/bin/python scripts/gen_coverage.py"

# -- Redis ---------------------------------------------------------------------------------------


def _redis_family(module: str) -> str:
    """``fakeredis.commands_mixins.sortedset_mixin`` -> ``sortedset``; stack mixins likewise."""
    leaf = module.rsplit(".", 1)[-1].lstrip("_")
    return leaf.removesuffix("_mixin")


FRONT_END_SUBCOMMAND_CANDIDATES = (
    "client caching", "client getredir", "client help", "client no-evict", "client tracking",
    "client trackinginfo", "command docs", "command getkeys", "command getkeysandflags",
    "command help", "command list", "config get", "config help", "config resetstat",
    "config rewrite", "config set",
)
"""Redis 7.0 subcommands of the front end's commands that fakeredis's ``commands.json`` does not
name; each is only a candidate: the page lists it when probing shows the front end answers it."""


def redis_section() -> list[str]:
    """The Redis part of the page."""
    import fakeredis
    from fakeredis._commands import COMMANDS_WITH_SUB, SUPPORTED_COMMANDS

    from simdb.redis import engine, fastpath, frontend

    socket_cls = engine._Socket
    fast = {name.decode().lower() for name in fastpath.COMMANDS}
    own = set(frontend.COMMANDS)
    blocking = {name.decode() for name in engine.BLOCKING_COMMANDS}

    # command name (lower case, "container sub" for subcommands) -> family
    answered: dict[str, str] = {}
    skipped: dict[str, list[str]] = defaultdict(list)
    for name, sig in SUPPORTED_COMMANDS.items():
        func = getattr(socket_cls, sig.func_name, None)
        if func is None:
            skipped["no method on the session socket"].append(name)
            continue
        if "redis" not in sig.server_types:
            skipped["not a Redis command (" + ", ".join(sorted(sig.server_types)) + " only)"].append(name)
            continue
        answered[name] = _redis_family(func.__module__)
    fr_dir = Path(fakeredis.__file__).parent
    known = set(json.loads((fr_dir / "commands.json").read_text(encoding="utf-8")))

    # Subcommands the front end answers itself (CONFIG GET, COMMAND DOCS...): probe each one the
    # Redis command table names on a throwaway engine; "unknown subcommand" means not answered.
    probe = engine.RedisEngine()
    session = probe.session()
    notes: dict[str, str] = {}
    for name in sorted(known | set(FRONT_END_SUBCOMMAND_CANDIDATES)):
        head, _, sub = name.partition(" ")
        if sub and head in own and name not in answered:
            with probe.lock:
                reply = session.execute([head.encode(), sub.encode()])
            if not reply.startswith(b"-ERR unknown subcommand"):
                answered[name] = "simdb front end"
                if reply.startswith(b"-") and b"wrong number of arguments" not in reply:
                    notes[name] = "always refused: `" + reply[1:].decode().strip() + "`"
    subcommanded = {name.split(" ")[0] for name in answered if " " in name}
    for name in sorted(own | fast):
        if name not in subcommanded and name not in answered:  # CLIENT...: subcommands have rows
            answered[name] = "simdb front end"
            fresh = probe.session()
            with probe.lock:
                reply = fresh.execute([name.encode()])
            if reply.startswith(b"-") and b"wrong number of arguments" not in reply:
                notes[name] = "always refused: `" + reply[1:].decode().strip() + "`"
    # a container (``ACL``, ``CONFIG``...) counts as answered when its subcommands are
    containers = subcommanded & set(COMMANDS_WITH_SUB)
    missing = sorted((known | set(FRONT_END_SUBCOMMAND_CANDIDATES)) - set(answered) - containers)

    version = getattr(fakeredis, "__version__", None) or _dist_version("fakeredis")
    out = [
        "## Redis",
        "",
        f"The Redis fake answers as Redis {engine.REDIS_VERSION} on fakeredis {version}. "
        f"{len(answered)} commands and subcommands are answered.",
        "",
        "A command goes, in order, through:",
        "",
        "1. a **fast path** (`simdb/redis/fastpath.py`) for its plain form on a connection in its "
        "plain state (see `Session.refresh` in `simdb/redis/engine.py`); anything else falls through;",
        "2. the **front-end handler** (`simdb/redis/frontend.py`) of its command name, which answers "
        "server-level commands itself or checks their arguments and passes them on;",
        "3. the fakeredis engine's own command (its family is the fakeredis mixin that implements it).",
        "",
        "Front-end commands: " + ", ".join(f"`{n.upper()}`" for n in sorted(own)) + ".",
        "Fast paths: " + ", ".join(f"`{n.upper()}`" for n in sorted(fast)) + ".",
        "Blocking commands (run on a worker thread): "
        + ", ".join(f"`{n.upper()}`" for n in sorted(blocking)) + ".",
        "",
    ]
    families: dict[str, list[str]] = defaultdict(list)
    for name, family in answered.items():
        families[family].append(name)
    for family in sorted(families):
        names = sorted(families[family])
        noted = any(n in notes for n in names)
        out += [f"### {family} ({len(names)})", "",
                "| command | fast path | front-end handler | blocking |" + (" note |" if noted else ""),
                "|---|---|---|---|" + ("---|" if noted else "")]
        for name in names:
            head = name.split(" ")[0]
            out.append(
                f"| `{name.upper()}` | {'yes' if name in fast else ''} | "
                f"{'yes' if head in own else ''} | "
                f"{'yes' if name in blocking else ''} |" + (f" {notes.get(name, '')} |" if noted else "")
            )
        out.append("")
    out += [
        "### Not answered",
        "",
        "Named in fakeredis's copy of the Redis command table (`commands.json`) but not answered; "
        "the fake replies `ERR unknown command` (or `unknown subcommand`):",
        "",
        ", ".join(f"`{n.upper()}`" for n in missing) if missing else "(none)",
        "",
    ]
    for reason in sorted(skipped):
        out += [f"Registered in fakeredis but skipped, {reason}: "
                + ", ".join(f"`{n.upper()}`" for n in sorted(skipped[reason])) + ".", ""]
    return out


def _dist_version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


# -- SQL -----------------------------------------------------------------------------------------

SQL_PROBES: tuple[tuple[str, str, str], ...] = (
    # (family, statement kind, statement); run in this order on one connection.
    ("DDL", "CREATE TABLE",
     "CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20), n INT NOT NULL DEFAULT 0)"),
    ("DDL", "CREATE TABLE IF NOT EXISTS", "CREATE TABLE IF NOT EXISTS t (id INT PRIMARY KEY)"),
    ("DDL", "CREATE TABLE ... LIKE", "CREATE TABLE t_like LIKE t"),
    ("DDL", "CREATE INDEX", "CREATE INDEX t_name ON t (name)"),
    ("DDL", "DROP INDEX", "DROP INDEX t_name ON t"),
    ("DDL", "ALTER TABLE ADD COLUMN", "ALTER TABLE t ADD COLUMN extra INT"),
    ("DDL", "CREATE VIEW", "CREATE VIEW v AS SELECT id FROM t"),
    ("DDL", "CREATE DATABASE", "CREATE DATABASE other"),
    ("DDL", "CREATE PROCEDURE", "CREATE PROCEDURE p() SELECT 1"),
    ("Write", "INSERT", "INSERT INTO t (id, name) VALUES (1, 'a'), (2, 'b')"),
    ("Write", "INSERT ... ON DUPLICATE KEY UPDATE",
     "INSERT INTO t (id, name) VALUES (1, 'c') ON DUPLICATE KEY UPDATE name = VALUES(name)"),
    ("Write", "INSERT IGNORE", "INSERT IGNORE INTO t (id, name) VALUES (1, 'd')"),
    ("Write", "REPLACE", "REPLACE INTO t (id, name) VALUES (3, 'e')"),
    ("Write", "INSERT ... SELECT", "INSERT INTO t (id, name) SELECT id + 10, name FROM t"),
    ("Write", "UPDATE", "UPDATE t SET n = n + 1 WHERE id = 1"),
    ("Write", "UPDATE ... ORDER BY LIMIT", "UPDATE t SET n = 0 ORDER BY id LIMIT 1"),
    ("Write", "DELETE", "DELETE FROM t WHERE id = 13"),
    ("Write", "multi-table DELETE", "DELETE t FROM t JOIN t AS u ON t.id = u.id WHERE t.id = 12"),
    ("Query", "SELECT from a table", "SELECT id, name FROM t ORDER BY id"),
    ("Query", "SELECT without a table", "SELECT 1 + 1"),
    ("Query", "SELECT with WHERE, no table", "SELECT 1 FROM DUAL WHERE 1 = 1"),
    ("Query", "SELECT ... JOIN", "SELECT a.id FROM t a JOIN t b ON a.id = b.id"),
    ("Query", "SELECT ... GROUP BY / HAVING",
     "SELECT name, COUNT(*) FROM t GROUP BY name HAVING COUNT(*) > 0 ORDER BY name"),
    ("Query", "SELECT ... UNION", "SELECT id FROM t UNION SELECT id FROM t ORDER BY id"),
    ("Query", "WITH (CTE)", "WITH c AS (SELECT id FROM t) SELECT COUNT(*) FROM c"),
    ("Query", "subquery", "SELECT id FROM t WHERE id IN (SELECT id FROM t WHERE n > 0)"),
    ("Query", "SELECT ... FOR UPDATE", "SELECT id FROM t WHERE id = 1 FOR UPDATE"),
    ("Query", "SELECT from information_schema",
     "SELECT table_name FROM information_schema.tables WHERE table_schema = 'simdb'"),
    ("Query", "EXPLAIN", "EXPLAIN SELECT id FROM t"),
    ("Transaction", "BEGIN", "BEGIN"),
    ("Transaction", "SAVEPOINT", "SAVEPOINT s1"),
    ("Transaction", "ROLLBACK TO SAVEPOINT", "ROLLBACK TO SAVEPOINT s1"),
    ("Transaction", "RELEASE SAVEPOINT", "RELEASE SAVEPOINT s1"),
    ("Transaction", "COMMIT", "COMMIT"),
    ("Transaction", "START TRANSACTION", "START TRANSACTION"),
    ("Transaction", "ROLLBACK", "ROLLBACK"),
    ("Transaction", "SET autocommit", "SET autocommit = 1"),
    ("Transaction", "LOCK TABLES", "LOCK TABLES t WRITE"),
    ("Transaction", "UNLOCK TABLES", "UNLOCK TABLES"),
    ("Transaction", "XA", "XA START 'x'"),
    ("Session", "SET NAMES", "SET NAMES utf8mb4"),
    ("Session", "SET SESSION variable", "SET SESSION sql_mode = 'STRICT_TRANS_TABLES'"),
    ("Session", "SET user variable", "SET @x = 1"),
    ("Session", "USE", "USE simdb"),
    ("Session", "SELECT @@variable", "SELECT @@version_comment"),
    ("Metadata", "SHOW DATABASES", "SHOW DATABASES"),
    ("Metadata", "SHOW TABLES", "SHOW TABLES"),
    ("Metadata", "SHOW COLUMNS", "SHOW COLUMNS FROM t"),
    ("Metadata", "SHOW INDEX", "SHOW INDEX FROM t"),
    ("Metadata", "SHOW CREATE TABLE", "SHOW CREATE TABLE t"),
    ("Metadata", "SHOW VARIABLES", "SHOW VARIABLES LIKE 'autocommit'"),
    ("Metadata", "SHOW STATUS", "SHOW STATUS LIKE 'Uptime'"),
    ("Metadata", "SHOW WARNINGS", "SHOW WARNINGS"),
    ("Metadata", "SHOW PROCESSLIST", "SHOW PROCESSLIST"),
    ("Metadata", "DESCRIBE", "DESCRIBE t"),
    ("Admin", "FLUSH", "FLUSH TABLES"),
    ("Admin", "ANALYZE TABLE", "ANALYZE TABLE t"),
    ("Admin", "OPTIMIZE TABLE", "OPTIMIZE TABLE t"),
    ("Admin", "GRANT", "GRANT SELECT ON simdb.* TO 'u'@'%'"),
    ("Admin", "CALL", "CALL p()"),
    ("Admin", "PREPARE (SQL)", "PREPARE s FROM 'SELECT 1'"),
    ("Admin", "LOAD DATA", "LOAD DATA INFILE '/nonexistent' INTO TABLE t"),
    ("Admin", "RENAME TABLE", "RENAME TABLE t_like TO t_renamed"),
    ("DDL", "TRUNCATE TABLE", "TRUNCATE TABLE t"),
    ("DDL", "DROP VIEW", "DROP VIEW v"),
    ("DDL", "DROP TABLE", "DROP TABLE t"),
    ("DDL", "DROP TABLE IF EXISTS", "DROP TABLE IF EXISTS t"),
    ("DDL", "DROP DATABASE", "DROP DATABASE other"),
)
"""Every SQL statement kind the page reports on, with the statement that probes it."""

SQL_FAMILIES = ("Query", "Write", "Transaction", "Session", "Metadata", "DDL", "Admin")


def _sql_outcome(cur: Any, sql: str) -> str:
    import pymysql

    try:
        cur.execute(sql)
    except pymysql.err.MySQLError as exc:
        if exc.args and isinstance(exc.args[0], int):
            code = exc.args[0]
            text = exc.args[1] if len(exc.args) > 1 else ""
            return f"refused: {code} {text}".replace("|", "\\|")
        return f"refused: {type(exc).__name__} {exc}".replace("|", "\\|")
    if cur.description is not None:
        rows = cur.fetchall()
        return f"answered ({len(rows)} row{'' if len(rows) == 1 else 's'})"
    return "answered"


def sql_probe() -> list[tuple[str, str, str, str]]:
    """Run every probe against an embedded MySQL fake: ``(family, kind, statement, outcome)``."""
    import pymysql

    from simdb.mysql.fake import MySQLConfig, MySQLFake

    fake = MySQLFake(MySQLConfig(name="coverage", engine="fake", database="simdb", user="root"))
    endpoint = fake.start()
    results = []
    previous = logging.root.manager.disable
    logging.disable(logging.ERROR)  # refused probes log as a real bad query would; not page text
    try:
        def connect() -> Any:
            return pymysql.connect(host=endpoint.host, port=endpoint.port, user="root", password="",
                                   database="simdb", autocommit=True)

        conn = connect()
        try:
            for family, kind, sql in SQL_PROBES:
                try:
                    outcome = _sql_outcome(conn.cursor(), sql)
                except (pymysql.err.InterfaceError, ConnectionError) as exc:  # dropped: say so
                    outcome = f"connection lost: {type(exc).__name__}"
                    conn = connect()
                results.append((family, kind, sql, outcome))
        finally:
            conn.close()
    finally:
        logging.disable(previous)
        fake.stop()
    return results


def sql_section() -> list[str]:
    """The SQL part of the page."""
    results = sql_probe()
    order = {f: i for i, f in enumerate(SQL_FAMILIES)}
    answered = sum(1 for r in results if r[3].startswith("answered"))
    out = [
        "## SQL (MySQL fake)",
        "",
        "The MySQL fake has no statement table to read, so `scripts/gen_coverage.py` probes it: it "
        "starts an embedded fake (`engine=\"fake\"`, database `simdb`), sends each statement below "
        "in this order on one PyMySQL connection and records the reply. `refused` shows the error "
        "code and text the client got. "
        f"{answered} of {len(results)} statement kinds are answered.",
        "",
    ]
    by_family: dict[str, list[tuple[str, str, str, str]]] = defaultdict(list)
    for row in results:
        by_family[row[0]].append(row)
    for family in sorted(by_family, key=lambda f: order.get(f, len(order))):
        out += [f"### {family}", "", "| statement kind | probe | result |", "|---|---|---|"]
        for _, kind, sql, outcome in by_family[family]:
            out.append(f"| {kind} | `{sql}` | {outcome} |")
        out.append("")
    out += sql_functions_section()
    return out


def sql_functions_section() -> list[str]:
    """The SQL functions the fake supports, listed from the registry its engine uses."""
    from simdb.mysql.functions import REGISTRY, by_category

    out = [
        "### Functions",
        "",
        "From `simdb.mysql.functions.REGISTRY`, the registry the fake's translation checks every "
        "call against: a function not listed is refused with 1235 (`simdb fake does not support "
        "function NAME`). `udf`: a deterministic Python function registered on SQLite; `native`: "
        f"SQLite's own. {len(REGISTRY)} functions.",
        "",
        "| category | function | arguments | runs as |",
        "|---|---|---|---|",
    ]
    for category, names in by_category().items():
        for name in names:
            spec = REGISTRY[name]
            most = "any" if spec.max_args < 0 else str(spec.max_args)
            arity = str(spec.min_args) if most == str(spec.min_args) else f"{spec.min_args}..{most}"
            out.append(f"| {category} | `{name}` | {arity} | {spec.kind} |")
    out.append("")
    return out


# -- Thrift --------------------------------------------------------------------------------------


def _stub_counts(path: Path) -> Counter[str]:
    from simdb.snapshot.format import iter_jsonl

    counts: Counter[str] = Counter()
    if path.is_file():
        for _, stub in iter_jsonl(path):
            counts[str(stub.get("method", ""))] += 1
    return counts


def _own_services(module: Any) -> Iterator[str]:
    for svc in getattr(module, "__thrift_meta__", {}).get("services", ()):
        yield svc.__name__


def thrift_section() -> list[str]:
    """The Thrift part of the page."""
    from simdb.thrift.idl import load_idl
    from simdb.thrift.model import service_model

    out = [
        "## Thrift (demo home-feed services)",
        "",
        "Every method of every service in the demo IDLs (`thrift/homefeed/<part>.thrift`), with the "
        "service that declares it (inherited methods name the base service), whether it is oneway, "
        "its declared exceptions, and how many stubs the demo seed "
        "(`seeds/homefeed/thrift/<part>/stubs.jsonl`) holds for it. A method with stubs answers "
        "matching calls from the seed; any other call gets a value generated from the IDL.",
        "",
    ]
    for part in sorted(THRIFT_PARTS):
        idl = ROOT / "thrift" / "homefeed" / f"{part}.thrift"
        stubs_path = ROOT / "seeds" / "homefeed" / "thrift" / part / "stubs.jsonl"
        module = load_idl(idl)
        counts = _stub_counts(stubs_path)
        seen: set[str] = set()
        for service_name in sorted(_own_services(module)):
            model = service_model(module, service_name)
            out += [
                f"### {part}: `{model.name}` (`thrift/homefeed/{part}.thrift`)",
                "",
                "| method | declared in | oneway | exceptions | seed stubs |",
                "|---|---|---|---|---|",
            ]
            for name in sorted(model.methods):
                m = model.methods[name]
                seen.add(name)
                excs = ", ".join(f"`{e.name}`" for e in m.exceptions) or "-"
                stubs = counts.get(name, 0)
                out.append(
                    f"| `{name}` | `{m.service}` | {'yes' if m.oneway else 'no'} | {excs} | "
                    f"{stubs if stubs else '0 (generated)'} |"
                )
            out.append("")
        stray = sorted(set(counts) - seen)
        if stray:
            out += [f"Stubs in `seeds/homefeed/thrift/{part}/stubs.jsonl` for methods the IDL does not "
                    "declare: " + ", ".join(f"`{s}` ({counts[s]})" for s in stray) + ".", ""]
    return out


# -- page ----------------------------------------------------------------------------------------


def render() -> str:
    """The whole page."""
    lines = [
        "# Coverage",
        "",
        "<!-- Generated by scripts/gen_coverage.py; do not edit. Regenerate with: "
        f"{REGENERATE} -->",
        "",
        "What simdb's fakes answer, derived from the code by `scripts/gen_coverage.py`. "
        "`tests/core/test_coverage_page.py` fails when this page is out of date.",
        "",
        "- [Redis](#redis)",
        "- [SQL (MySQL fake)](#sql-mysql-fake)",
        "- [Thrift (demo home-feed services)](#thrift-demo-home-feed-services)",
        "",
    ]
    lines += redis_section()
    lines += sql_section()
    lines += thrift_section()
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the page (default ``docs/coverage.md``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write the page")
    args = parser.parse_args(argv)
    text = render()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
