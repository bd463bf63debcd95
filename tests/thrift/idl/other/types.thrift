// A second types.thrift with different contents: must not collide with another file of this name.
struct Thing {
  1: string other_name
}
