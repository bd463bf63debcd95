"""Domain rules of the demo services for `simdb contract verify --properties` (docs/contracts.md)."""

from simdb.contract import prop

@prop("getPins")
def every_pin_was_asked_for(args, result):
    assert set(result.pins or {}) <= set(args.ids)
    assert set(result.missing or ()) <= set(args.ids)

@prop("Ranker.rank")
def rank_returns_a_permutation(args, result):
    assert sorted(p.pinId for p in result.ranked or ()) == sorted(args.req.candidates)

@prop("PinStore.getPin", exceptions=True)
def not_found_names_the_id(args, result):
    if isinstance(result, Exception):
        assert result.id == args.id
