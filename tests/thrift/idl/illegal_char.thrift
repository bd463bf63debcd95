// Field b is declared in an include with a character Thrift does not know (line 3).
struct B {
  1: i32 $b
}
