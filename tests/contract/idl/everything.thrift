/*
 * Every construct the contract strategies must handle, for the round-trip property tests
 * (tests/contract/test_strategies.py). Not a real service.
 */
namespace py contract_everything

typedef i64 Id
typedef list<Id> IdList
typedef map<string, Id> NameIndex

const i32 DEFAULT_LIMIT = 25
const string DEFAULT_NAME = "unnamed"
const double DEFAULT_RATIO = 0.5
const list<string> DEFAULT_TAGS = ["a", "b"]
const map<i32, string> DEFAULT_NAMES = {1: "one", 2: "two"}

enum Color {
  RED = 1,
  GREEN = 2,
  BLUE = 7
}

typedef Color Hue

enum Sparse {
  NEGATIVE = -5,
  ZERO = 0,
  BIG = 2147483647
}

/** Every base type over its full range. */
struct Scalars {
  1: required bool flag,
  2: required i8 tiny,
  3: required i16 small,
  4: required i32 medium,
  5: required i64 large,
  6: required double real,
  7: required string text,
  8: required binary blob,
  9: optional Color color,
  10: optional Sparse sparse,
  11: byte oldByte
}

/** Required, optional and default fields; constants as defaults. */
struct Defaults {
  1: required Id id,
  2: i32 limit = DEFAULT_LIMIT,
  3: string name = DEFAULT_NAME,
  4: double ratio = DEFAULT_RATIO,
  5: list<string> tags = DEFAULT_TAGS,
  6: Hue color = Color.GREEN,
  7: optional i32 maybe,
  8: bool on = true,
  9: map<i32, string> names = DEFAULT_NAMES,
  10: optional string note = "n/a"
}

union Choice {
  1: i32 number,
  2: string word,
  3: Scalars scalars,
  4: list<Color> colors,
  5: binary raw
}

exception Failure {
  1: required string reason,
  2: i32 code = 500,
  3: optional Choice detail
}

exception NotFound {
  1: Id id
}

struct Point {
  1: required i32 x,
  2: required i32 y
}

/** Lists, sets and maps with scalar, enum and container values and non-string keys. */
struct Containers {
  1: list<i64> longs,
  2: set<Color> colors,
  3: map<i32, string> byNumber,
  4: map<Color, double> byColor,
  5: map<double, bool> byDouble,
  6: list<list<string>> nested,
  7: map<string, list<Point>> groups,
  8: set<binary> blobs,
  9: map<binary, i8> byBlob,
  10: IdList ids,
  11: NameIndex index,
  12: list<map<i16, set<string>>> deep,
  13: map<i64, Choice> choices,
  14: set<double> doubles,
  15: map<bool, list<Sparse>> byBool
}

/** Struct and container keys: simdb's codec only (Apache's Python library cannot hash them). */
struct Hashed {
  1: map<Point, string> byPoint,
  2: set<Point> points,
  3: map<list<i32>, string> byList,
  4: set<set<i16>> setOfSets,
  5: set<list<string>> setOfLists,
  6: map<set<Color>, i32> bySet
}

/** A recursive struct: a tree, through a list and directly. */
struct Tree {
  1: required string label,
  2: optional list<Tree> children,
  3: optional Tree left,
  4: optional map<string, Tree> named
}

service Base {
  void ping()
}

service Everything extends Base {
  Scalars echoScalars(1: Scalars s),
  Defaults withDefaults(1: Defaults d, 2: i32 limit = DEFAULT_LIMIT),
  Choice choose(1: Choice c) throws (1: Failure failure),
  Containers containers(1: Containers c) throws (1: Failure failure, 2: NotFound missing),
  Tree tree(1: Tree t, 2: i8 depth),
  void nothing(1: Id id) throws (1: NotFound missing),
  Hue color(1: Hue h, 2: Sparse s),
  list<Tree> forest(1: set<Id> ids, 2: map<Color, IdList> byColor),
  oneway void fire(1: Id id)
}

service HashedService {
  Hashed hashed(1: Hashed h)
}
