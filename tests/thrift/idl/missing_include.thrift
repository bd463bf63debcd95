namespace py x

include "nowhere.thrift"
