"""Fuzz the Redis fake with malformed RESP frames, against a real redis-server on the same frames.

Each frame (seeded, reproducible: valid requests broken by cutting, corrupting, lying in length
headers, nesting, garbage; see tests/redis/resp_frames.py) goes on its own connection, half-closed,
and the whole answer is read. Reports frames/s for the fake and for redis-server (the baseline),
their ratio (target >= 0.3), and every frame whose answer differs (target: none). After the run the
fake must still answer PING.

The machine is shared and noisy: each rate is the best of several alternating rounds.

Usage: .venv/bin/python bench/fuzz_redis.py [--frames N] [--rounds R] [--minutes M] [--seed S]
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
from pathlib import Path

# bench/redis.py would shadow redis-py: keep this directory off the path, the repository root on it.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from simdb.redis.real import RealRedis  # noqa: E402
from tests.redis.resp_frames import exchange, random_input  # noqa: E402

TARGET_RATIO = 0.3


def run(host: str, port: int, frames: list[bytes]) -> tuple[float, list[bytes]]:
    """Frames per second, and the answers."""
    answers = []
    started = time.perf_counter()
    for frame in frames:
        answers.append(exchange(host, port, frame))
    return len(frames) / (time.perf_counter() - started), answers


def start_fake() -> tuple[subprocess.Popen[str], str, int]:
    """``simdb redis serve`` in its own process (as it runs for real; in-process it would share our GIL)."""
    code = "import sys; from simdb.cli import main; sys.argv[0] = 'simdb'; main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "redis", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # "redis (fake) ready at redis://HOST:PORT/0"
    if "ready at redis://" not in line:
        proc.kill()
        raise SystemExit(f"the fake did not start: {line!r}")
    host, port = line.rsplit("redis://", 1)[1].split("/")[0].rsplit(":", 1)
    return proc, host, int(port)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=3000, help="frames per round (default 3000)")
    parser.add_argument("--minutes", type=float, default=0.0, help="keep going (rounds of --frames)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3, help="at least this many rounds; best rate counts")
    args = parser.parse_args()
    proc, fake_host, fake_port = start_fake()
    real = RealRedis()
    real.start()
    rng = random.Random(args.seed)
    deadline = time.monotonic() + args.minutes * 60
    total, mismatches, fake_rates, real_rates = 0, [], [], []
    try:
        while True:
            frames = [random_input(rng) for _ in range(args.frames)]
            # same starting state for both (the frames write keys): empty, once per round
            for host, port in ((fake_host, fake_port), (real.host, real.port)):
                exchange(host, port, b"FLUSHALL\r\n")
            fake_rate, fake_answers = run(fake_host, fake_port, frames)
            real_rate, real_answers = run(real.host, real.port, frames)
            fake_rates.append(fake_rate)
            real_rates.append(real_rate)
            total += len(frames)
            for frame, a, b in zip(frames, fake_answers, real_answers, strict=True):
                if a != b:
                    mismatches.append(frame)
            if time.monotonic() >= deadline and len(fake_rates) >= args.rounds:
                break
        alive = exchange(fake_host, fake_port, b"PING\r\n") == b"+PONG\r\n"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        real.stop()

    fake_rate, real_rate = max(fake_rates), max(real_rates)
    ratio = fake_rate / real_rate
    print(f"frames: {total} (seed {args.seed})")
    print(f"fake:         {fake_rate:10,.0f} frames/s")
    print(f"redis-server: {real_rate:10,.0f} frames/s (baseline)")
    verdict = "ok" if ratio >= TARGET_RATIO else "MISS"
    print(f"ratio fake/redis-server: {ratio:.2f} (target >= {TARGET_RATIO}: {verdict})")
    print(f"answers differing from redis-server: {len(mismatches)} (target 0)")
    for frame in mismatches[:10]:
        print(f"  {frame!r}")
    print(f"fake still serving after the run: {'yes' if alive else 'NO'}")
    return 0 if alive and not mismatches and ratio >= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
