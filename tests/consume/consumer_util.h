// Helpers for the ordered-consumer tests: a producer that numbers each
// key's records and tells the OrderingVerifier what the store acknowledged,
// consumer options with short, test-friendly timings, and drain loops that
// drive consumers step by step on a ManualClock (no thread, no sleep).
#ifndef TRIBUTARY_TESTS_CONSUME_CONSUMER_UTIL_H_
#define TRIBUTARY_TESTS_CONSUME_CONSUMER_UTIL_H_

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "testing/status_matchers.h"
#include "testing/store_util.h"
#include "tributary/testing/ordering_verifier.h"
#include "tributary/tributary.h"

namespace tributary::consume_test {

using testing::OrderingVerifier;

// Writes records "<key>#<n>" (n counts per key) and acknowledges each
// stored record to the verifier (if any).
class Producer {
 public:
  Producer(Store& store, std::string stream, OrderingVerifier* verifier = nullptr)
      : store_(store), stream_(std::move(stream)), verifier_(verifier) {}

  PutRecordResult Put(const std::string& key) {
    const std::string data = key + "#" + std::to_string(next_[key]++);
    auto r = store_.Put(stream_, testing::Input(key, data));
    REQUIRE_OK(r);
    if (verifier_) verifier_->Acknowledged(key, r->sequence_number);
    ++written_;
    return *r;
  }

  // `n` records over keys "k0".."k<keys-1>", as PutBatch calls of up to 50.
  void PutMany(int n, int keys, std::mt19937_64& rng) {
    std::vector<std::string> ks, data;
    for (int i = 0; i < n; ++i) {
      std::string key = "k" + std::to_string(rng() % keys);
      data.push_back(key + "#" + std::to_string(next_[key]++));
      ks.push_back(std::move(key));
      if (ks.size() == 50 || i + 1 == n) Flush(ks, data);
    }
  }

  int64_t written() const { return written_; }

 private:
  void Flush(std::vector<std::string>& ks, std::vector<std::string>& data) {
    std::vector<PutRecordInput> in;
    for (size_t i = 0; i < ks.size(); ++i) in.push_back(testing::Input(ks[i], data[i]));
    auto r = store_.PutBatch(stream_, in);
    REQUIRE_OK(r);
    REQUIRE(r->failed_record_count == 0);
    for (size_t i = 0; i < ks.size(); ++i) {
      if (verifier_) verifier_->Acknowledged(ks[i], *r->records[i].sequence_number);
      ++written_;
    }
    ks.clear();
    data.clear();
  }

  Store& store_;
  const std::string stream_;
  OrderingVerifier* verifier_;
  std::map<std::string, int> next_;
  int64_t written_ = 0;
};

// Timings the tests reason about: leases of 10 s renewed every 3 s, a take
// pass every 2 s, a full shard sync every 30 s, caught-up shards rest 1 s.
inline ConsumerOptions TestOptions(const std::string& stream, const std::string& name,
                                   const std::string& worker) {
  ConsumerOptions o;
  o.stream = stream;
  o.consumer_name = name;
  o.worker_id = worker;
  o.lease_duration = absl::Seconds(10);
  o.renew_interval = absl::Seconds(3);
  o.take_interval = absl::Seconds(2);
  o.shard_sync_interval = absl::Seconds(30);
  o.idle_interval = absl::Seconds(1);
  return o;
}

inline std::unique_ptr<Consumer> MakeConsumer(Store& store, const ConsumerOptions& o) {
  auto c = Consumer::Create(store, o);
  REQUIRE_OK(c);
  return std::move(c).value();
}

// Polls until Poll() returns nothing; feeds every batch to `v` (if any) and
// to `each` (if any). Returns the number of records delivered.
template <typename Each>
int64_t PollUntilIdle(Consumer& c, OrderingVerifier* v, Each&& each) {
  int64_t n = 0;
  for (int guard = 0; guard < 1000000; ++guard) {
    auto b = c.Poll();
    REQUIRE_OK(b);
    if (!b->has_value()) return n;
    if (v) v->Delivered(**b);
    n += static_cast<int64_t>((*b)->records.size());
    each(**b);
  }
  FAIL("consumer " << c.worker_id() << " never went idle");
  return n;
}
inline int64_t PollUntilIdle(Consumer& c, OrderingVerifier* v = nullptr) {
  return PollUntilIdle(c, v, [](const RecordBatch&) {});
}

// Drives `consumers` round by round, moving the clock by `step` between
// rounds, until `rounds_quiet` rounds in a row deliver nothing.
inline int64_t DrainAll(ManualClock& clock, const std::vector<Consumer*>& consumers, OrderingVerifier* v,
                        absl::Duration step = absl::Seconds(1), int rounds_quiet = 15) {
  int64_t total = 0;
  int quiet = 0;
  for (int round = 0; round < 100000 && quiet < rounds_quiet; ++round) {
    int64_t n = 0;
    for (Consumer* c : consumers) n += PollUntilIdle(*c, v);
    total += n;
    quiet = n == 0 ? quiet + 1 : 0;
    clock.Advance(step);
  }
  return total;
}

}  // namespace tributary::consume_test

#endif  // TRIBUTARY_TESTS_CONSUME_CONSUMER_UTIL_H_
