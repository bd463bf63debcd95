// Calls every demo home-feed method once through the official Apache Thrift Node.js library.
//
// Usage: GEN_DIR=<thrift --gen js:node output> NODE_PATH=<this dir>/node_modules \
//   node client.js HOST PORT binary|compact buffered|framed multiplexed|pinstore|usergraph|candidates|ranker
// Prints one line per call: "OK Service.method ResultType" or "EXC Service.method ExceptionClass".
"use strict";

const path = require("path");
const thrift = require("thrift");

const gen = process.env.GEN_DIR;
const [host, portText, protocolName, transportName, target] = process.argv.slice(2);
const port = Number(portText);
const multiplexed = target === "multiplexed";

const types = require(path.join(gen, "types_types"));
const candidatesTypes = require(path.join(gen, "candidates_types"));
const rankerTypes = require(path.join(gen, "ranker_types"));
const typeModules = ["types_types", "pinstore_types", "usergraph_types", "candidates_types", "ranker_types"]
  .map((name) => require(path.join(gen, name)));
const services = {
  pinstore: ["PinStore", require(path.join(gen, "PinStore"))],
  usergraph: ["UserGraph", require(path.join(gen, "UserGraph"))],
  candidates: ["CandidateGenerator", require(path.join(gen, "CandidateGenerator"))],
  ranker: ["Ranker", require(path.join(gen, "Ranker"))],
};

function typeName(value) {
  if (value === null || value === undefined) return "null";
  if (value instanceof Map) return "Map";
  if (Array.isArray(value)) return "Array";
  if (typeof value === "object") {
    // generated constructors are anonymous: name them by the export they are
    for (const mod of typeModules) {
      for (const [name, ctor] of Object.entries(mod)) {
        if (typeof ctor === "function" && value instanceof ctor) return name;
      }
    }
    return "Object";
  }
  return typeof value;
}

function ok(call, value) {
  console.log(`OK ${call} ${typeName(value)}`);
}

function connect() {
  return new Promise((resolve, reject) => {
    const connection = thrift.createConnection(host, port, {
      transport: transportName === "framed" ? thrift.TFramedTransport : thrift.TBufferedTransport,
      protocol: protocolName === "compact" ? thrift.TCompactProtocol : thrift.TBinaryProtocol,
      connect_timeout: 10000,
      timeout: 10000,
    });
    connection.on("connect", () => resolve(connection));
    connection.on("error", reject);
  });
}

function client(connection, idl) {
  const [name, service] = services[idl];
  if (multiplexed) {
    return new thrift.Multiplexer().createClient(name, service, connection);
  }
  return thrift.createClient(service, connection);
}

const calls = {
  async pinstore(c) {
    ok("PinStore.health", await c.health());
    ok("PinStore.version", await c.version());
    const pin = await c.getPin(1001);
    ok("PinStore.getPin", pin);
    console.log(`VAL PinStore.getPin.title=${pin.title}`);
    console.log(`VAL PinStore.getPin.tags=[${[...pin.tags].sort().join(", ")}]`);
    ok("PinStore.getPins", await c.getPins([1001, 1002, 1003], true));
    ok("PinStore.getBoardPins", await c.getBoardPins(101, 10));
    try {
      await c.getPin(999999);
      console.log("NOEXC PinStore.getPin");
    } catch (e) {
      console.log(`EXC PinStore.getPin ${typeName(e)} id=${e.id}`);
    }
    ok("PinStore.getPin", await c.getPin(1002));
  },
  async usergraph(c) {
    ok("UserGraph.health", await c.health());
    ok("UserGraph.version", await c.version());
    ok("UserGraph.getFollowees", await c.getFollowees(1, 0, 20));
    ok("UserGraph.getUser", await c.getUser(1));
    ok("UserGraph.getInterestTree", await c.getInterestTree(1, 2));
  },
  async candidates(c) {
    ok("CandidateGenerator.health", await c.health());
    ok("CandidateGenerator.version", await c.version());
    const req = new candidatesTypes.CandidateRequest({
      userId: 1,
      surface: types.Surface.HOME,
      numCandidates: 10,
      sources: [types.CandidateSource.FOLLOWING, types.CandidateSource.TRENDING],
      excludePins: [1001, 1002],
      features: {
        age_days: new types.FeatureValue({ doubleValue: 0.5 }),
        country: new types.FeatureValue({ stringValue: "DE" }),
      },
      locale: "en-US",
      requestContext: Buffer.from([0, 1, 255]),
      experimentBucket: "control",
    });
    ok("CandidateGenerator.getCandidates", await c.getCandidates(req));
  },
  async ranker(c) {
    ok("Ranker.health", await c.health());
    ok("Ranker.version", await c.version());
    const req = new rankerTypes.RankRequest({
      userId: 1,
      candidates: [1001, 1002, 1003],
      userFeatures: {
        country: new types.FeatureValue({ stringValue: "DE" }),
        vec: new types.FeatureValue({ vectorValue: [0.1, 0.2] }),
      },
      pinFeatures: { 1001: { ctr: new types.FeatureValue({ doubleValue: 0.12 }) } },
      modelName: "homefeed-ranker-v7",
      surface: types.Surface.HOME,
    });
    ok("Ranker.rank", await c.rank(req));
    ok("Ranker.score", await c.score(1, [1001, 1002]));
    const imp = new rankerTypes.Impression({
      userId: 1, pinId: 1001, position: 3, timestampMs: 1717000000000, surface: types.Surface.HOME,
      trackingToken: Buffer.from("tok"),
    });
    c.logImpression(imp); // oneway: no reply is read
    console.log("OK Ranker.logImpression oneway");
    ok("Ranker.version", await c.version());
  },
};

async function main() {
  const idls = multiplexed ? Object.keys(services) : [target];
  for (const idl of idls) {
    const connection = await connect();
    try {
      await calls[idl](client(connection, idl));
    } finally {
      connection.end();
    }
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`FAILED: ${err && err.stack ? err.stack : err}`);
    process.exit(1);
  },
);
