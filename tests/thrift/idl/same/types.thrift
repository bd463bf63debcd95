// The first types.thrift.
struct Thing {
  1: i64 same_id
}
