/* A small service for the verify tests: the client's view (tests/contract/test_verify.py). */
namespace py contract_shop

enum Size {
  S = 1,
  M = 2,
  L = 3
}

struct Item {
  1: required i64 id,
  2: required string name,
  3: Size size = Size.M,
  4: optional list<string> tags
}

exception NoSuchItem {
  1: i64 id
}

exception Banned {
  1: string why
}

service Shop {
  Item getItem(1: i64 id) throws (1: NoSuchItem missing),
  i32 count(1: list<i64> ids),
  oneway void touch(1: i64 id)
}
