/* Methods of every shape, for the data-binding tests (answered from seeds/homefeed). */
include "types.thrift"

struct PinFeatures {
  1: i32 saveCount,
  2: i8 qualityTier,
  3: types.BoardId boardId
}

struct Profile {
  1: required i64 id,
  2: string name,
  3: list<string> topics
}

struct Owner {
  1: i64 pinId,
  2: i64 ownerId
}

exception Missing {
  1: string what
}

service Probe {
  types.Pin pin(1: types.PinId id) throws (1: types.PinNotFound nf),
  list<types.Pin> pinsOf(1: types.UserId owner, 2: i32 n),
  map<types.PinId, string> titles(1: list<types.PinId> ids),
  set<types.PinId> pinIdsOnBoards(1: set<types.BoardId> boards),
  string title(1: types.PinId id) throws (1: Missing missing),
  i32 saveCountOr(1: types.PinId id),
  list<Owner> owners(1: list<types.PinId> ids),

  string modelVersion(),
  list<string> versions(1: list<string> names),
  map<string, string> userFeatures(1: types.UserId userId),
  PinFeatures pinFeatures(1: types.PinId id),
  list<types.PinId> recent(1: types.UserId userId, 2: i32 n),
  set<types.BoardId> boards(1: types.UserId userId),
  map<types.UserId, double> followeeRanks(1: types.UserId userId),
  list<types.UserId> lastFollowees(1: types.UserId userId, 2: i32 n),
  Profile profile(1: types.UserId userId),
  i64 broken(1: types.UserId userId),

  list<types.PinId> topSaved(1: list<types.PinId> pins, 2: i32 n),
  list<Owner> ownersByTitle(1: list<types.PinId> pins),

  void savePin(1: types.Pin pin),
  types.Pin renamePin(1: types.PinId id, 2: string title) throws (1: types.PinNotFound nf),
  void follow(1: types.UserId userId, 2: types.UserId followee, 3: double at),
  void tagAll(1: types.UserId userId, 2: list<string> tags),
  oneway void touch(1: types.UserId userId)
}
