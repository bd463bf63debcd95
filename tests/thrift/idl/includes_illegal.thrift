include "illegal_char.thrift"

struct M {
  1: i32 m
}
