// Fault injection (FaultEnv over MemEnv): a failing Append, Sync, Open,
// Rename or SyncDir, ENOSPC, a read-only disk and a short write each give the
// caller a clear error (a Status with a Kinesis error type, never a crash or a
// false acknowledgement); the store stays openable, and everything synced
// before is intact after a reopen.
#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "durable/durable_util.h"

namespace tributary::durable_test {
namespace {

using Op = FaultEnv::Op;
using testing::Input;
using testing::Midpoint;
using testing::OpenShards;
using testing::PartitionProblem;
using testing::PutOk;
using testing::ReadShard;

struct Written {
  std::string shard;
  SequenceNumber seq;
  std::string data;
};

// Every acknowledged record is present once with its data; every shard's
// numbers strictly increase; no sequence number is shared by two records.
void CheckIntact(Store& store, const std::string& stream, const std::vector<Written>& acked) {
  auto all = AllRecords(store, stream);
  std::map<std::string, std::map<std::string, std::string>> by_seq;
  for (const auto& [id, recs] : all) {
    CheckStrictlyIncreasing(recs);
    for (const Record& r : recs) {
      INFO("shard " << id << " holds two records numbered " << r.sequence_number.ToString());
      CHECK(by_seq[id].emplace(r.sequence_number.ToString(), r.data).second);
    }
  }
  for (const Written& w : acked) {
    INFO("acknowledged " << w.shard << " " << w.seq.ToString() << " " << w.data);
    auto it = by_seq[w.shard].find(w.seq.ToString());
    REQUIRE(it != by_seq[w.shard].end());
    CHECK(it->second == w.data);
  }
}

Written Put1(Store& s, const std::string& stream, const std::string& key, const std::string& data) {
  auto r = PutOk(s, stream, key, data);
  return {r.shard_id.ToString(), r.sequence_number, data};
}

bool IsIoError(const absl::Status& s) {
  return !s.ok() && GetErrorType(s) == ErrorType::kInternalFailure;
}

TEST_CASE("a failed Append or Sync fails the Put, synced records survive a reopen",
          "[durable][fault]") {
  Op op = GENERATE(Op::kAppend, Op::kSync);
  bool power_loss = GENERATE(false, true);
  INFO("failing " << FaultEnv::OpName(op) << (power_loss ? ", then power loss" : ", then reopen"));
  Disk d;
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 1));
  std::vector<Written> acked;
  for (int i = 0; i < 20; ++i) acked.push_back(Put1(*d, "s", "k", "r" + std::to_string(i)));
  d.fault->FailNth(op, 1);
  auto bad = d->Put("s", Input("k", "failed"));
  REQUIRE_FALSE(bad.ok());
  CHECK(IsIoError(bad.status()));
  // The shard refuses appends until the store is reopened: clear errors, no
  // acknowledgement of anything that might not be durable.
  for (int i = 0; i < 3; ++i) {
    auto again = d->Put("s", Input("k", "refused"));
    if (again.ok()) acked.push_back({again->shard_id.ToString(), again->sequence_number, "refused"});
    else CHECK(IsIoError(again.status()));
  }
  auto batch = d->PutBatch("s", std::vector<PutRecordInput>{Input("k", "b")});
  if (batch.ok()) {
    for (const auto& e : batch->records) {
      if (e.ok()) acked.push_back({e.shard_id->ToString(), *e.sequence_number, "b"});
      else CHECK(e.error_code == "InternalFailure");
    }
  }
  // Reads still work and never show the failed record half-written.
  for (const Record& r : ReadShard(*d, "s", FormatShardId(0)).records) {
    CHECK((r.data.rfind("r", 0) == 0 || r.data == "failed" || r.data == "refused" || r.data == "b"));
  }
  d.fault->ClearFailures();
  if (power_loss) d.PowerLoss();
  d.Open();
  CheckIntact(*d, "s", acked);
  acked.push_back(Put1(*d, "s", "k", "after"));
  CheckIntact(*d, "s", acked);
}

