// Quirk: annotations on a namespace line.
namespace py quirks.namespace_annotation (package.prefix = "com.example")
namespace java com.example.quirks (java.annotation = "x")

struct Item {
  1: i64 id,
  2: string label
}

service Items {
  Item get(1: i64 id)
}
