"""MySQL/MariaDB error codes, SQLSTATEs and message texts, word for word as MariaDB says them."""

from __future__ import annotations

from mysql_mimic.errors import MysqlError

# code -> (sqlstate, message template)
MESSAGES: dict[int, tuple[str, str]] = {
    1043: ("08S01", "Bad handshake"),
    1045: ("28000", "Access denied for user '{user}'@'{host}' (using password: {using})"),
    1046: ("3D000", "No database selected"),
    1048: ("23000", "Column '{column}' cannot be null"),
    1049: ("42000", "Unknown database '{database}'"),
    1050: ("42S01", "Table '{table}' already exists"),
    1051: ("42S02", "Unknown table '{table}'"),
    1054: ("42S22", "Unknown column '{column}' in '{where}'"),
    1062: ("23000", "Duplicate entry '{entry}' for key '{key}'"),
    1064: (
        "42000",
        "You have an error in your SQL syntax; check the manual that corresponds to your "
        "MariaDB server version for the right syntax to use near '{near}' at line {line}",
    ),
    1065: ("42000", "Query was empty"),
    1105: ("HY000", "{message}"),
    1052: ("23000", "Column '{column}' in {where} is ambiguous"),
    1136: ("21S01", "Column count doesn't match value count at row {row}"),
    1364: ("HY000", "Field '{column}' doesn't have a default value"),
    1146: ("42S02", "Table '{database}.{table}' doesn't exist"),
    1205: ("HY000", "Lock wait timeout exceeded; try restarting transaction"),
    1235: ("42000", "simdb fake does not support {feature}"),
    1451: ("23000", "Cannot delete or update a parent row: a foreign key constraint fails"),
    1452: ("23000", "Cannot add or update a child row: a foreign key constraint fails"),
    1264: ("22003", "Out of range value for column '{column}' at row {row}"),
    1265: ("01000", "Data truncated for column '{column}' at row {row}"),
    1366: (
        "22007",
        "Incorrect {kind} value: '{value}' for column `{database}`.`{table}`.`{column}` at row {row}",
    ),
    1406: ("22001", "Data too long for column '{column}' at row {row}"),
    1690: ("22003", "{message}"),
    1292: ("22007", "{message}"),
    1582: ("42000", "Incorrect parameter count in the call to native function '{function}'"),
    1835: ("HY000", "Malformed communication packet"),
}

ACCESS_DENIED = 1045
NO_DB = 1046
BAD_NULL = 1048
BAD_DB = 1049
TABLE_EXISTS = 1050
BAD_TABLE = 1051
BAD_FIELD = 1054
DUP_ENTRY = 1062
PARSE = 1064
EMPTY_QUERY = 1065
UNKNOWN = 1105
WRONG_VALUE_COUNT = 1136
NO_SUCH_TABLE = 1146
NO_DEFAULT = 1364
AMBIGUOUS = 1052
LOCK_WAIT_TIMEOUT = 1205
NOT_SUPPORTED = 1235
ROW_IS_REFERENCED = 1451
OUT_OF_RANGE = 1264
DATA_TRUNCATED = 1265
BAD_VALUE = 1366
DATA_TOO_LONG = 1406
WRONG_PARAMCOUNT = 1582
NO_REFERENCED_ROW = 1452
MALFORMED_PACKET = 1835


def not_supported(construct: str) -> SqlError:
    """1235 for a construct the fake cannot run faithfully: "simdb fake does not support ..."."""
    return SqlError(NOT_SUPPORTED, text=f"simdb fake does not support {construct}")


def sqlstate(code: int) -> str:
    """The SQLSTATE MariaDB sends with ``code``."""
    entry = MESSAGES.get(code)
    return entry[0] if entry else "HY000"


class SqlError(MysqlError):  # type: ignore[misc]
    """An error for the client: a MariaDB error code and its message text."""

    def __init__(self, code: int, **fields: object) -> None:
        template = MESSAGES.get(code, ("HY000", "{message}"))[1]
        text = fields.get("text")
        super().__init__(str(text) if text is not None else template.format(**fields), code)
        self.sqlstate = sqlstate(code)


def make_error_packet(code: int, message: str) -> bytes:
    """An ERR packet payload (protocol 4.1): 0xFF, code, ``#``, SQLSTATE, message."""
    return (
        b"\xff"
        + int(code).to_bytes(2, "little")
        + b"#"
        + sqlstate(code).encode("ascii")
        + message.encode("utf-8", "surrogateescape")
    )
