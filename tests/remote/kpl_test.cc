// KPL deaggregation on read (tributary/kpl.h, StoreOptions/RemoteOptions::
// deaggregate_kpl_records). The aggregated records are built here by hand
// (protobuf wire format written byte by byte, MD5 from OpenSSL), not with the
// library's generated code, so the test checks the library against the
// format rather than against itself.
#include <openssl/evp.h>

#include <string>
#include <vector>

#include "testing/remote_server.h"
#include "testing/status_matchers.h"
#include "testing/store_util.h"

namespace tributary {
namespace {

void Varint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Field `field` of wire type 2 (length-delimited).
void Bytes(std::string* out, int field, std::string_view b) {
  Varint(out, (static_cast<uint64_t>(field) << 3) | 2);
  Varint(out, b.size());
  out->append(b);
}

void Uint(std::string* out, int field, uint64_t v) {
  Varint(out, static_cast<uint64_t>(field) << 3);  // wire type 0
  Varint(out, v);
}

std::string Md5(std::string_view data) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), d, &n, EVP_md5(), nullptr);
  return std::string(reinterpret_cast<char*>(d), n);
}

struct User {
  int key_index;
  std::string data;
  std::optional<int> hash_index;
};

// magic + AggregatedRecord{partition_key_table, explicit_hash_key_table,
// records{partition_key_index, explicit_hash_key_index, data, tags}} + MD5.
std::string Aggregate(const std::vector<std::string>& keys, const std::vector<std::string>& hashes,
                      const std::vector<User>& users) {
  std::string body;
  for (const std::string& k : keys) Bytes(&body, 1, k);
  for (const std::string& h : hashes) Bytes(&body, 2, h);
  for (const User& u : users) {
    std::string rec;
    Uint(&rec, 1, static_cast<uint64_t>(u.key_index));
    if (u.hash_index) Uint(&rec, 2, static_cast<uint64_t>(*u.hash_index));
    Bytes(&rec, 3, u.data);
    std::string tag;
    Bytes(&tag, 1, "origin");
    Bytes(&tag, 2, "test");
    Bytes(&rec, 4, tag);
    Bytes(&body, 3, rec);
  }
  std::string out("\xF3\x89\x9A\xC2", 4);
  out += body;
  out += Md5(body);
  return out;
}

// Writes a plain record, an aggregate of three user records, a plain record,
// and an aggregate whose checksum is wrong; reads the shard back.
void WriteMix(Store& store, std::string* aggregate, std::string* corrupt) {
  REQUIRE_OK(store.CreateStream("k", 1));
  *aggregate = Aggregate({"alpha", "beta"}, {"170141183460469231731687303715884105728"},
                         {{0, "a-1", std::nullopt}, {1, "b-1", 0}, {0, "a-2", std::nullopt}});
  *corrupt = Aggregate({"gamma"}, {}, {{0, "g-1", std::nullopt}});
  (*corrupt)[corrupt->size() - 1] ^= 0x01;
  REQUIRE_OK(store.Put("k", testing::Input("plain-1", "p-1")));
  REQUIRE_OK(store.Put("k", testing::Input("alpha", *aggregate)));
  REQUIRE_OK(store.Put("k", testing::Input("plain-2", "p-2")));
  REQUIRE_OK(store.Put("k", testing::Input("gamma", *corrupt)));
}

void CheckDeaggregated(Store& store, const std::string& corrupt) {
  testing::ShardRead read = testing::ReadShard(store, "k", "shardId-000000000000");
  REQUIRE(read.records.size() == 6);
  const std::vector<Record>& r = read.records;
  CHECK(r[0].data == "p-1");
  CHECK_FALSE(r[0].aggregated);
  CHECK(r[0].sub_sequence_number == 0);
  // The aggregate's three user records: its sequence number, their own keys.
  for (int i = 1; i <= 3; ++i) {
    CHECK(r[i].aggregated);
    CHECK(r[i].sub_sequence_number == i - 1);
    CHECK(r[i].sequence_number == r[1].sequence_number);
    CHECK(r[i].approximate_arrival_timestamp == r[1].approximate_arrival_timestamp);
  }
  CHECK(r[1].partition_key == "alpha");
  CHECK(r[1].data == "a-1");
  CHECK(r[2].partition_key == "beta");
  CHECK(r[2].data == "b-1");
  CHECK(r[3].partition_key == "alpha");
  CHECK(r[3].data == "a-2");
  CHECK(r[0].sequence_number < r[1].sequence_number);
  CHECK(r[1].sequence_number < r[4].sequence_number);
  CHECK(r[4].data == "p-2");
  // A checksum mismatch: not an aggregate, returned as stored.
  CHECK(r[5].data == corrupt);
  CHECK(r[5].partition_key == "gamma");
  CHECK_FALSE(r[5].aggregated);
}

