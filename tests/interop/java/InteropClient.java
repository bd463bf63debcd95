import com.example.homefeed.candidates.CandidateGenerator;
import com.example.homefeed.candidates.CandidateRequest;
import com.example.homefeed.pinstore.PinStore;
import com.example.homefeed.ranker.Impression;
import com.example.homefeed.ranker.RankRequest;
import com.example.homefeed.ranker.Ranker;
import com.example.homefeed.types.CandidateSource;
import com.example.homefeed.types.FeatureValue;
import com.example.homefeed.types.PinNotFound;
import com.example.homefeed.types.Surface;
import com.example.homefeed.usergraph.UserGraph;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import org.apache.thrift.protocol.TBinaryProtocol;
import org.apache.thrift.protocol.TCompactProtocol;
import org.apache.thrift.protocol.TMultiplexedProtocol;
import org.apache.thrift.protocol.TProtocol;
import org.apache.thrift.transport.TSocket;
import org.apache.thrift.transport.TTransport;
import org.apache.thrift.transport.layered.TFramedTransport;

/**
 * Calls every demo home-feed method once through the official Apache Thrift Java library.
 *
 * <p>Usage: InteropClient HOST PORT binary|compact buffered|framed multiplexed|pinstore|usergraph|candidates|ranker
 *
 * <p>Prints one line per call: "OK Service.method ResultClass" or "EXC Service.method ExceptionClass".
 */
public final class InteropClient {
  private final String host;
  private final int port;
  private final String protocol;
  private final String transport;
  private final boolean multiplexed;

  private InteropClient(String host, int port, String protocol, String transport, boolean multiplexed) {
    this.host = host;
    this.port = port;
    this.protocol = protocol;
    this.transport = transport;
    this.multiplexed = multiplexed;
  }

  public static void main(String[] args) throws Exception {
    String target = args[4];
    InteropClient c = new InteropClient(args[0], Integer.parseInt(args[1]), args[2], args[3], target.equals("multiplexed"));
    if (target.equals("multiplexed") || target.equals("pinstore")) c.pinStore();
    if (target.equals("multiplexed") || target.equals("usergraph")) c.userGraph();
    if (target.equals("multiplexed") || target.equals("candidates")) c.candidates();
    if (target.equals("multiplexed") || target.equals("ranker")) c.ranker();
  }

  private TTransport transport() throws Exception {
    TTransport socket = new TSocket(host, port, 10000);
    TTransport t = transport.equals("framed") ? new TFramedTransport(socket) : socket;
    t.open();
    return t;
  }

  private TProtocol protocol(TTransport t, String service) {
    TProtocol p = protocol.equals("compact") ? new TCompactProtocol(t) : new TBinaryProtocol(t);
    return multiplexed ? new TMultiplexedProtocol(p, service) : p;
  }

  private static void ok(String call, Object value) {
    System.out.println("OK " + call + " " + (value == null ? "null" : value.getClass().getSimpleName()));
  }

  private void pinStore() throws Exception {
    TTransport t = transport();
    PinStore.Client c = new PinStore.Client(protocol(t, "PinStore"));
    ok("PinStore.health", c.health());
    ok("PinStore.version", c.version());
    com.example.homefeed.types.Pin pin = c.getPin(1001L);
    ok("PinStore.getPin", pin);
    System.out.println("VAL PinStore.getPin.title=" + pin.getTitle());
    System.out.println("VAL PinStore.getPin.tags=" + new java.util.TreeSet<>(pin.getTags()));
    ok("PinStore.getPins", c.getPins(Arrays.asList(1001L, 1002L, 1003L), true));
    ok("PinStore.getBoardPins", c.getBoardPins(101, 10));
    try {
      c.getPin(999999L);
      System.out.println("NOEXC PinStore.getPin");
    } catch (PinNotFound e) {
      System.out.println("EXC PinStore.getPin PinNotFound id=" + e.getId());
    }
    ok("PinStore.getPin", c.getPin(1002L)); // the same connection after a declared exception
    t.close();
  }

  private void userGraph() throws Exception {
    TTransport t = transport();
    UserGraph.Client c = new UserGraph.Client(protocol(t, "UserGraph"));
    ok("UserGraph.health", c.health());
    ok("UserGraph.version", c.version());
    ok("UserGraph.getFollowees", c.getFollowees(1L, 0L, 20));
    ok("UserGraph.getUser", c.getUser(1L));
    ok("UserGraph.getInterestTree", c.getInterestTree(1L, (byte) 2));
    t.close();
  }

  private void candidates() throws Exception {
    TTransport t = transport();
    CandidateGenerator.Client c = new CandidateGenerator.Client(protocol(t, "CandidateGenerator"));
    ok("CandidateGenerator.health", c.health());
    ok("CandidateGenerator.version", c.version());
    CandidateRequest req = new CandidateRequest(1L, Surface.HOME, 10);
    req.setSources(new HashSet<>(Arrays.asList(CandidateSource.FOLLOWING, CandidateSource.TRENDING)));
    req.setExcludePins(new HashSet<>(Arrays.asList(1001L, 1002L)));
    Map<String, FeatureValue> features = new HashMap<>();
    features.put("age_days", FeatureValue.doubleValue(0.5));
    features.put("country", FeatureValue.stringValue("DE"));
    req.setFeatures(features);
    req.setLocale("en-US");
    req.setRequestContext(ByteBuffer.wrap(new byte[] {0, 1, (byte) 0xff}));
    req.setExperimentBucket("control");
    ok("CandidateGenerator.getCandidates", c.getCandidates(req));
    t.close();
  }

  private void ranker() throws Exception {
    TTransport t = transport();
    Ranker.Client c = new Ranker.Client(protocol(t, "Ranker"));
    ok("Ranker.health", c.health());
    ok("Ranker.version", c.version());
    Map<String, FeatureValue> user = new HashMap<>();
    user.put("country", FeatureValue.stringValue("DE"));
    user.put("vec", FeatureValue.vectorValue(Arrays.asList(0.1, 0.2)));
    RankRequest req = new RankRequest(1L, Arrays.asList(1001L, 1002L, 1003L), user, "homefeed-ranker-v7", Surface.HOME);
    Map<Long, Map<String, FeatureValue>> pins = new HashMap<>();
    Map<String, FeatureValue> pf = new HashMap<>();
    pf.put("ctr", FeatureValue.doubleValue(0.12));
    pins.put(1001L, pf);
    req.setPinFeatures(pins);
    ok("Ranker.rank", c.rank(req));
    ok("Ranker.score", c.score(1L, Arrays.asList(1001L, 1002L)));
    Impression imp = new Impression(1L, 1001L, 3, 1717000000000L, Surface.HOME);
    imp.setTrackingToken(ByteBuffer.wrap("tok".getBytes("UTF-8")));
    c.logImpression(imp);
    System.out.println("OK Ranker.logImpression oneway");
    ok("Ranker.version", c.version()); // the connection is still in step after a oneway call
    t.close();
  }
}
