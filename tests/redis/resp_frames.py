"""Malformed, truncated and oversized RESP frames, for the fuzz tests and ``bench/fuzz_redis.py``.

Structure-aware: start from valid requests (RESP arrays and inline commands) and break them the
ways clients and attackers do: cut them anywhere, corrupt a byte, lie in a length header, nest
arrays, send huge or negative counts, mix inline and RESP, split at every byte.
"""

from __future__ import annotations

import random
import socket

from hypothesis import strategies as st

COMMANDS: list[list[bytes]] = [
    [b"PING"],
    [b"ECHO", b"hi there"],  # not "hello": HELLO's reply has the client id, which differs
    [b"SET", b"k", b"v"],
    [b"GET", b"k"],
    [b"INCR", b"n"],
    [b"DEL", b"k", b"n"],
    [b"RPUSH", b"l", b"a", b"b"],
    [b"LRANGE", b"l", b"0", b"-1"],
    [b"HSET", b"h", b"f", b"v"],
    [b"EXISTS", b"k"],
    [b"NOSUCH", b"x"],
    [b"GET"],
]

LENGTHS = [b"-1", b"-2", b"0", b"x", b"", b"2147483647", b"2147483648", b"99999999999", b"536870913"]
LENGTHS += [b"01", b"+5", b" 3", b"0000000", b"02147483647"]


def encode(argv: list[bytes]) -> bytes:
    """A request in canonical RESP."""
    return b"*%d\r\n" % len(argv) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in argv)


def inline(argv: list[bytes]) -> bytes:
    """A request as an inline command."""
    return b" ".join(argv) + b"\r\n"


commands = st.sampled_from(COMMANDS)
valid = st.one_of(commands.map(encode), commands.map(inline))


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """One valid request broken one way (or not at all)."""
    frame = draw(valid)
    how = draw(st.sampled_from(["cut", "flip", "insert", "length", "nest", "header", "garbage", "none"]))
    if how == "cut":
        return frame[: draw(st.integers(0, max(0, len(frame) - 1)))]
    if how == "flip":
        i = draw(st.integers(0, len(frame) - 1))
        return frame[:i] + bytes([draw(st.integers(0, 255))]) + frame[i + 1 :]
    if how == "insert":
        i = draw(st.integers(0, len(frame)))
        return frame[:i] + draw(st.binary(min_size=1, max_size=4)) + frame[i:]
    if how == "length" and frame.startswith(b"*"):
        parts = frame.split(b"\r\n")
        heads = [i for i, p in enumerate(parts) if p[:1] in (b"*", b"$")]
        i = draw(st.sampled_from(heads))
        parts[i] = parts[i][:1] + draw(st.sampled_from(LENGTHS))
        return b"\r\n".join(parts)
    if how == "nest":
        nested = [b"*1\r\n", b"*2147483647\r\n", b":1\r\n", b"+OK\r\n", b"$-1\r\n"]
        return b"*2\r\n" + draw(st.sampled_from(nested))
    if how == "header":
        head = draw(st.sampled_from([b"*", b"$", b"*-1", b"*0", b"*1"]))
        return head + draw(st.sampled_from(LENGTHS)) + b"\r\n"
    if how == "garbage":
        return draw(st.binary(min_size=1, max_size=24))
    return frame


#: One input: a few frames back to back (pipelined), the last possibly broken.
inputs = st.builds(lambda head, tail: b"".join(head) + tail, st.lists(valid, max_size=3), mutated())


def random_input(rng: random.Random) -> bytes:
    """The same kinds of input without hypothesis (for the benchmark): a seeded generator."""
    frame = encode(rng.choice(COMMANDS)) if rng.random() < 0.7 else inline(rng.choice(COMMANDS))
    how = rng.choice(["cut", "flip", "insert", "length", "nest", "garbage", "none"])
    if how == "cut":
        frame = frame[: rng.randrange(max(1, len(frame)))]
    elif how == "flip":
        i = rng.randrange(len(frame))
        frame = frame[:i] + bytes([rng.randrange(256)]) + frame[i + 1 :]
    elif how == "insert":
        i = rng.randrange(len(frame) + 1)
        frame = frame[:i] + rng.randbytes(rng.randint(1, 4)) + frame[i:]
    elif how == "length" and frame.startswith(b"*"):
        parts = frame.split(b"\r\n")
        i = rng.choice([i for i, p in enumerate(parts) if p[:1] in (b"*", b"$")])
        parts[i] = parts[i][:1] + rng.choice(LENGTHS)
        frame = b"\r\n".join(parts)
    elif how == "nest":
        frame = b"*2\r\n" + rng.choice([b"*1\r\n", b"*2147483647\r\n", b":1\r\n", b"+OK\r\n"])
    elif how == "garbage":
        frame = rng.randbytes(rng.randint(1, 24))
    return encode(rng.choice(COMMANDS)) + frame


def exchange(host: str, port: int, data: bytes, timeout: float = 5.0) -> bytes:
    """Send ``data``, half-close, and read everything the server says until it closes.

    Redis (and the fake) answer every complete request, then close when they read the end of input.
    """
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        out = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return out
                out += chunk
        except ConnectionResetError:
            return out + b"<RST>"
