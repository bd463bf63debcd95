// Quirk: the `uuid` base type. Apache Thrift accepts it from 0.18 on; Debian's thrift-compiler 0.17.0
// does not know it yet ("Type \"uuid\" not defined"), so this file is not compile-checked here.
namespace py quirks.uuid_type

struct Session {
  1: uuid id,
  2: string name
}

service Sessions {
  Session get(1: uuid id)
}
