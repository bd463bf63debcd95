/* Candidate generator: which pins could go into a user's home feed. */
include "types.thrift"
include "base.thrift"

namespace py homefeed.candidates
namespace java com.example.homefeed.candidates
namespace js homefeed.candidates

const i32 DEFAULT_NUM_CANDIDATES = 100

struct CandidateRequest {
  1: required types.UserId userId,
  2: types.Surface surface = types.Surface.HOME,
  3: i32 numCandidates = DEFAULT_NUM_CANDIDATES,
  4: optional set<types.CandidateSource> sources,
  5: optional set<types.PinId> excludePins,
  6: optional map<string, types.FeatureValue> features,
  7: optional types.Locale locale,
  8: optional binary requestContext,
  9: optional string experimentBucket
}

struct Candidate {
  1: types.PinId pinId,
  2: types.CandidateSource source,
  3: double retrievalScore,
  4: optional types.BoardId viaBoard
}

struct CandidateResponse {
  1: list<Candidate> candidates,
  2: map<string, list<types.Pin>> pinsBySource,
  3: i16 shardsQueried = 1,
  4: optional string debugInfo
}

service CandidateGenerator extends base.BaseService {
  /** Candidate pins for one user and surface. */
  CandidateResponse getCandidates(1: CandidateRequest req)
      throws (1: types.InvalidRequest invalid, 2: types.Overloaded overloaded)
}
