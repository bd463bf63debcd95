// Shared by rich.thrift; found through the first include directory.
namespace py simdb_test.common

typedef i64 ItemId

const i32 MAX_ITEMS = 10

enum Color {
  RED = 1,
  GREEN = 2,
  BLUE = 7
}

exception NotFound {
  1: ItemId id,
  2: string message = "not found"
}

service RootService {
  string ping()
}
