/* User graph: who follows whom. */
include "types.thrift"
include "base.thrift"

namespace py homefeed.usergraph
namespace java com.example.homefeed.usergraph
namespace js homefeed.usergraph

struct FolloweePage {
  1: list<types.UserId> followees,
  2: optional i64 nextCursor,
  3: i32 total = 0
}

service UserGraph extends base.BaseService {
  /** Followees of a user, paged: pass the previous page's nextCursor, 0 for the first page. */
  FolloweePage getFollowees(1: types.UserId userId, 2: i64 cursor = 0, 3: i32 limit = types.DEFAULT_PAGE_SIZE)
      throws (1: types.UserNotFound notFound),

  /** Profile of a user. */
  types.User getUser(1: types.UserId userId) throws (1: types.UserNotFound notFound),

  /** The user's interests as a topic tree (a recursive struct). */
  types.Topic getInterestTree(1: types.UserId userId, 2: i8 maxDepth = 3)
}
