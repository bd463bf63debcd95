// Hand-written PinStore on Apache Thrift C++ (Debian libthrift-dev), the practical ceiling
// baseline of bench/thrift_serve.py. Built from `thrift --gen cpp` of thrift/homefeed/pinstore.thrift.
// Usage: pinstore_server PORT   (0 picks a free port; prints "listening on 127.0.0.1:<port>" when ready)
#include <cstdio>
#include <cstdlib>
#include <memory>

#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/server/TServer.h>
#include <thrift/server/TThreadedServer.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TServerSocket.h>

#include "PinStore.h"

using apache::thrift::protocol::TBinaryProtocolFactory;
using apache::thrift::server::TServerEventHandler;
using apache::thrift::server::TThreadedServer;
using apache::thrift::transport::TBufferedTransportFactory;
using apache::thrift::transport::TServerSocket;

class PinStoreHandler : virtual public PinStoreIf {
 public:
  void health(HealthStatus& out) override {
    out.state = HealthState::SERVING;
    out.__set_detail("ok");
  }
  void version(std::string& out) override { out = "homefeed-2024.06"; }

  void getPin(Pin& out, const PinId id) override {
    if (id < 1001 || id > 1200) {
      PinNotFound nf;
      nf.id = id;
      nf.message = "pin not found";
      throw nf;
    }
    fill(out, id);
  }

  void getPins(GetPinsResponse& out, const std::vector<PinId>& ids, const bool) override {
    for (PinId id : ids) {
      if (id >= 1001 && id <= 1200) {
        fill(out.pins[id], id);
      } else {
        out.missing.insert(id);
      }
    }
  }

  void getBoardPins(std::map<std::string, std::vector<Pin>>& out, const BoardId, const int32_t) override {
    out["main"].resize(1);
    fill(out["main"][0], 1001);
  }

 private:
  static void fill(Pin& pin, PinId id) {
    pin.id = id;
    pin.ownerId = 1 + id % 20;
    pin.boardId = static_cast<BoardId>(101 + id % 40);
    pin.title = "pin " + std::to_string(id);
    Image image;
    image.url = "https://img.example/" + std::to_string(id) + ".jpg";
    image.width = 236;
    image.height = 354;
    pin.images.push_back(image);
    pin.tags.insert("recipe");
    pin.tags.insert("dinner");
    pin.createdAtMs = 1700000000000LL + id;
    pin.saveCount = static_cast<int32_t>(id % 97);
  }
};

class ReadyPrinter : public TServerEventHandler {
 public:
  explicit ReadyPrinter(std::shared_ptr<TServerSocket> socket) : socket_(std::move(socket)) {}
  void preServe() override {
    std::printf("listening on 127.0.0.1:%d\n", socket_->getPort());
    std::fflush(stdout);
  }

 private:
  std::shared_ptr<TServerSocket> socket_;
};

int main(int argc, char** argv) {
  int port = argc > 1 ? std::atoi(argv[1]) : 0;
  auto socket = std::make_shared<TServerSocket>("127.0.0.1", port);
  TThreadedServer server(std::make_shared<PinStoreProcessor>(std::make_shared<PinStoreHandler>()), socket,
                         std::make_shared<TBufferedTransportFactory>(), std::make_shared<TBinaryProtocolFactory>());
  server.setServerEventHandler(std::make_shared<ReadyPrinter>(socket));
  server.serve();
  return 0;
}