TEST_CASE("PutBatch reports a failed Append or Sync per entry, never as success",
          "[durable][fault]") {
  Op op = GENERATE(Op::kAppend, Op::kSync);
  Disk d;
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 2));
  std::vector<Written> acked;
  for (int i = 0; i < 10; ++i) acked.push_back(Put1(*d, "s", "k" + std::to_string(i), "r" + std::to_string(i)));
  d.fault->FailNth(op, 1);
  std::vector<std::string> keys, datas;
  std::vector<PutRecordInput> in;
  for (int i = 0; i < 20; ++i) {
    keys.push_back("bk" + std::to_string(i));
    datas.push_back("batch-" + std::to_string(i));
  }
  for (int i = 0; i < 20; ++i) in.push_back(Input(keys[i], datas[i]));
  auto r = d->PutBatch("s", in);
  if (!r.ok()) {
    CHECK(IsIoError(r.status()));
  } else {
    CHECK(r->failed_record_count > 0);
    int failed = 0;
    for (int i = 0; i < 20; ++i) {
      const auto& e = r->records[i];
      if (e.ok()) {
        acked.push_back({e.shard_id->ToString(), *e.sequence_number, datas[i]});
      } else {
        ++failed;
        CHECK(e.error_code == "InternalFailure");
        CHECK_FALSE(e.error_message.empty());
      }
    }
    CHECK(failed == r->failed_record_count);
  }
  d.fault->ClearFailures();
  d.PowerLoss();
  d.Open();
  CheckIntact(*d, "s", acked);
}

TEST_CASE("ENOSPC: writes fail with a clear error, reads go on, and the store recovers",
          "[durable][fault]") {
  Disk d;
  d.options.segment_bytes = 4096;
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 2));
  std::vector<Written> acked;
  for (int i = 0; i < 40; ++i) acked.push_back(Put1(*d, "s", "k" + std::to_string(i), Payload("r" + std::to_string(i), 300)));
  d.fault->SetNoSpace(true);
  int failures = 0;
  for (int i = 0; i < 20; ++i) {
    auto r = d->Put("s", Input("k" + std::to_string(i), Payload("full" + std::to_string(i), 300)));
    if (r.ok()) {
      acked.push_back({r->shard_id.ToString(), r->sequence_number, Payload("full" + std::to_string(i), 300)});
      continue;
    }
    ++failures;
    CHECK(IsIoError(r.status()));
    CHECK(r.status().code() == absl::StatusCode::kResourceExhausted);
    CHECK(std::string(r.status().message()).find("No space") != std::string::npos);
  }
  CHECK(failures == 20);
  // Control-plane writes fail too, cleanly.
  auto cs = d->CreateStream("other", 1);
  if (!cs.ok()) CHECK(IsIoError(cs));
  // Reads are unaffected.
  CheckIntact(*d, "s", acked);
  d.fault->SetNoSpace(false);
  SECTION("reopen") { d.Open(); }
  SECTION("power loss") {
    d.PowerLoss();
    d.Open();
  }
  CheckIntact(*d, "s", acked);
  acked.push_back(Put1(*d, "s", "k", "after"));
  CheckIntact(*d, "s", acked);
}

TEST_CASE("ENOSPC in the middle of a stream of writes across segment rolls", "[durable][fault]") {
  int fail_after = GENERATE(1, 5, 13, 29, 60);
  INFO("the disk fills after " << fail_after << " appends");
  Disk d;
  d.options.segment_bytes = 4096;
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 1));
  std::vector<Written> acked;
  for (int i = 0; i < 5; ++i) acked.push_back(Put1(*d, "s", "k", Payload("pre" + std::to_string(i), 700)));
  d.fault->FailNth(Op::kAppend, fail_after,
                   MakeError(absl::StatusCode::kResourceExhausted, ErrorType::kInternalFailure,
                             "No space left on device (injected)"));
  for (int i = 0; i < 80; ++i) {
    std::string data = Payload("w" + std::to_string(i), 700);
    auto r = d->Put("s", Input("k", data));
    if (r.ok()) acked.push_back({r->shard_id.ToString(), r->sequence_number, data});
    else CHECK(IsIoError(r.status()));
  }
  CheckIntact(*d, "s", acked);
  d.fault->ClearFailures();
  d.PowerLoss();
  d.Open();
  CheckIntact(*d, "s", acked);
  acked.push_back(Put1(*d, "s", "k", "after"));
  CheckIntact(*d, "s", acked);
}

