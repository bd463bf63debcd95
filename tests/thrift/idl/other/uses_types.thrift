include "types.thrift"

service OtherThings {
  types.Thing get()
}