TEST_CASE("KPL aggregates are deaggregated on read when the local store is asked to", "[kpl]") {
  StoreOptions o;
  o.deaggregate_kpl_records = true;
  ASSIGN_OR_REQUIRE(auto store, Store::OpenInMemory(o));
  std::string aggregate, corrupt;
  WriteMix(*store, &aggregate, &corrupt);
  CheckDeaggregated(*store, corrupt);
}

TEST_CASE("without the option an aggregate reads back as the one record it is", "[kpl]") {
  ASSIGN_OR_REQUIRE(auto store, Store::OpenInMemory());
  std::string aggregate, corrupt;
  WriteMix(*store, &aggregate, &corrupt);
  testing::ShardRead read = testing::ReadShard(*store, "k", "shardId-000000000000");
  REQUIRE(read.records.size() == 4);
  CHECK(read.records[1].data == aggregate);
  CHECK(HasKplMagic(read.records[1].data));
  // The same step on demand.
  std::vector<Record> users = DeaggregateRecord(read.records[1]);
  REQUIRE(users.size() == 3);
  CHECK(users[2].partition_key == "alpha");
  CHECK(users[2].sub_sequence_number == 2);
  CHECK(DeaggregateRecord(read.records[0]).size() == 1);
}

TEST_CASE("malformed aggregates are returned unchanged", "[kpl]") {
  Record r;
  r.partition_key = "k";
  SECTION("too short for magic and checksum") { r.data = std::string("\xF3\x89\x9A\xC2", 4) + "abc"; }
  SECTION("a key index outside the table") {
    r.data = Aggregate({"only"}, {}, {{3, "x", std::nullopt}});
  }
  SECTION("bytes that are not a protobuf message, with a matching checksum") {
    std::string body = "\xFF\xFF\xFF";
    r.data = std::string("\xF3\x89\x9A\xC2", 4) + body + Md5(body);
  }
  std::vector<Record> out = DeaggregateRecord(r);
  REQUIRE(out.size() == 1);
  CHECK(out[0].data == r.data);
  CHECK_FALSE(out[0].aggregated);
}

TEST_CASE("an aggregate of no user records yields none", "[kpl]") {
  Record r;
  r.partition_key = "k";
  r.data = Aggregate({"a"}, {}, {});
  std::vector<Record> records = {r};
  DeaggregateRecords(&records);
  CHECK(records.empty());
}

// A remote store on the local peer at `url` that deaggregates.
std::unique_ptr<Store> OpenDeaggregating(const std::string& url) {
  RemoteOptions o = testing::LocalPeerOptions(url);
  o.deaggregate_kpl_records = true;
  absl::StatusOr<std::unique_ptr<Store>> store = Store::OpenRemote(o);
  REQUIRE_OK(store);
  return *std::move(store);
}

TEST_CASE("KPL aggregates are deaggregated over a remote store too", "[kpl][remote]") {
  auto server = testing::StartTributaryServer();
  auto store = OpenDeaggregating(server->url());
  std::string aggregate, corrupt;
  WriteMix(*store, &aggregate, &corrupt);
  CheckDeaggregated(*store, corrupt);
}

// ------------------------------------------------ checkpoints inside aggregates

constexpr char kAggShard[] = "shardId-000000000000";

