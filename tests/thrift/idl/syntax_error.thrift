// Field 2 of Broken lacks its colon: a syntax error on line 8.
struct Ok {
  1: i32 a
}

struct Broken {
  1: i32 a
  2 i32 b
}
