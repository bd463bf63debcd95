// Containers Python cannot hash: sets of lists and maps keyed by lists or sets.
struct Odd {
  1: set<list<i32>> setOfLists,
  2: map<list<i32>, string> listKeys,
  3: map<set<string>, i32> setKeys
}

service OddService {
  Odd odd(1: set<list<i32>> arg),
  set<list<string>> sets()
}
