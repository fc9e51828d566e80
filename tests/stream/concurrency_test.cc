// Thread safety: producers, readers and listers on one multi-shard stream.
//
// Catch assertions are not thread-safe, so worker threads only record what
// they saw (and any error text); the main thread checks afterwards.
#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "testing/status_matchers.h"
#include "testing/store_util.h"
#include "tributary/tributary.h"

namespace tributary {
namespace {

using testing::AllShards;
using testing::Input;
using testing::StoreFixture;

struct Errors {
  std::mutex mu;
  std::vector<std::string> list;
  void Add(const std::string& what, const absl::Status& s) {
    std::lock_guard<std::mutex> l(mu);
    list.push_back(what + ": " + testing::DescribeStatus(s));
  }
};

struct Written {
  std::string key;
  std::string data;
  SequenceNumber seq;
  std::string shard_id;
};

TEST_CASE("concurrent producers and readers see every record exactly once, in order",
          "[stream][concurrency]") {
  StoreFixture f;
  constexpr int kShards = 4;
  constexpr int kProducers = 3;
  constexpr int kKeysPerProducer = 20;
  constexpr int kPutsPerProducer = 600;
  REQUIRE_OK(f->CreateStream("s", kShards));
  auto shards = AllShards(*f, "s");

  Errors errors;
  std::vector<std::vector<Written>> written(kProducers + 1);
  std::atomic<int> producers_running{kProducers + 1};

  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      std::vector<int> next(kKeysPerProducer, 0);
      for (int i = 0; i < kPutsPerProducer; ++i) {
        int k = (i * 7 + p) % kKeysPerProducer;
        std::string key = "p" + std::to_string(p) + "-k" + std::to_string(k);
        std::string data = key + "#" + std::to_string(next[k]++);
        auto r = f->Put("s", Input(key, data));
        if (!r.ok()) {
          errors.Add("put " + data, r.status());
          continue;
        }
        written[p].push_back({key, data, r->sequence_number, r->shard_id.ToString()});
        if (i % 50 == 0) f.clock.Advance(absl::Milliseconds(1));
      }
      producers_running.fetch_sub(1);
    });
  }
  // One more producer that writes through PutBatch.
  threads.emplace_back([&] {
    int n = 0;
    for (int b = 0; b < 20; ++b) {
      std::vector<std::string> keys, data;
      for (int i = 0; i < 25; ++i) {
        keys.push_back("batch-k" + std::to_string(i % 5));
        data.push_back(keys.back() + "#" + std::to_string(n / 5));
        ++n;
      }
      std::vector<PutRecordInput> in;
      for (int i = 0; i < 25; ++i) in.push_back(Input(keys[i], data[i]));
      auto r = f->PutBatch("s", in);
      if (!r.ok()) {
        errors.Add("put batch", r.status());
        continue;
      }
      for (int i = 0; i < 25; ++i) {
        const auto& e = r->records[i];
        if (!e.ok() || !e.sequence_number || !e.shard_id) {
          errors.Add("batch entry " + data[i] + " " + e.error_code, absl::OkStatus());
          continue;
        }
        written[kProducers].push_back({keys[i], data[i], *e.sequence_number, e.shard_id->ToString()});
      }
    }
    producers_running.fetch_sub(1);
  });

  // Two readers, each tailing half of the shards from TRIM_HORIZON.
  std::vector<std::vector<std::pair<std::string, Record>>> read(2);
  for (int rd = 0; rd < 2; ++rd) {
    threads.emplace_back([&, rd] {
      std::map<std::string, std::string> iters;
      for (int s = rd; s < kShards; s += 2) {
        GetShardIteratorRequest req;
        req.stream = "s";
        req.shard_id = shards[s].shard_id;
        auto it = f->GetShardIterator(req);
        if (!it.ok()) {
          errors.Add("iterator", it.status());
          return;
        }
        iters[shards[s].shard_id] = *it;
      }
      for (;;) {
        bool done = producers_running.load() == 0;
        bool all_empty = true;
        for (auto& [shard, it] : iters) {
          auto r = f->GetRecords(it, 37);
          if (!r.ok()) {
            errors.Add("get records " + shard, r.status());
            return;
          }
          for (auto& rec : r->records) read[rd].emplace_back(shard, std::move(rec));
          if (!r->records.empty()) all_empty = false;
          if (!r->next_shard_iterator) {
            errors.Add("open shard ended " + shard, absl::OkStatus());
            return;
          }
          it = *r->next_shard_iterator;
        }
        if (done && all_empty) return;
      }
    });
  }
  // A lister that describes the stream while everything else runs.
  std::atomic<bool> stop_lister{false};
  std::thread lister([&] {
    while (!stop_lister.load()) {
      auto d = f->DescribeStreamSummary("s");
      if (!d.ok()) errors.Add("describe", d.status());
      ListShardsRequest req;
      req.stream = "s";
      auto l = f->ListShards(req);
      if (!l.ok()) errors.Add("list shards", l.status());
      std::this_thread::yield();
    }
  });
  for (auto& t : threads) t.join();
  stop_lister = true;
  lister.join();

  {
    std::lock_guard<std::mutex> l(errors.mu);
    for (const auto& e : errors.list) FAIL_CHECK(e);
    REQUIRE(errors.list.empty());
  }

  std::map<std::string, Written> by_data;
  size_t total_written = 0;
  for (const auto& w : written) {
    for (const auto& x : w) {
      REQUIRE(by_data.emplace(x.data, x).second);
      ++total_written;
    }
  }
  CHECK(total_written == kProducers * kPutsPerProducer + 20 * 25);

  std::map<std::string, int> seen;
  std::map<std::string, int> next_of_key;             // key -> next expected counter
  std::map<std::string, SequenceNumber> last_of_shard;
  for (const auto& per_reader : read) {
    for (const auto& [shard, rec] : per_reader) {
      auto it = by_data.find(rec.data);
      INFO("record " << rec.data << " from " << shard);
      REQUIRE(it != by_data.end());
      CHECK(++seen[rec.data] == 1);
      CHECK(it->second.seq == rec.sequence_number);
      CHECK(it->second.shard_id == shard);
      CHECK(it->second.key == rec.partition_key);
      // Per-key order: counters appear as 0, 1, 2, ...
      int counter = std::stoi(rec.data.substr(rec.data.find('#') + 1));
      CHECK(counter == next_of_key[rec.partition_key]);
      next_of_key[rec.partition_key] = counter + 1;
      // Per-shard order: sequence numbers increase.
      auto ls = last_of_shard.find(shard);
      if (ls != last_of_shard.end()) CHECK(rec.sequence_number > ls->second);
      last_of_shard[shard] = rec.sequence_number;
    }
  }
  CHECK(seen.size() == total_written);
}

TEST_CASE("concurrent stream creation and deletion keep the catalog consistent", "[stream][concurrency]") {
  StoreFixture f;
  Errors errors;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        std::string name = "t" + std::to_string(t) + "-" + std::to_string(i % 5);
        absl::Status c = f->CreateStream(name, 1);
        if (!c.ok() && GetErrorType(c) != ErrorType::kResourceInUse) errors.Add("create " + name, c);
        auto p = f->Put(name, Input("k", "v"));
        if (!p.ok() && GetErrorType(p.status()) != ErrorType::kResourceNotFound) errors.Add("put " + name, p.status());
        if (i % 2 == 1) {
          absl::Status d = f->DeleteStream(name);
          if (!d.ok() && GetErrorType(d) != ErrorType::kResourceNotFound) errors.Add("delete " + name, d);
        }
        auto l = f->ListStreams();
        if (!l.ok()) errors.Add("list", l.status());
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& e : errors.list) FAIL_CHECK(e);
  auto l = f->ListStreams();
  REQUIRE_OK(l);
  auto limits = f->DescribeLimits();
  REQUIRE_OK(limits);
  CHECK(limits->open_shard_count == static_cast<int>(l->stream_names.size()));
}

}  // namespace
}  // namespace tributary
