/* Ranker: scores candidates for a user. */
include "types.thrift"
include "base.thrift"

namespace py homefeed.ranker
namespace java com.example.homefeed.ranker
namespace js homefeed.ranker

typedef map<string, types.FeatureValue> FeatureMap

const string DEFAULT_MODEL = "homefeed-ranker-v7"

struct RankRequest {
  1: required types.UserId userId,
  2: required list<types.PinId> candidates,
  3: FeatureMap userFeatures,
  4: optional map<types.PinId, FeatureMap> pinFeatures,
  5: string modelName = DEFAULT_MODEL,
  6: types.Surface surface = types.Surface.HOME
}

struct ScoredPin {
  1: types.PinId pinId,
  2: double score,
  3: optional map<string, double> debugScores
}

struct RankResponse {
  1: list<ScoredPin> ranked,
  2: string modelVersion,
  3: i64 latencyMicros
}

struct Impression {
  1: types.UserId userId,
  2: types.PinId pinId,
  3: i32 position,
  4: i64 timestampMs,
  5: types.Surface surface = types.Surface.HOME,
  6: optional binary trackingToken
}

service Ranker extends base.BaseService {
  /** Scores for the candidate pins, best first. */
  RankResponse rank(1: RankRequest req) throws (1: types.InvalidRequest invalid),

  /** Plain score per pin id, in request order. */
  map<types.PinId, double> score(1: types.UserId userId, 2: list<types.PinId> pinIds),

  /** Fire-and-forget impression logging. */
  oneway void logImpression(1: Impression impression)
}