// One shard: p-1, an aggregate of a-0..a-4 (keys alternating), p-2, an
// aggregate of b-0 and b-1.
void WriteAggregates(Store& store) {
  REQUIRE_OK(store.CreateStream("agg", 1));
  REQUIRE_OK(store.WaitUntilActive("agg", absl::Seconds(30)));
  REQUIRE_OK(store.Put("agg", testing::Input("plain", "p-1")));
  std::vector<User> a;
  for (int i = 0; i < 5; ++i) a.push_back({i % 2, "a-" + std::to_string(i), std::nullopt});
  REQUIRE_OK(store.Put("agg", testing::Input("x", Aggregate({"x", "y"}, {}, a))));
  REQUIRE_OK(store.Put("agg", testing::Input("plain", "p-2")));
  REQUIRE_OK(store.Put("agg", testing::Input("z", Aggregate({"z"}, {}, {{0, "b-0", {}}, {0, "b-1", {}}}))));
}

// Polls until `want` records came (or `polls` polls were made).
std::vector<Record> PollRecords(Consumer& c, size_t want, int polls = 200) {
  std::vector<Record> out;
  for (int i = 0; i < polls && out.size() < want; ++i) {
    ASSIGN_OR_REQUIRE(std::optional<RecordBatch> b, c.Poll());
    if (b) out.insert(out.end(), b->records.begin(), b->records.end());
  }
  return out;
}

std::vector<std::string> DataOf(const std::vector<Record>& records) {
  std::vector<std::string> out;
  for (const Record& r : records) out.push_back(r.data);
  return out;
}

// A consumer checkpoints in the middle of an aggregate; a restarted one
// (same worker id, the first dropped without Shutdown, as a crash) resumes
// at the next user record of that aggregate, not after the whole aggregate.
void CheckpointInsideAggregates(Store& store, std::shared_ptr<LeaseTable> table) {
  WriteAggregates(store);
  ConsumerOptions o;
  o.stream = "agg";
  o.consumer_name = "reader";
  o.worker_id = "w";
  o.lease_table = std::move(table);
  o.idle_interval = absl::ZeroDuration();
  using V = std::vector<std::string>;
  SequenceNumber a_seq, b_seq;
  {
    ASSIGN_OR_REQUIRE(auto c, Consumer::Create(store, o));
    std::vector<Record> got = PollRecords(*c, 9);
    REQUIRE(DataOf(got) == V{"p-1", "a-0", "a-1", "a-2", "a-3", "a-4", "p-2", "b-0", "b-1"});
    a_seq = got[1].sequence_number;
    b_seq = got[7].sequence_number;
    REQUIRE_OK(c->Checkpoint(kAggShard, got[3]));  // a-2
    REQUIRE(c->held().size() == 1);
    const CheckpointPosition cp = c->held()[0].checkpoint;
    CHECK(cp == CheckpointPosition::AfterUserRecord(a_seq, 2));
    CHECK(cp.ToString() == a_seq.ToString() + "/2");
    // Positions are ordered inside the aggregate too: a-1 is behind a-2.
    CHECK_ERROR(c->Checkpoint(kAggShard, got[2]), ErrorType::kInvalidArgument);
    // A record that is not aggregated checkpoints as the whole record.
    CHECK(PositionAfter(got[0]) == CheckpointPosition::After(got[0].sequence_number));
  }
  {
    ASSIGN_OR_REQUIRE(auto c, Consumer::Create(store, o));
    std::vector<Record> got = PollRecords(*c, 5);
    REQUIRE(DataOf(got) == V{"a-3", "a-4", "p-2", "b-0", "b-1"});
    CHECK(got[0].sequence_number == a_seq);
    CHECK(got[0].sub_sequence_number == 3);
    CHECK(got[0].partition_key == "y");
    // Two-phase, at the last user record of the last aggregate.
    REQUIRE_OK(c->PrepareCheckpoint(kAggShard, got[4], "st"));
    REQUIRE(c->held()[0].pending_checkpoint.has_value());
    CHECK(c->held()[0].pending_checkpoint->sub_sequence_number == 1);
    REQUIRE_OK(c->CommitCheckpoint(kAggShard));
    CHECK(c->held()[0].checkpoint == CheckpointPosition::AfterUserRecord(b_seq, 1));
  }
  {
    // Resumes AT the last aggregate and skips all of it: nothing to deliver
    // until a new record arrives.
    ASSIGN_OR_REQUIRE(auto c, Consumer::Create(store, o));
    CHECK(PollRecords(*c, 1, 20).empty());
    REQUIRE_OK(store.Put("agg", testing::Input("plain", "p-3")));
    std::vector<Record> got = PollRecords(*c, 1);
    CHECK(DataOf(got) == V{"p-3"});
    // The sequence-number form covers a whole aggregate: from a restart
    // after it, nothing of the aggregate comes back.
    REQUIRE_OK(c->Checkpoint(kAggShard, got[0].sequence_number));
    CHECK_FALSE(c->held()[0].checkpoint.is_within_aggregate());
  }
}

