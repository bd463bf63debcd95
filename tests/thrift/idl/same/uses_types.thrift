include "types.thrift"

service SameThings {
  types.Thing get()
}
