// Quirk: a trailing separator after a typedef.
namespace py quirks.typedef_separator

typedef i64 AccountId;
typedef map<string, AccountId> AccountIndex,

struct Account {
  1: AccountId id,
  2: AccountIndex index
}

service Accounts {
  Account get(1: AccountId id)
}