TEST_CASE("a segment roll that cannot start the next segment issues no sequence number twice",
          "[durable][fault]") {
  // Op::kOpen / Op::kSyncDir are only used, during appends, by the roll to a
  // new segment (NewWritableFile, then SyncDir of the shard directory).
  Op op = GENERATE(Op::kOpen, Op::kSyncDir);
  INFO("failing " << FaultEnv::OpName(op) << " at the first roll");
  Disk d;
  d.options.segment_bytes = 4096;
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 1));
  d.fault->FailNth(op, 1);
  std::vector<Written> acked;
  int failures = 0;
  for (int i = 0; i < 40; ++i) {
    std::string data = Payload("w" + std::to_string(i), 500);
    auto r = d->Put("s", Input("k", data));
    if (r.ok()) {
      acked.push_back({r->shard_id.ToString(), r->sequence_number, data});
    } else {
      ++failures;
      CHECK(IsIoError(r.status()));
    }
  }
  CHECK(failures >= 1);
  // Live reads: each acknowledged record once, numbers never shared.
  CheckIntact(*d, "s", acked);
  d.fault->ClearFailures();
  d.Open();
  CheckIntact(*d, "s", acked);
  auto r = Put1(*d, "s", "k", "after");
  for (const Written& w : acked) CHECK(w.seq < r.seq);
}

TEST_CASE("a failed segment-header write at a roll leaves the store openable",
          "[durable][fault]") {
  // Batches of three 500-byte records fill a 4 KiB segment with the third
  // batch (32 + 9 * 532 >= 4096): the 4th Append after CreateStream is the
  // new segment's header. It fails; single Puts follow.
  bool power_loss = GENERATE(false, true);
  Disk d;
  d.options.segment_bytes = 4096;
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 1));
  d.fault->FailNth(Op::kAppend, 4);
  std::vector<Written> acked;
  int failures = 0;
  for (int b = 0; b < 3; ++b) {
    std::vector<std::string> datas;
    std::vector<PutRecordInput> in;
    for (int j = 0; j < 3; ++j) datas.push_back(Payload("b" + std::to_string(b) + "-" + std::to_string(j), 500));
    for (int j = 0; j < 3; ++j) in.push_back(Input("k", datas[j]));
    auto r = d->PutBatch("s", in);
    REQUIRE_OK(r);
    for (int j = 0; j < 3; ++j) {
      if (r->records[j].ok()) acked.push_back({r->records[j].shard_id->ToString(), *r->records[j].sequence_number, datas[j]});
      else ++failures;
    }
  }
  for (int i = 0; i < 40; ++i) {
    std::string data = Payload("w" + std::to_string(i), 500);
    auto r = d->Put("s", Input("k", data));
    if (r.ok()) acked.push_back({r->shard_id.ToString(), r->sequence_number, data});
    else ++failures;
  }
  CHECK(failures >= 1);
  d.fault->ClearFailures();
  if (power_loss) d.PowerLoss();
  d.store.reset();
  auto reopened = d.TryOpen();
  REQUIRE_OK(reopened);
  CheckIntact(**reopened, "s", acked);
}

