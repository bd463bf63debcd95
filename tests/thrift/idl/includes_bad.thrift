include "unknown_type.thrift"

struct Fine {
  1: i32 a
}
