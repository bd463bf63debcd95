/* The base service every home-feed service extends: health and version. */
include "types.thrift"

namespace py homefeed.base
namespace java com.example.homefeed.base
namespace js homefeed.base

service BaseService {
  /** Liveness and readiness of the service. */
  types.HealthStatus health(),

  /** Build version, e.g. types.SERVICE_VERSION. */
  string version()
}
