"""Image sizes and build time: simdb's fake-only and real-engine images against the base they are built on.

Baseline: the base image itself (default the offline base, scripts/make-offline-base.sh).
Target (issue 9): the fake-only image at most 60 MB above its base.

    .venv/bin/python bench/images.py [--base IMAGE] [--real]
"""

from __future__ import annotations

import argparse
import subprocess
import time
from pathlib import Path

from simdb.images.build import BuildOptions, build_image, image_size

REPO = Path(__file__).resolve().parent.parent
TARGET_MB = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", default="simdb-base:bookworm")
    parser.add_argument("--real", action="store_true", help="also build and size the real-engine image")
    args = parser.parse_args()
    subprocess.run(["bash", str(REPO / "scripts" / "make-offline-base.sh"), args.base], check=True)
    base = image_size(args.base) / 1e6
    t0 = time.perf_counter()
    fake = build_image(BuildOptions("fake", args.base, "simdb-bench:fake"))
    seconds = time.perf_counter() - t0
    extra = fake.size / 1e6 - base
    print(f"base {args.base}: {base:.1f} MB")
    verdict = "met" if extra <= TARGET_MB else "MISSED"
    print(f"fake-only image: {fake.size / 1e6:.1f} MB, {extra:.1f} MB above the base "
          f"(target <= {TARGET_MB:.0f} MB: {verdict}); built in {seconds:.1f} s")
    print(f"ratio image/base: {fake.size / 1e6 / base:.2f}")
    if args.real:
        real = build_image(BuildOptions("real", args.base, "simdb-bench:real"))
        print(f"real-engine image: {real.size / 1e6:.1f} MB, {real.size / 1e6 - base:.1f} MB above the base")


if __name__ == "__main__":
    main()