TEST_CASE("CreateStream whose shard log cannot be created does not report success for a broken stream",
          "[durable][fault]") {
  Op op = GENERATE(Op::kOpen, Op::kAppend, Op::kSync, Op::kSyncDir);
  INFO("failing the first " << FaultEnv::OpName(op) << " of CreateStream (the first shard's segment)");
  Disk d;
  d.Open();
  REQUIRE_OK(d->CreateStream("old", 1));
  std::vector<Written> acked{Put1(*d, "old", "k", "v")};
  d.fault->FailNth(op, 1);
  absl::Status st = d->CreateStream("new", 2);
  if (st.ok()) {
    // Success must mean a usable stream.
    auto r = d->Put("new", Input("k", "v"));
    CHECK_OK(r);
  } else {
    CHECK(IsIoError(st));
  }
  d.fault->ClearFailures();
  d.Open();
  CheckIntact(*d, "old", acked);
  auto list = d->ListStreams();
  REQUIRE_OK(list);
  if (std::find(list->stream_names.begin(), list->stream_names.end(), "new") != list->stream_names.end()) {
    CHECK_OK(d->Put("new", Input("k", "v")));
  }
}

// How many calls of `op` one run of `fn` makes (on a scratch stream).
template <typename Fn>
int CallsOf(Disk& d, Op op, Fn&& fn) {
  int before = d.fault->CallCount(op);
  fn();
  return d.fault->CallCount(op) - before;
}

TEST_CASE("a catalog write that fails in CreateStream fails the call, the store reopens consistent",
          "[durable][fault]") {
  // The catalog commit is the last Open/Append/Sync/Rename/SyncDir of the call.
  Op op = GENERATE(Op::kOpen, Op::kAppend, Op::kSync, Op::kRename, Op::kSyncDir);
  bool power_loss = GENERATE(false, true);
  INFO("failing the catalog's " << FaultEnv::OpName(op) << (power_loss ? ", then power loss" : ""));
  Disk d;
  d.Open();
  REQUIRE_OK(d->CreateStream("old", 2));
  std::vector<Written> acked;
  for (int i = 0; i < 10; ++i) acked.push_back(Put1(*d, "old", "k" + std::to_string(i), "v" + std::to_string(i)));
  int n = CallsOf(d, op, [&] { REQUIRE_OK(d->CreateStream("probe", 2)); });
  REQUIRE(n >= 1);
  REQUIRE_OK(d->DeleteStream("probe"));
  d.fault->FailNth(op, n);
  absl::Status st = d->CreateStream("new", 2);
  REQUIRE_FALSE(st.ok());
  CHECK(IsIoError(st));
  // Nothing is acknowledged after a failed catalog write.
  auto after = d->Put("old", Input("k", "maybe"));
  if (after.ok()) acked.push_back({after->shard_id.ToString(), after->sequence_number, "maybe"});
  else CHECK(GetErrorType(after.status()) == ErrorType::kInternalFailure);
  d.fault->ClearFailures();
  if (power_loss) d.PowerLoss();
  d.Open();
  CheckIntact(*d, "old", acked);
  auto list = d->ListStreams();
  REQUIRE_OK(list);
  bool has_new = std::find(list->stream_names.begin(), list->stream_names.end(), "new") !=
                 list->stream_names.end();
  if (has_new) {
    // If the commit did happen, the stream is whole and usable.
    CHECK(OpenShards(*d, "new").size() == 2);
    CHECK_OK(d->Put("new", Input("k", "v")));
    CHECK(ReadShard(*d, "new", testing::PutOk(*d, "new", "k", "w").shard_id.ToString()).records.size() >= 1);
  } else {
    REQUIRE_OK(d->CreateStream("new", 2));
    CHECK_OK(d->Put("new", Input("k", "v")));
  }
  // No files of anything but live streams.
  for (const std::string& f : FilesUnder(d.base, d.dir + "/streams")) {
    INFO("file " << f);
    CHECK((f.rfind("old.", 0) == 0 || f.rfind("new.", 0) == 0));
  }
}

