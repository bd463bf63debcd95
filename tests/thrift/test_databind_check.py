"""Static checks of bindings: each error class is found before anything starts, naming where and what."""

from __future__ import annotations

from typing import Any

import pytest

from simdb.errors import ConfigError
from simdb.thrift.databind import check_bindings, parse_bindings
from simdb.thrift.fake import ThriftConfig, ThriftFake
from tests.thrift.databind_support import HOMEFEED, PROBE, SCHEMA, STORES, demo_bindings

pytestmark = pytest.mark.fake

WHERE = "simdb.yaml: fakes.probe.bindings"


def check(raw: Any, stores: dict[str, str] = STORES, schema: bool = True) -> None:
    bindings = parse_bindings(raw, WHERE)
    cfg = ThriftConfig(
        idl=PROBE, services=("Probe",), name="probe", include_dirs=(HOMEFEED,), bindings=bindings
    )
    check_bindings(bindings, cfg, stores, WHERE, schema={"db": SCHEMA} if schema else None)


def sql(query: str, **shape: Any) -> dict[str, Any]:
    return {"sql": {"store": "db", "query": query}, **shape}


def fails(raw: Any, *needles: str, **kwargs: Any) -> str:
    with pytest.raises(ConfigError) as info:
        check(raw, **kwargs)
    message = str(info.value)
    assert message.startswith(WHERE), message
    for needle in needles:
        assert needle in message, message
    return message


def test_the_demo_bindings_pass() -> None:
    raw = demo_bindings()
    for name, service, idl in (
        ("pinstore", "PinStore", "pinstore.thrift"),
        ("usergraph", "UserGraph", "usergraph.thrift"),
        ("candidates", "CandidateGenerator", "candidates.thrift"),
        ("ranker", "Ranker", "ranker.thrift"),
    ):
        bindings = parse_bindings(raw[name], name)
        cfg = ThriftConfig(
            idl=HOMEFEED / idl, services=(service,), include_dirs=(HOMEFEED,), bindings=bindings
        )
        check_bindings(bindings, cfg, STORES, name, schema={"db": SCHEMA})


# --- parsing -----------------------------------------------------------------------------------------------
def test_unknown_key_suggests_the_closest() -> None:
    with pytest.raises(ConfigError) as info:
        parse_bindings({"pin": {"sql": {"store": "db", "querry": "SELECT 1"}}}, WHERE)
    assert f"{WHERE}.pin.sql.querry: unknown key 'querry' (did you mean 'query'?)" in str(info.value)


def test_wrong_type_and_shape_errors_name_the_key() -> None:
    with pytest.raises(ConfigError, match=r"\.pin: expected a mapping"):
        parse_bindings({"pin": "SELECT 1"}, WHERE)
    with pytest.raises(ConfigError, match=r"\.pin: .*give at most one read"):
        parse_bindings(
            {"pin": {**sql("SELECT 1"), "redis": {"store": "c", "command": "GET", "key": "k"}}}, WHERE
        )
    with pytest.raises(ConfigError, match=r"\.pin\.redis: .*unknown Redis read 'KEYS'"):
        parse_bindings({"pin": {"redis": {"store": "c", "command": "KEYS", "key": "*"}}}, WHERE)
    with pytest.raises(ConfigError, match=r"expected a mapping of method name"):
        parse_bindings(["pin"], WHERE)


def test_a_read_must_be_a_select_and_a_write_must_write() -> None:
    with pytest.raises(ConfigError, match=r"\.pin\.sql\.query: a read must be a SELECT"):
        parse_bindings({"pin": sql("DELETE FROM pins")}, WHERE)
    with pytest.raises(ConfigError, match=r"writes\[0\]\.sql\.query: a write must be"):
        parse_bindings({"savePin": {"writes": [{"sql": {"store": "db", "query": "SELECT 1"}}]}}, WHERE)


def test_malformed_key_template() -> None:
    with pytest.raises(ConfigError, match=r"\.boards\.redis: key template .*not a plain argument path"):
        parse_bindings(
            {"boards": {"redis": {"store": "cache", "command": "SMEMBERS", "key": "u:{userId!r}"}}}, WHERE
        )


# --- static checks -----------------------------------------------------------------------------------------
def test_unknown_method() -> None:
    fails({"pinn": sql("SELECT id FROM pins")}, f"{WHERE}.pinn: unknown method 'pinn'", "did you mean 'pin'?")


def test_store_not_in_the_stack() -> None:
    fails(
        {"pin": {"sql": {"store": "mysql", "query": "SELECT id FROM pins WHERE id = :id"}}},
        ".pin.sql.store: no fake 'mysql' in the stack",
        "db (mysql)",
    )


def test_store_of_the_wrong_kind() -> None:
    fails(
        {"modelVersion": {"redis": {"store": "db", "command": "GET", "key": "k"}}},
        ".modelVersion.redis.store: 'db' is a mysql fake; this step needs a redis fake",
    )


def test_missing_key_template_variable() -> None:
    fails(
        {"boards": {"redis": {"store": "cache", "command": "SMEMBERS", "key": "user:{user}:boards"}}},
        ".boards.redis.key: {user}: boards has no argument 'user' (arguments: userId)",
    )


