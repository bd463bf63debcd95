/* Pin store: pins by id. */
include "types.thrift"
include "base.thrift"

namespace py homefeed.pinstore
namespace java com.example.homefeed.pinstore
namespace js homefeed.pinstore

struct GetPinsResponse {
  1: map<types.PinId, types.Pin> pins,
  2: set<types.PinId> missing
}

service PinStore extends base.BaseService {
  /** One pin; PinNotFound when the id is unknown. */
  types.Pin getPin(1: types.PinId id) throws (1: types.PinNotFound nf),

  /** Many pins at once; unknown ids are listed in `missing`. */
  GetPinsResponse getPins(1: list<types.PinId> ids, 2: bool includeEmbeddings = false)
      throws (1: types.InvalidRequest invalid),

  /** Pins of a board grouped by section name. */
  map<string, list<types.Pin>> getBoardPins(1: types.BoardId boardId, 2: i32 limit = 50)
}
