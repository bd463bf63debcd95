"""Make ``seeds/homefeed/``, the demo snapshot, the way a team would make a real one.

1. Start a real ``redis-server`` and a real MariaDB (simdb's RealRedis / RealMariaDB,
   temporary directories, free ports) and fill them with a small home-feed world:
   users 1..20, boards 101..140, pins 1001..1200, follows and pin tags in SQL;
   followee lists, feature caches, recent feeds and sessions in Redis.
2. Capture both with ``simdb.snapshot`` (the same code as ``simdb snapshot capture``).
3. Add Thrift stubs for pinstore, usergraph, candidates and ranker, built from the
   same data, so every id a stub returns is a row in SQL and a key in Redis.
4. Scrub with ``examples/homefeed_scrub.yaml`` (fake e-mails and usernames, hashed
   session tokens; one key, so SQL, Redis and stubs agree) and verify.

Run: ``.venv/bin/python examples/make_homefeed_seed.py [--out seeds/homefeed]``.
Deterministic except the captured remaining TTLs of the session keys.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from simdb.mysql.real import RealMariaDB
from simdb.redis.real import RealRedis
from simdb.snapshot.capture_redis import capture_redis
from simdb.snapshot.capture_sql import capture_sql
from simdb.snapshot.scrub import load_rules, scrub_snapshot
from simdb.snapshot.verify import ThriftIdl, verify_snapshot
from simdb.snapshot.writer import SnapshotWriter

ROOT = Path(__file__).resolve().parents[1]
IDL = ROOT / "thrift" / "homefeed"
SCRUB_KEY = b"homefeed-demo-seed"  # demo data: the key may be public
SEED = 20240601
EPOCH_MS = 1_717_200_000_000

SCHEMA = [
    """CREATE TABLE users (
  id BIGINT NOT NULL PRIMARY KEY,
  username VARCHAR(64) NOT NULL UNIQUE,
  email VARCHAR(128) NOT NULL UNIQUE,
  display_name VARCHAR(100) NULL,
  locale VARCHAR(8) NOT NULL DEFAULT 'en-US',
  follower_count INT NOT NULL DEFAULT 0,
  created_at DATETIME NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
    """CREATE TABLE follows (
  follower_id BIGINT NOT NULL,
  followee_id BIGINT NOT NULL,
  created_at DATETIME NOT NULL,
  PRIMARY KEY (follower_id, followee_id),
  CONSTRAINT follows_follower FOREIGN KEY (follower_id) REFERENCES users (id),
  CONSTRAINT follows_followee FOREIGN KEY (followee_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
    """CREATE TABLE boards (
  id INT NOT NULL PRIMARY KEY,
  owner_id BIGINT NOT NULL,
  name VARCHAR(100) NOT NULL,
  description TEXT NULL,
  is_secret TINYINT(1) NOT NULL DEFAULT 0,
  CONSTRAINT boards_owner FOREIGN KEY (owner_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
    """CREATE TABLE pins (
  id BIGINT NOT NULL PRIMARY KEY,
  owner_id BIGINT NOT NULL,
  board_id INT NOT NULL,
  title VARCHAR(200) NOT NULL DEFAULT '',
  description TEXT NULL,
  media_type ENUM('IMAGE','VIDEO','CAROUSEL','IDEA') NOT NULL DEFAULT 'IMAGE',
  image_url VARCHAR(255) NOT NULL,
  width SMALLINT NOT NULL,
  height SMALLINT NOT NULL,
  save_count INT NOT NULL DEFAULT 0,
  quality_tier TINYINT NOT NULL DEFAULT 3,
  is_promoted TINYINT(1) NOT NULL DEFAULT 0,
  price DECIMAL(8,2) NULL,
  embedding VARBINARY(16) NULL,
  created_at DATETIME NOT NULL,
  CONSTRAINT pins_owner FOREIGN KEY (owner_id) REFERENCES users (id),
  CONSTRAINT pins_board FOREIGN KEY (board_id) REFERENCES boards (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
    """CREATE TABLE pin_tags (
  pin_id BIGINT NOT NULL,
  tag VARCHAR(32) NOT NULL,
  PRIMARY KEY (pin_id, tag),
  CONSTRAINT pin_tags_pin FOREIGN KEY (pin_id) REFERENCES pins (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
]

FIRST = [
    "ada",
    "bo",
    "cy",
    "dee",
    "eli",
    "fay",
    "gus",
    "hal",
    "ivy",
    "jo",
    "kai",
    "lu",
    "mo",
    "ned",
    "ola",
    "pia",
    "quin",
    "rex",
    "sol",
    "tia",
]
TOPICS = ["recipes", "travel", "diy", "garden", "fashion", "cats", "hiking", "interiors", "cars", "art"]
LOCALES = ["en-US", "de-DE", "fr-FR", "ja-JP"]
MEDIA = ["IMAGE", "IMAGE", "IMAGE", "VIDEO", "CAROUSEL", "IDEA"]


def world() -> dict[str, Any]:
    """The demo data, deterministic for SEED."""
    rng = random.Random(SEED)
    users = []
    for uid in range(1, 21):
        name = FIRST[uid - 1]
        users.append(
            {
                "id": uid,
                "username": f"{name}{uid}",
                "email": f"{name}.{uid}@mail.example",
                "display_name": f"{name.capitalize()} {chr(64 + uid)}." if uid % 4 else None,
                "locale": LOCALES[uid % 4],
                "created_at": f"2023-{1 + uid % 12:02d}-{1 + uid:02d} 09:00:00",
            }
        )
    follows = []
    for u in users:
        others = [v["id"] for v in users if v["id"] != u["id"]]
        for fid in sorted(rng.sample(others, rng.randint(3, 8))):
            follows.append(
                {
                    "follower_id": u["id"],
                    "followee_id": fid,
                    "created_at": f"2024-0{rng.randint(1, 5)}-{rng.randint(10, 28)} 12:00:00",
                }
            )
    for u in users:
        u["follower_count"] = sum(1 for f in follows if f["followee_id"] == u["id"])
    boards = []
    for bid in range(101, 141):
        owner = 1 + (bid - 101) % 20
        topic = TOPICS[(bid - 101) % len(TOPICS)]
        boards.append(
            {
                "id": bid,
                "owner_id": owner,
                "name": f"{topic.capitalize()} #{bid}",
                "description": f"{FIRST[owner - 1]}'s {topic} ideas" if bid % 3 else None,
                "is_secret": 1 if bid % 13 == 0 else 0,
            }
        )
    pins = []
    tags = []
    for pid in range(1001, 1201):
        board = boards[(pid - 1001) % 40]
        topic = TOPICS[(board["id"] - 101) % len(TOPICS)]
        w = rng.choice([236, 474, 564, 736])
        h = int(w * rng.choice([1.0, 1.25, 1.5, 1.78]))
        pins.append(
            {
                "id": pid,
                "owner_id": board["owner_id"],
                "board_id": board["id"],
                "title": f"{topic.capitalize()} idea {pid}",
                "description": f"A {topic} pin saved to {board['name']}" if pid % 5 else None,
                "media_type": MEDIA[pid % len(MEDIA)],
                "image_url": f"https://img.example/{pid}.jpg",
                "width": w,
                "height": h,
                "save_count": rng.randint(0, 5000),
                "quality_tier": rng.randint(1, 5),
                "is_promoted": 1 if pid % 17 == 0 else 0,
                "price": f"{rng.randint(5, 300)}.{rng.randint(0, 99):02d}" if pid % 7 == 0 else None,
                "embedding": bytes(rng.randrange(256) for _ in range(16)),
                "created_at": f"2024-{1 + pid % 6:02d}-{1 + pid % 28:02d} {pid % 24:02d}:{pid % 60:02d}:00",
            }
        )
        for tag in sorted({topic, rng.choice(TOPICS)}):
            tags.append({"pin_id": pid, "tag": tag})
    return {"users": users, "follows": follows, "boards": boards, "pins": pins, "pin_tags": tags}


def fill_sql(url: str, data: dict[str, Any]) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for stmt in SCHEMA:
            conn.exec_driver_sql(stmt)
        for table in ("users", "follows", "boards", "pins", "pin_tags"):
            rows = data[table]
            cols = list(rows[0])
            sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})"
            conn.exec_driver_sql(sql, [tuple(r[c] for c in cols) for r in rows])
    engine.dispose()


def followees(data: dict[str, Any], uid: int) -> list[int]:
    return [f["followee_id"] for f in data["follows"] if f["follower_id"] == uid]


def candidates_for(data: dict[str, Any], uid: int) -> list[dict[str, Any]]:
    """Pins on the boards of the user's followees, best saved first (the candidate generator's answer)."""
    fol = set(followees(data, uid))
    pins = [p for p in data["pins"] if p["owner_id"] in fol]
    pins.sort(key=lambda p: (-p["save_count"], p["id"]))
    return pins[:25]


def fill_redis(client: Any, data: dict[str, Any]) -> None:
    pipe = client.pipeline(transaction=False)
    for u in data["users"]:
        uid = u["id"]
        fol = [f for f in data["follows"] if f["follower_id"] == uid]
        pipe.zadd(f"followees:{uid}", {str(f["followee_id"]): float(i + 1) for i, f in enumerate(fol)})
        pipe.hset(
            f"user:{uid}:features",
            mapping={
                "locale": u["locale"],
                "num_followees": len(fol),
                "follower_count": u["follower_count"],
                "ctr_7d": f"{0.01 + (uid * 37 % 100) / 1000:.3f}",
                "top_topic": TOPICS[uid % len(TOPICS)],
            },
        )
        pipe.sadd(f"user:{uid}:boards", *[str(b["id"]) for b in data["boards"] if b["owner_id"] == uid])
        cands = candidates_for(data, uid)
        if cands:
            pipe.rpush(f"feed:{uid}:recent", *[str(p["id"]) for p in cands[:10]])
        pipe.set(f"session:{uid}", f"sess-{uid:04d}-{u['username']}", px=7 * 86_400_000)
    for p in data["pins"]:
        pipe.hset(
            f"pin:{p['id']}:features",
            mapping={
                "save_count": p["save_count"],
                "quality_tier": p["quality_tier"],
                "board_id": p["board_id"],
                "embedding": p["embedding"],
            },
        )
    pipe.set("model:ranker:version", "homefeed-ranker-v7")
    pipe.execute()


def pin_json(p: dict[str, Any], tags: list[str]) -> dict[str, Any]:
    import base64

    return {
        "id": p["id"],
        "ownerId": p["owner_id"],
        "boardId": p["board_id"],
        "title": p["title"],
        **({"description": p["description"]} if p["description"] else {}),
        "mediaType": p["media_type"],
        "images": [{"url": p["image_url"], "width": p["width"], "height": p["height"]}],
        "tags": sorted(tags),
        "embedding": base64.b64encode(p["embedding"]).decode(),
        "createdAtMs": EPOCH_MS + (p["id"] - 1000) * 3_600_000,
        "saveCount": p["save_count"],
        "qualityTier": p["quality_tier"],
        "aspectRatio": round(p["height"] / p["width"], 4),
        "isPromoted": bool(p["is_promoted"]),
    }


def stubs(data: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Stubs per Thrift part, consistent with the SQL rows and Redis keys."""
    tags: dict[int, list[str]] = {}
    for t in data["pin_tags"]:
        tags.setdefault(t["pin_id"], []).append(t["tag"])
    out: dict[str, list[dict[str, Any]]] = {"pinstore": [], "usergraph": [], "candidates": [], "ranker": []}
    for p in data["pins"]:
        out["pinstore"].append(
            {
                "id": f"pin-{p['id']}",
                "method": "getPin",
                "match": "exact",
                "args": {"id": p["id"]},
                "reply": {"return": pin_json(p, tags[p["id"]])},
            }
        )
    out["pinstore"].append(
        {
            "id": "pin-missing",
            "method": "getPin",
            "priority": -1,
            "args": {},
            "reply": {"raise": {"PinNotFound": {"id": 0, "message": "no such pin"}}},
        }
    )
    for u in data["users"]:
        uid = u["id"]
        fol = followees(data, uid)
        out["usergraph"].append(
            {
                "id": f"followees-{uid}",
                "method": "getFollowees",
                "args": {"userId": uid},
                "reply": {"return": {"followees": fol, "total": len(fol)}},
            }
        )
        user = {
            "id": uid,
            "username": u["username"],
            "locale": u["locale"],
            "followerCount": u["follower_count"],
            "boardIds": sorted(b["id"] for b in data["boards"] if b["owner_id"] == uid),
        }
        if u["display_name"]:
            user["displayName"] = u["display_name"]
        out["usergraph"].append(
            {"id": f"user-{uid}", "method": "getUser", "args": {"userId": uid}, "reply": {"return": user}}
        )
        cands = candidates_for(data, uid)
        out["candidates"].append(
            {
                "id": f"candidates-{uid}",
                "method": "getCandidates",
                "args": {"req": {"userId": uid}},
                "reply": {
                    "return": {
                        "candidates": [
                            {
                                "pinId": p["id"],
                                "source": "FOLLOWING",
                                "viaBoard": p["board_id"],
                                "retrievalScore": round(p["save_count"] / 5000, 4),
                            }
                            for p in cands
                        ],
                        "pinsBySource": {},
                        "shardsQueried": 1,
                    }
                },
            }
        )
        ranked = sorted(cands, key=lambda p: (-(p["save_count"] * p["quality_tier"]), p["id"]))
        out["ranker"].append(
            {
                "id": f"rank-{uid}",
                "method": "rank",
                "args": {"req": {"userId": uid}},
                "reply": {
                    "return": {
                        "ranked": [
                            {"pinId": p["id"], "score": round(p["save_count"] * p["quality_tier"] / 25000, 4)}
                            for p in ranked
                        ],
                        "modelVersion": "homefeed-ranker-v7",
                        "latencyMicros": 850,
                    }
                },
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "seeds" / "homefeed")
    args = parser.parse_args(argv)
    data = world()
    redis_server = RealRedis()
    maria = RealMariaDB(database="homefeed")
    raw = args.out.with_name(f".{args.out.name}.raw")
    try:
        redis_server.start()
        maria.start()
        print(f"redis-server on :{redis_server.port}, mariadbd on :{maria.port}", file=sys.stderr)
        fill_sql(maria.url(), data)
        fill_redis(redis_server.client(), data)
        with SnapshotWriter(
            raw,
            "homefeed",
            "Demo home feed: users 1..20, boards 101..140, pins 1001..1200; "
            "followees and feature caches in Redis; stubs for pinstore, usergraph, "
            "candidates, ranker",
        ) as writer:
            rstats = capture_redis(writer, "cache", f"redis://127.0.0.1:{redis_server.port}")
            sstats = capture_sql(writer, "db", maria.url())
            writer.captured_from = {
                "cache": "redis-server (examples/make_homefeed_seed.py)",
                "db": "mariadb (examples/make_homefeed_seed.py)",
                "thrift": "stubs built by examples/make_homefeed_seed.py",
            }
            for part, items in stubs(data).items():
                fw = writer.open_file(part, "thrift", f"thrift/{part}/stubs.jsonl", jsonl=False)
                for item in items:
                    fw.write(item)
                writer.add_file(part, fw.close())
            writer.commit()
        print(f"captured {rstats.total} keys, {sstats.total} rows", file=sys.stderr)
    finally:
        redis_server.stop()
        maria.stop()
    scrub_snapshot(raw, args.out, load_rules(ROOT / "examples" / "homefeed_scrub.yaml"), SCRUB_KEY)
    shutil.rmtree(raw, ignore_errors=True)
    idls = {
        "pinstore": ThriftIdl(IDL / "pinstore.thrift", "PinStore", (IDL,)),
        "usergraph": ThriftIdl(IDL / "usergraph.thrift", "UserGraph", (IDL,)),
        "candidates": ThriftIdl(IDL / "candidates.thrift", "CandidateGenerator", (IDL,)),
        "ranker": ThriftIdl(IDL / "ranker.thrift", "Ranker", (IDL,)),
    }
    report = verify_snapshot(args.out, idls)
    for finding in report.findings:
        print(finding, file=sys.stderr)
    print(f"wrote {args.out}: {report.records}", file=sys.stderr)
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