TEST_CASE("the ordered consumer checkpoints inside a KPL aggregate and resumes at the next user record",
          "[kpl][consumer]") {
  StoreOptions so;
  so.deaggregate_kpl_records = true;
  ASSIGN_OR_REQUIRE(auto store, Store::OpenInMemory(so));
  // The durable table: the sub-sequence number survives the file round trip.
  auto env = NewMemEnv();
  ASSIGN_OR_REQUIRE(std::unique_ptr<LeaseTable> table, OpenDurableLeaseTable(env.get(), "/leases"));
  CheckpointInsideAggregates(*store, std::shared_ptr<LeaseTable>(std::move(table)));
}

// The callback API: a RecordProcessor checkpoints a user record through its
// Checkpointer.
class CheckpointAtA2 : public RecordProcessor {
 public:
  explicit CheckpointAtA2(std::vector<std::string>* seen) : seen_(seen) {}
  void ProcessRecords(const RecordBatch& batch, Checkpointer& checkpointer) override {
    for (const Record& r : batch.records) {
      seen_->push_back(r.data);
      if (r.data == "a-2") REQUIRE_OK(checkpointer.Checkpoint(r));
    }
  }

 private:
  std::vector<std::string>* seen_;
};

TEST_CASE("a RecordProcessor checkpoints inside a KPL aggregate through its Checkpointer",
          "[kpl][consumer]") {
  StoreOptions so;
  so.deaggregate_kpl_records = true;
  ASSIGN_OR_REQUIRE(auto store, Store::OpenInMemory(so));
  WriteAggregates(*store);
  ConsumerOptions o;
  o.stream = "agg";
  o.consumer_name = "reader";
  o.worker_id = "w";
  o.lease_table = NewInMemoryLeaseTable();
  o.idle_interval = absl::ZeroDuration();
  std::vector<std::string> seen;
  {
    ASSIGN_OR_REQUIRE(auto worker,
                      ConsumerWorker::Create(*store, o, [&](const std::string&) {
                        return std::make_unique<CheckpointAtA2>(&seen);
                      }));
    for (int i = 0; i < 50 && seen.size() < 9; ++i) REQUIRE_OK(worker->RunOnce());
    REQUIRE(seen.size() == 9);
    ASSIGN_OR_REQUIRE(auto leases, o.lease_table->ListLeases(worker->consumer().scope()));
    REQUIRE(leases.size() == 1);
    CHECK(leases[0].checkpoint.sub_sequence_number == 2);
  }  // dropped without Stop: nothing more is checkpointed
  ASSIGN_OR_REQUIRE(auto c, Consumer::Create(*store, o));
  CHECK(DataOf(PollRecords(*c, 5)) == std::vector<std::string>{"a-3", "a-4", "p-2", "b-0", "b-1"});
}

TEST_CASE("checkpoints inside KPL aggregates over a remote store", "[kpl][consumer][remote]") {
  auto server = testing::StartTributaryServer();
  CheckpointInsideAggregates(*OpenDeaggregating(server->url()), NewInMemoryLeaseTable());
}

TEST_CASE("checkpoints inside KPL aggregates against kinesalite", "[kpl][consumer][kinesalite]") {
  auto peer = testing::StartKinesalite();
  CheckpointInsideAggregates(*OpenDeaggregating(peer->url()), NewInMemoryLeaseTable());
}

}  // namespace
}  // namespace tributary
