/*
 * Shared types of the demo home-feed services.
 *
 * Every other homefeed IDL includes this file. Ids match the demo snapshot:
 * users 1..20, boards 101..140, pins 1001..1200.
 */
namespace py homefeed.types
namespace java com.example.homefeed.types
namespace js homefeed.types

typedef i64 PinId
typedef i64 UserId
typedef i32 BoardId
typedef string Locale
typedef binary Embedding

const string SERVICE_VERSION = "homefeed-2024.06"
const i32 MAX_PINS_PER_REQUEST = 200
const i32 DEFAULT_PAGE_SIZE = 50
const double MIN_SCORE = 0.0
const list<string> SUPPORTED_LOCALES = ["en-US", "de-DE", "fr-FR", "ja-JP"]
const map<string, double> DEFAULT_SURFACE_WEIGHTS = {"home": 1.0, "search": 0.8, "related": 0.6}

enum HealthState {
  SERVING = 0,
  DEGRADED = 1,
  NOT_SERVING = 2
}

enum MediaType {
  IMAGE = 1,
  VIDEO = 2,
  CAROUSEL = 3,
  IDEA = 4
}

enum Surface {
  HOME = 1,
  SEARCH = 2,
  RELATED = 3,
  NOTIFICATIONS = 4
}

enum CandidateSource {
  FOLLOWING = 1,
  INTEREST = 2,
  TRENDING = 3,
  EMBEDDING_NEIGHBOURS = 4
}

struct HealthStatus {
  1: required HealthState state = HealthState.SERVING,
  2: optional string detail,
  3: i64 uptimeMs = 0
}

struct Image {
  1: string url,
  2: i16 width,
  3: i16 height,
  4: optional string dominantColor
}

struct Pin {
  1: required PinId id,
  2: required UserId ownerId,
  3: BoardId boardId,
  4: string title = "",
  5: optional string description,
  6: MediaType mediaType = MediaType.IMAGE,
  7: list<Image> images,
  8: set<string> tags,
  9: optional Embedding embedding,
  10: i64 createdAtMs,
  11: i32 saveCount = 0,
  12: i8 qualityTier = 3,
  13: double aspectRatio = 1.0,
  14: bool isPromoted = false,
  15: optional map<string, string> attributes
}

struct Board {
  1: required BoardId id,
  2: required UserId ownerId,
  3: string name,
  4: optional string description,
  5: i32 pinCount = 0,
  6: bool isSecret = false
}

struct User {
  1: required UserId id,
  2: string username,
  3: optional string displayName,
  4: Locale locale = "en-US",
  5: i32 followerCount = 0,
  6: set<BoardId> boardIds
}

/** One named feature value used by the candidate generator and the ranker. */
union FeatureValue {
  1: bool boolValue,
  2: i64 intValue,
  3: double doubleValue,
  4: string stringValue,
  5: binary bytesValue,
  6: list<double> vectorValue
}

/** A recursive struct: topics form a tree. */
struct Topic {
  1: i32 id,
  2: string name,
  3: optional list<Topic> children
}

exception PinNotFound {
  1: PinId id,
  2: string message
}

exception UserNotFound {
  1: UserId id,
  2: string message
}

exception InvalidRequest {
  1: string field,
  2: string reason
}

exception Overloaded {
  1: i32 retryAfterMs = 100
}
