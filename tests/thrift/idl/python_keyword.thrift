struct S {
  1: i32 ok,
  2: string from
}
