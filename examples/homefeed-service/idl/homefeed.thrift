/* The example home-feed service: the service *under test*, whose dependencies simdb fakes. */
include "types.thrift"

namespace py homefeedsvc
namespace java com.example.homefeed.service

struct FeedItem {
  1: types.PinId pinId,
  2: string title,
  3: double score,
  4: string imageUrl
}

struct HomeFeed {
  1: types.UserId userId,
  2: list<FeedItem> items,
  3: list<types.UserId> followees
}

exception FeedUnavailable {
  1: string dependency,
  2: string message
}

service HomeFeedService {
  /** The top `count` pins for the user: candidates, ranked, with titles from the pin table. */
  HomeFeed getHomeFeed(1: types.UserId userId, 2: i32 count) throws (1: FeedUnavailable unavailable)
}
