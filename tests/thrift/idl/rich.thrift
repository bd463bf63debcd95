// A little of everything: every base type, containers, enums, unions, recursion,
// exceptions, oneway, consts, typedefs, includes from two directories and an extends chain.
include "common.thrift"
include "middle.thrift"

namespace py simdb_test.rich

typedef list<common.ItemId> ItemIds
typedef map<string, double> Weights

const string GREETING = "hello & welcome -0x10, typedef"
const list<i32> PRIMES = [2, 3, 5, 7]
const map<string, i32> LIMITS = {"a": 1, "b": 2}

struct Inner {
  1: required i32 a,
  2: optional string b,
}

struct Point {
  1: i32 x,
  2: i32 y
}

union Value {
  1: bool flag,
  2: i64 number,
  3: double real,
  4: string text,
  5: binary raw,
  6: list<Value> many,
  7: Inner inner
}

struct Tree {
  1: i32 label,
  2: optional list<Tree> children,
  3: optional Tree left
}

struct Everything {
  1: bool b,
  2: i8 tiny,
  3: i16 small,
  4: i32 medium,
  5: i64 large,
  6: double real,
  7: string text,
  8: binary raw,
  9: common.Color color = common.Color.GREEN,
  10: list<string> strings,
  11: set<i64> ids,
  12: map<string, Inner> byName,
  13: map<i32, string> byNumber,
  14: map<Point, list<set<string>>> byPoint,
  15: list<map<string, list<i16>>> nested,
  16: optional Value value,
  17: optional Tree tree,
  18: set<common.Color> colors,
  19: map<common.Color, double> weightsByColor,
  20: string withDefault = "dflt",
  21: optional ItemIds items,
  22: Weights weights,
  23: map<binary, bool> byBytes,
  24: set<Point> points,
  25: list<double> doubles
}

exception Invalid {
  1: string field,
  2: optional Inner detail
}

service RichService extends middle.MiddleService {
  Everything echo(1: Everything e, 2: i32 times = 1) throws (1: Invalid invalid, 2: common.NotFound nf),
  void nothing(),
  Tree tree(1: i32 depth),
  Value value(1: Value v),
  map<common.ItemId, list<Point>> lookup(1: ItemIds ids, 2: set<common.Color> colors, 3: Inner inner),
  oneway void fire(1: string event)
}
