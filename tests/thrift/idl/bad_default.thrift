// A string default for an i32 field (line 3).
struct A {
  1: i32 a = "x"
}
