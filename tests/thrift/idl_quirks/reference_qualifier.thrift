// Quirk: `&` reference qualifiers (C++ cpp.ref) on fields.
namespace py quirks.reference_qualifier

struct Node {
  1: i32 value,
  2: optional Node &next
}

struct Holder {
  1: required Node &head,
  2: list<Node> others
}

service Nodes {
  Holder get(1: i32 value)
}