def test_missing_query_parameter_and_struct_field() -> None:
    fails({"pin": sql("SELECT id FROM pins WHERE id = :pinId")}, ".pin.sql.query: {pinId}", "arguments: id")
    fails(
        {"savePin": {"writes": [{"sql": {"store": "db", "query": "UPDATE pins SET title = :pin.name"}}]}},
        ".savePin.writes[0].sql.query: {pin.name}: Pin has no field 'name'",
    )


def test_mapped_field_not_in_the_return_type() -> None:
    fails(
        {"owners": sql("SELECT id, owner_id FROM pins WHERE id IN :ids", map={"pin": "id"})},
        ".owners.map.pin: Owner has no field 'pin'",
    )
    fails(
        {
            "recent": {
                "redis": {"store": "cache", "command": "LRANGE", "key": "feed:{userId}"},
                "into": "items",
            }
        },
        ".recent.into: the return type list<i64> has no field 'items'",
    )


def test_unknown_column() -> None:
    fails({"pin": sql("SELECT id, titel FROM pins WHERE id = :id")}, ".pin.sql.query: unknown column 'titel'")
    fails(
        {"owners": sql("SELECT id, owner_id FROM pins WHERE id IN :ids", map={"pinId": "pin_id"})},
        ".owners.map.pinId: unknown column 'pin_id'",
    )
    fails({"pin": sql("SELECT id FROM pinz WHERE id = :id")}, "unknown table 'pinz'")


def test_column_type_that_cannot_fit_the_field() -> None:
    fails(
        {"pinFeatures": sql("SELECT title AS save_count FROM pins WHERE id = :id")},
        ".pinFeatures.map.saveCount: column 'save_count' (text) cannot fill saveCount (i32)",
    )
    fails(
        {"title": sql("SELECT save_count FROM pins WHERE id = :id")},
        ".title: column 'save_count' (int) cannot be a string",
    )


def test_required_field_without_a_column() -> None:
    fails({"pin": sql("SELECT title FROM pins WHERE id = :id")}, "required field 'id' of Pin has no column")


def test_not_found_names_an_undeclared_exception() -> None:
    fails(
        {"pin": sql("SELECT id, owner_id FROM pins WHERE id = :id", not_found={"raise": "UserNotFound"})},
        ".pin.not_found.raise: pin does not declare 'UserNotFound' (it declares: PinNotFound)",
    )


def test_read_on_a_void_method_and_no_read_on_a_valued_one() -> None:
    fails({"savePin": sql("SELECT id FROM pins")}, "returns nothing (void)")
    fails(
        {"title": {"writes": [{"redis": {"store": "cache", "command": "DEL", "key": "k"}}]}},
        ".title: title returns string; give a read",
    )


def test_compose_items_must_be_a_list_argument() -> None:
    lookup = {"redis": {"store": "cache", "command": "HGETALL", "key": "pin:{item}:features"}}
    fails(
        {"topSaved": {"compose": {"items": "n", "lookup": lookup}, "value": "item"}},
        ".topSaved.compose.items: n is a i32, not a list",
    )


def test_without_a_schema_sql_columns_are_not_checked() -> None:
    check({"pin": sql("SELECT id, owner_id, titel FROM pins WHERE id = :id")}, schema=False)


def test_the_fake_refuses_an_unknown_method_at_construction() -> None:
    cfg = ThriftConfig(
        idl=PROBE,
        services=("Probe",),
        include_dirs=(HOMEFEED,),
        bindings=parse_bindings({"nope": sql("SELECT 1")}, "b"),
    )
    with pytest.raises(ConfigError, match=r"probe\.bindings\.nope: unknown method 'nope'"):
        ThriftFake(cfg)


def test_bind_stack_refuses_a_store_that_is_not_running() -> None:
    from simdb.fake import Endpoint

    cfg = ThriftConfig(
        idl=PROBE,
        services=("Probe",),
        include_dirs=(HOMEFEED,),
        bindings=parse_bindings({"title": sql("SELECT title FROM pins WHERE id = :id")}, "b"),
    )
    fake = ThriftFake(cfg)
    with pytest.raises(ConfigError, match=r"title\.sql\.store: no running fake 'db'"):
        fake.bind_stack({})
    with pytest.raises(ConfigError, match=r"'db' is a redis fake, not mysql"):
        fake.bind_stack({"db": Endpoint("redis", "127.0.0.1", 1)})


def _multiplexed(raw: Any) -> None:
    bindings = parse_bindings(raw, WHERE)
    cfg = ThriftConfig(
        idl=HOMEFEED / "candidates.thrift",
        services=("CandidateGenerator", "base.BaseService"),
        multiplexed=True,
        include_dirs=(HOMEFEED,),
        bindings=bindings,
    )
    check_bindings(bindings, cfg, STORES, WHERE)


def test_multiplexed_method_of_several_services_needs_the_service_name() -> None:
    get = {"redis": {"store": "cache", "command": "GET", "key": "model:ranker:version"}}
    with pytest.raises(ConfigError, match=r"\.version: several served services have 'version'"):
        _multiplexed({"version": get})
    _multiplexed({"BaseService.version": get, "CandidateGenerator.version": get})
    with pytest.raises(ConfigError, match=r"\.Nope\.version: no service 'Nope' is served here"):
        _multiplexed({"Nope.version": get})
    with pytest.raises(ConfigError, match=r"is already bound by BaseService\.version"):
        _multiplexed({"BaseService.version": get, "base.BaseService.version": get})
