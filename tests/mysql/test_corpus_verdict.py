"""The corpus comparison itself can fail: different rows, types, names or codes are wrong."""

from __future__ import annotations

import random

import pytest

from simdb.mysql.corpus import generate, verdict

pytestmark = pytest.mark.fake

ROWS = ("rows", (("x", "int"),), [(("int", 1),)])


@pytest.mark.parametrize(
    ("fake", "real", "expected"),
    [
        (ROWS, ROWS, "agree"),
        (("rows", (("x", "int"),), [(("int", 2),)]), ROWS, "wrong"),
        (("rows", (("x", "dec"),), [(("int", 1),)]), ROWS, "wrong"),
        (("rows", (("y", "int"),), [(("int", 1),)]), ROWS, "wrong"),
        (("error", 1054, "a"), ROWS, "wrong"),
        (ROWS, ("error", 1406, "b"), "wrong"),
        (("error", 1406, "x"), ("error", 1406, "y"), "agree"),
        (("error", 1235, "simdb fake does not support X"), ROWS, "unsupported"),
        (("ok", 1, 3), ("ok", 1, 4), "wrong"),
    ],
)
def test_verdict(fake: tuple[object, ...], real: tuple[object, ...], expected: str) -> None:
    assert verdict(fake, real) == expected


def test_corpus_is_fixed_by_its_seed() -> None:
    a = generate(random.Random(13), 200)
    assert a == generate(random.Random(13), 200)
    assert len({s.category for s in a}) >= 10
