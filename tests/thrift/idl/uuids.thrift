// The uuid type (Apache Thrift 0.19+: its own wire type). Served by simdb's own codec.
struct Session {
  1: uuid id,
  2: string name,
  3: list<uuid> peers,
  4: map<uuid, i32> scores
}

exception NoSession {
  1: uuid id
}

const uuid ROOT = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"

service Sessions {
  Session get(1: uuid id, 2: set<uuid> tags) throws (1: NoSession missing)
  uuid newId()
}