TEST_CASE("a catalog write that fails in SplitShard fails the call, the store reopens consistent",
          "[durable][fault]") {
  Op op = GENERATE(Op::kOpen, Op::kSync, Op::kRename, Op::kSyncDir);
  bool power_loss = GENERATE(false, true);
  INFO("failing the catalog's " << FaultEnv::OpName(op) << (power_loss ? ", then power loss" : ""));
  Disk d;
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 2));
  REQUIRE_OK(d->CreateStream("probe", 2));
  std::vector<Written> acked;
  for (int i = 0; i < 30; ++i) acked.push_back(Put1(*d, "s", "k" + std::to_string(i), "v" + std::to_string(i)));
  auto probe_open = OpenShards(*d, "probe");
  int n = CallsOf(d, op, [&] {
    REQUIRE_OK(d->SplitShard("probe", probe_open[0].shard_id, Midpoint(probe_open[0].hash_key_range)));
  });
  REQUIRE(n >= 1);
  auto open = OpenShards(*d, "s");
  d.fault->FailNth(op, n);
  absl::Status st = d->SplitShard("s", open[0].shard_id, Midpoint(open[0].hash_key_range));
  REQUIRE_FALSE(st.ok());
  CHECK(IsIoError(st));
  auto maybe = d->Put("s", Input("k0", "maybe"));
  if (maybe.ok()) acked.push_back({maybe->shard_id.ToString(), maybe->sequence_number, "maybe"});
  d.fault->ClearFailures();
  if (power_loss) d.PowerLoss();
  d.Open();
  CheckIntact(*d, "s", acked);
  auto now_open = OpenShards(*d, "s");
  CHECK(PartitionProblem(now_open).empty());
  CHECK((now_open.size() == 2 || now_open.size() == 3));
  if (now_open.size() == 2) {
    // Not committed: the split can be made again, and it works.
    REQUIRE_OK(d->SplitShard("s", open[0].shard_id, Midpoint(open[0].hash_key_range)));
  }
  auto kids = OpenShards(*d, "s");
  REQUIRE(kids.size() == 3);
  for (const auto& k : kids) {
    auto r = d->Put("s", testing::InputWithHash("x", k.hash_key_range.start.ToString(), "child"));
    REQUIRE_OK(r);
    CHECK(r->shard_id.ToString() == k.shard_id);
    acked.push_back({r->shard_id.ToString(), r->sequence_number, "child"});
  }
  d.Reopen();
  CheckIntact(*d, "s", acked);
  int children = 0;
  for (const auto& k : kids) {
    if (k.parent_shard_id != open[0].shard_id) continue;
    ++children;
    CHECK(ReadShard(*d, "s", k.shard_id).records.size() == 1);
  }
  CHECK(children == 2);
}

TEST_CASE("a DeleteStream whose catalog write fails leaves the stream in place", "[durable][fault]") {
  Op op = GENERATE(Op::kOpen, Op::kSync, Op::kRename);
  Disk d;
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 1));
  std::vector<Written> acked;
  for (int i = 0; i < 10; ++i) acked.push_back(Put1(*d, "s", "k", "v" + std::to_string(i)));
  d.fault->FailNth(op, 1);
  absl::Status st = d->DeleteStream("s");
  REQUIRE_FALSE(st.ok());
  CHECK(IsIoError(st));
  CHECK_OK(d->DescribeStreamSummary("s"));
  d.fault->ClearFailures();
  d.PowerLoss();
  d.Open();
  CheckIntact(*d, "s", acked);
}

TEST_CASE("Store::Open fails cleanly while the Env fails, and opens once it stops",
          "[durable][fault]") {
  Op op = GENERATE(Op::kOpen, Op::kOpenRead, Op::kRead);
  int nth = GENERATE(1, 2, 4);
  INFO("failing " << FaultEnv::OpName(op) << " #" << nth << " of Store::Open");
  Disk d;
  d.options.segment_bytes = 4096;
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 2));
  std::vector<Written> acked;
  for (int i = 0; i < 40; ++i) acked.push_back(Put1(*d, "s", "k" + std::to_string(i), Payload("v" + std::to_string(i), 300)));
  d.store.reset();
  d.fault->FailNth(op, nth);
  auto s = d.TryOpen();
  if (!s.ok()) {
    CHECK(IsIoError(s.status()));
  } else {
    s->reset();
  }
  d.fault->ClearFailures();
  d.Open();
  CHECK(d->recovery().problems.empty());
  CheckIntact(*d, "s", acked);
}

