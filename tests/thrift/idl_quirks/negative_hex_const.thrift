// Quirk: a negative hexadecimal constant.
namespace py quirks.negative_hex_const

const i32 MASK = -0x10
const i64 BIG_NEGATIVE = -0x7fffffff

struct Flags {
  1: i32 mask = -0x1,
  2: i64 bits
}

service FlagService {
  Flags get(1: i32 mask)
}
