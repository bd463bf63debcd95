// All four demo services in one IDL, for serving them multiplexed on one port:
//   simdb thrift serve tests/interop/idl/homefeed_all.thrift -I thrift/homefeed --multiplexed \
//     --service pinstore.PinStore --service usergraph.UserGraph \
//     --service candidates.CandidateGenerator --service ranker.Ranker
include "pinstore.thrift"
include "usergraph.thrift"
include "candidates.thrift"
include "ranker.thrift"