TEST_CASE("a read-only file system: writes fail cleanly, reads work", "[durable][fault]") {
  Disk d;
  d.Open();
  REQUIRE_OK(d->CreateStream("s", 1));
  std::vector<Written> acked{Put1(*d, "s", "k", "v")};
  d.fault->SetReadOnly(true);
  auto r = d->Put("s", Input("k", "ro"));
  REQUIRE_FALSE(r.ok());
  CHECK(IsIoError(r.status()));
  absl::Status cs = d->CreateStream("t", 1);
  REQUIRE_FALSE(cs.ok());
  CHECK(IsIoError(cs));
  CheckIntact(*d, "s", acked);
  d.fault->SetReadOnly(false);
  d.Open();
  CheckIntact(*d, "s", acked);
}

// An Env whose Nth Append writes only the first half of the data and then
// fails, as write(2) does when the disk fills in the middle of a buffer.
class ShortWriteEnv : public EnvWrapper {
 public:
  explicit ShortWriteEnv(Env* target) : EnvWrapper(target) {}
  void ShortenNthAppend(int n) { countdown_ = n; }

  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& p) override {
    auto f = target()->NewWritableFile(p);
    if (!f.ok()) return f.status();
    return std::unique_ptr<WritableFile>(new File(this, std::move(*f)));
  }
  absl::StatusOr<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& p) override {
    auto f = target()->NewAppendableFile(p);
    if (!f.ok()) return f.status();
    return std::unique_ptr<WritableFile>(new File(this, std::move(*f)));
  }

 private:
  class File final : public WritableFile {
   public:
    File(ShortWriteEnv* env, std::unique_ptr<WritableFile> base) : env_(env), base_(std::move(base)) {}
    absl::Status Append(std::string_view data) override {
      if (env_->countdown_ > 0 && --env_->countdown_ == 0) {
        IgnoreError(base_->Append(data.substr(0, data.size() / 2)));
        return MakeError(absl::StatusCode::kResourceExhausted, ErrorType::kInternalFailure,
                         "No space left on device (short write, injected)");
      }
      return base_->Append(data);
    }
    absl::Status Sync() override { return base_->Sync(); }
    absl::Status Close() override { return base_->Close(); }
    uint64_t Size() const override { return base_->Size(); }

   private:
    ShortWriteEnv* env_;
    std::unique_ptr<WritableFile> base_;
  };
  static void IgnoreError(const absl::Status&) {}
  int countdown_ = 0;
};

TEST_CASE("a short write is never returned as data and is truncated on reopen",
          "[durable][fault]") {
  auto mem = NewMemEnv();
  ShortWriteEnv env(mem.get());
  ManualClock clock;
  StoreOptions o;
  o.env = &env;
  o.clock = &clock;
  std::vector<Written> acked;
  {
    auto s = Store::Open("/db", o);
    REQUIRE_OK(s);
    REQUIRE_OK((*s)->CreateStream("s", 1));
    for (int i = 0; i < 20; ++i) acked.push_back(Put1(**s, "s", "k", Payload("r" + std::to_string(i), 100)));
    env.ShortenNthAppend(1);
    auto bad = (*s)->Put("s", Input("k", Payload("torn", 400)));
    REQUIRE_FALSE(bad.ok());
    CHECK(IsIoError(bad.status()));
    auto live = ReadShard(**s, "s", FormatShardId(0)).records;
    CHECK(live.size() == acked.size());
    for (const Record& r : live) CHECK(r.data.rfind("torn", 0) != 0);
  }
  auto s = Store::Open("/db", o);
  REQUIRE_OK(s);
  RecoveryReport rep = (*s)->recovery();
  CHECK(rep.truncated_bytes > 0);
  REQUIRE(rep.problems.size() == 1);
  CHECK(rep.problems[0].find("torn tail") != std::string::npos);
  CheckIntact(**s, "s", acked);
  for (const Record& r : ReadShard(**s, "s", FormatShardId(0)).records) CHECK(r.data.rfind("torn", 0) != 0);
  acked.push_back(Put1(**s, "s", "k", "after"));
  CheckIntact(**s, "s", acked);
}

}  // namespace
}  // namespace tributary::durable_test
