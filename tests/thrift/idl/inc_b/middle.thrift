// Found through the second include directory; includes a file of the first one.
include "common.thrift"

namespace py simdb_test.middle

service MiddleService extends common.RootService {
  i32 count(1: string what),
  oneway void poke(1: i32 times)
}
