#include "remote/subscription.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <simdjson.h>

#include <boost/crc.hpp>
#include <cmath>
#include <deque>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/escaping.h"
#include "remote/remote_backend.h"
#include "remote/signing.h"
#include "tributary/status.h"
#include "util/json_writer.h"
#include "util/mutex.h"
#include "util/status_macros.h"

namespace tributary::remote {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

// An event larger than this is not an event Kinesis sends (10 MiB of
// records is 13.4 MiB of JSON): the stream is broken.
constexpr uint32_t kMaxMessageBytes = 24 << 20;

absl::Status BadStream(std::string_view what) {
  return MakeError(absl::StatusCode::kInternal, ErrorType::kInternalFailure,
                   fmt::format("the SubscribeToShard event stream does not decode: {}", what));
}

uint32_t BigEndian32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | u[3];
}

uint32_t Crc32(std::string_view bytes) {
  boost::crc_32_type crc;
  crc.process_bytes(bytes.data(), bytes.size());
  return crc.checksum();
}

std::optional<std::string_view> Str(object o, std::string_view key) {
  std::string_view s;
  if (o.at_key(key).get_string().get(s) != simdjson::SUCCESS) return std::nullopt;
  return s;
}

// A SubscribeToShardEvent payload (JSON 1.1): the records, continuation,
// MillisBehindLatest and ChildShards.
absl::StatusOr<SubscribeToShardEvent> ParseEvent(const std::string& payload) {
  simdjson::dom::parser parser;
  object o;
  if (parser.parse(payload).get_object().get(o) != simdjson::SUCCESS) return BadStream("event is not JSON");
  SubscribeToShardEvent ev;
  if (auto c = Str(o, "ContinuationSequenceNumber")) ev.continuation_sequence_number = std::string(*c);
  int64_t behind = 0;
  if (o.at_key("MillisBehindLatest").get_int64().get(behind) == simdjson::SUCCESS) ev.millis_behind_latest = behind;
  array records;
  if (o.at_key("Records").get_array().get(records) == simdjson::SUCCESS) {
    for (element e : records) {
      object r;
      if (e.get_object().get(r) != simdjson::SUCCESS) return BadStream("a record is not an object");
      Record rec;
      std::optional<std::string_view> seq = Str(r, "SequenceNumber");
      if (!seq) return BadStream("a record has no SequenceNumber");
      absl::StatusOr<SequenceNumber> n = SequenceNumber::ParseAny(*seq, "SequenceNumber");
      if (!n.ok()) return BadStream(std::string(n.status().message()));
      rec.sequence_number = *n;
      double t = 0;
      if (r.at_key("ApproximateArrivalTimestamp").get_double().get(t) == simdjson::SUCCESS) {
        rec.approximate_arrival_timestamp = absl::FromUnixMillis(std::llround(t * 1000));
      }
      rec.partition_key = std::string(Str(r, "PartitionKey").value_or(""));
      std::string_view data = Str(r, "Data").value_or("");
      if (!absl::Base64Unescape(absl::string_view(data.data(), data.size()), &rec.data)) {
        return BadStream("Data is not base64");
      }
      ev.records.push_back(std::move(rec));
    }
  }
  array children;
  if (o.at_key("ChildShards").get_array().get(children) == simdjson::SUCCESS) {
    for (element e : children) {
      object c;
      if (e.get_object().get(c) != simdjson::SUCCESS) return BadStream("a child shard is not an object");
      ChildShard cs;
      cs.shard_id = std::string(Str(c, "ShardId").value_or(""));
      array parents;
      if (c.at_key("ParentShards").get_array().get(parents) == simdjson::SUCCESS) {
        for (element p : parents) {
          std::string_view s;
          if (p.get_string().get(s) == simdjson::SUCCESS) cs.parent_shards.emplace_back(s);
        }
      }
      object range;
      if (c.at_key("HashKeyRange").get_object().get(range) != simdjson::SUCCESS) {
        return BadStream("a child shard has no HashKeyRange");
      }
      absl::StatusOr<HashKey> start = HashKey::Parse(Str(range, "StartingHashKey").value_or(""), "StartingHashKey");
      absl::StatusOr<HashKey> end = HashKey::Parse(Str(range, "EndingHashKey").value_or(""), "EndingHashKey");
      if (!start.ok() || !end.ok()) return BadStream("a child shard's HashKeyRange does not parse");
      cs.hash_key_range = HashKeyRange{*start, *end};
      ev.child_shards.push_back(std::move(cs));
    }
  }
  return ev;
}

class RemoteSubscription final : public stream::SubscriptionSource {
 public:
  explicit RemoteSubscription(SubscribeRequest request) : request_(std::move(request)) {}

  ~RemoteSubscription() override {
    Cancel();
    if (thread_.joinable()) thread_.join();
  }

  absl::Status Start() {
    thread_ = std::thread([this] { Run(); });
    const absl::Time deadline = absl::Now() + request_.response_timeout;
    util::MutexLock l(&mu_);
    while (!head_ && !done_ && absl::Now() < deadline) cv_.WaitFor(&mu_, deadline - absl::Now());
    if (!error_.ok()) return error_;
    if (head_ || done_) return absl::OkStatus();
    cancelled_ = true;
    return MakeError(absl::StatusCode::kDeadlineExceeded, ErrorType::kInternalFailure,
                     fmt::format("SubscribeToShard at {}: no answer within {}", request_.url,
                                 absl::FormatDuration(request_.response_timeout)));
  }

  absl::StatusOr<std::optional<SubscribeToShardEvent>> Next(absl::Duration max_wait) override {
    const absl::Time deadline = absl::Now() + max_wait;
    util::MutexLock l(&mu_);
    while (queue_.empty() && !done_ && !cancelled_) {
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) break;
      cv_.WaitFor(&mu_, left);
    }
    if (!queue_.empty()) {
      SubscribeToShardEvent ev = std::move(queue_.front());
      queue_.pop_front();
      cv_.SignalAll();  // room for the transfer thread
      if (ev.continuation_sequence_number) last_continuation_ = ev.continuation_sequence_number;
      last_behind_ = ev.millis_behind_latest;
      return std::optional<SubscribeToShardEvent>(std::move(ev));
    }
    if (cancelled_) return std::optional<SubscribeToShardEvent>();
    if (done_) {
      if (!error_.ok()) {
        absl::Status e = error_;
        error_ = absl::OkStatus();  // reported once; the subscription is over
        cancelled_ = true;
        return e;
      }
      return std::optional<SubscribeToShardEvent>();
    }
    SubscribeToShardEvent heartbeat;
    heartbeat.continuation_sequence_number = last_continuation_;
    heartbeat.millis_behind_latest = last_behind_;
    return std::optional<SubscribeToShardEvent>(std::move(heartbeat));
  }

  void Cancel() override {
    util::MutexLock l(&mu_);
    cancelled_ = true;
    cv_.SignalAll();
  }

 private:
  bool cancelled() {
    util::MutexLock l(&mu_);
    return cancelled_;
  }

  void Finish(absl::Status error) {
    util::MutexLock l(&mu_);
    if (error_.ok() && !error.ok() && !cancelled_) error_ = std::move(error);
    done_ = true;
    cv_.SignalAll();
  }

  static size_t OnData(char* data, size_t size, size_t n, void* user) {
    auto* self = static_cast<RemoteSubscription*>(user);
    return self->Deliver(std::string_view(data, size * n)) ? size * n : 0;
  }

  static int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    return static_cast<RemoteSubscription*>(user)->cancelled() ? 1 : 0;
  }

  // On the transfer thread. False aborts the transfer.
  bool Deliver(std::string_view chunk) {
    if (status_ == 0) curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status_);
    if (status_ != 200) {
      if (error_body_.size() < (64 << 10)) error_body_.append(chunk);
      return true;
    }
    buffer_.append(chunk);
    while (buffer_.size() >= 12) {
      const uint32_t total = BigEndian32(buffer_.data());
      const uint32_t headers_len = BigEndian32(buffer_.data() + 4);
      if (total < 16 || total > kMaxMessageBytes || headers_len > total - 16) {
        return Fail(BadStream(fmt::format("a message claims {} bytes", total)));
      }
      if (buffer_.size() < total) break;
      const std::string_view msg(buffer_.data(), total);
      if (BigEndian32(msg.data() + 8) != Crc32(msg.substr(0, 8)) ||
          BigEndian32(msg.data() + total - 4) != Crc32(msg.substr(0, total - 4))) {
        return Fail(BadStream("a CRC does not match"));
      }
      std::string message_type, event_type, exception_type;
      size_t p = 12;
      const size_t end = 12 + headers_len;
      while (p < end) {
        const size_t name_len = static_cast<unsigned char>(msg[p]);
        if (p + 1 + name_len + 3 > end) return Fail(BadStream("a header overruns"));
        std::string_view name = msg.substr(p + 1, name_len);
        p += 1 + name_len;
        if (msg[p] != 7) return Fail(BadStream("a header is not a string"));
        const size_t value_len = (static_cast<size_t>(static_cast<unsigned char>(msg[p + 1])) << 8) |
                                 static_cast<unsigned char>(msg[p + 2]);
        if (p + 3 + value_len > end) return Fail(BadStream("a header value overruns"));
        std::string_view value = msg.substr(p + 3, value_len);
        p += 3 + value_len;
        if (name == ":message-type") message_type = value;
        if (name == ":event-type") event_type = value;
        if (name == ":exception-type") exception_type = value;
      }
      std::string payload(msg.substr(end, total - 4 - end));
      buffer_.erase(0, total);
      if (message_type == "exception") {
        HttpResponse r;
        r.status = 400;
        r.body = std::move(payload);
        r.error_type = exception_type;
        return Fail(ErrorFromResponse(r, "SubscribeToShard"));
      }
      if (event_type == "initial-response") {
        util::MutexLock l(&mu_);
        head_ = true;
        cv_.SignalAll();
        continue;
      }
      if (event_type != "SubscribeToShardEvent") continue;  // a type added later
      absl::StatusOr<SubscribeToShardEvent> ev = ParseEvent(payload);
      if (!ev.ok()) return Fail(ev.status());
      util::MutexLock l(&mu_);
      // A full queue stops this thread, so curl stops reading and HTTP/2
      // flow control holds the server back.
      while (queue_.size() >= kMaxQueuedEvents && !cancelled_) cv_.Wait(&mu_);
      if (cancelled_) return false;
      queue_.push_back(std::move(*ev));
      head_ = true;
      cv_.SignalAll();
    }
    return true;
  }

  bool Fail(absl::Status st) {
    Finish(std::move(st));
    return false;
  }

  void Run() {
    curl_ = curl_easy_init();
    if (curl_ == nullptr) return Finish(InternalFailureError("curl_easy_init failed"));
    curl_slist* list = nullptr;
    for (const std::string& h : request_.headers) list = curl_slist_append(list, h.c_str());
    list = curl_slist_append(list, "Expect:");
    list = curl_slist_append(list, "Accept:");
    char error[CURL_ERROR_SIZE] = {0};
    const bool https = request_.url.rfind("https:", 0) == 0;
    curl_easy_setopt(curl_, CURLOPT_URL, request_.url.c_str());
    // Kinesis pushes events only over HTTP/2: h2c with prior knowledge on
    // http://, h2 by ALPN on https:// (no fallback to HTTP/1.1 there).
    curl_easy_setopt(curl_, CURLOPT_HTTP_VERSION,
                     https ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(absl::ToInt64Milliseconds(request_.connect_timeout)));
    curl_easy_setopt(curl_, CURLOPT_SSL_VERIFYPEER, request_.verify_tls ? 1L : 0L);
    curl_easy_setopt(curl_, CURLOPT_SSL_VERIFYHOST, request_.verify_tls ? 2L : 0L);
    if (!request_.ca_file.empty()) curl_easy_setopt(curl_, CURLOPT_CAINFO, request_.ca_file.c_str());
    curl_easy_setopt(curl_, CURLOPT_POST, 1L);
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, request_.body.data());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request_.body.size()));
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &RemoteSubscription::OnData);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(curl_, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl_, CURLOPT_XFERINFOFUNCTION, &RemoteSubscription::OnProgress);
    curl_easy_setopt(curl_, CURLOPT_XFERINFODATA, this);
    curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, error);
    const CURLcode rc = curl_easy_perform(curl_);
    if (status_ == 0) curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status_);
    char* content_type = nullptr;
    curl_easy_getinfo(curl_, CURLINFO_CONTENT_TYPE, &content_type);
    absl::Status result;
    if (status_ != 0 && status_ != 200) {
      HttpResponse r;
      r.status = static_cast<int>(status_);
      r.body = std::move(error_body_);
      struct curl_header* h = nullptr;
      if (curl_easy_header(curl_, "x-amzn-ErrorType", 0, CURLH_HEADER, -1, &h) == CURLHE_OK) r.error_type = h->value;
      result = ErrorFromResponse(r, "SubscribeToShard");
    } else if (rc != CURLE_OK && rc != CURLE_WRITE_ERROR && rc != CURLE_ABORTED_BY_CALLBACK) {
      result = MakeError(absl::StatusCode::kUnavailable, ErrorType::kInternalFailure,
                         fmt::format("SubscribeToShard at {}: {} ({})", request_.url, curl_easy_strerror(rc),
                                     error[0] != '\0' ? error : "no detail"));
    }
    curl_slist_free_all(list);
    curl_easy_cleanup(curl_);
    curl_ = nullptr;
    Finish(std::move(result));
  }

  const SubscribeRequest request_;
  std::thread thread_;
  // Transfer thread only.
  CURL* curl_ = nullptr;
  long status_ = 0;
  std::string buffer_;      // undecoded bytes of the event stream
  std::string error_body_;  // the body of a non-200 answer

  util::Mutex mu_;
  util::CondVar cv_;
  std::deque<SubscribeToShardEvent> queue_ ABSL_GUARDED_BY(mu_);
  bool head_ ABSL_GUARDED_BY(mu_) = false;  // the initial response (or an event) arrived
  bool done_ ABSL_GUARDED_BY(mu_) = false;  // the transfer ended
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status error_ ABSL_GUARDED_BY(mu_);
  // Next()'s thread only.
  std::optional<std::string> last_continuation_;
  int64_t last_behind_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<stream::SubscriptionSource>> StartRemoteSubscription(
    SubscribeRequest request) {
  auto sub = std::make_unique<RemoteSubscription>(std::move(request));
  TRIBUTARY_RETURN_IF_ERROR(sub->Start());
  return std::unique_ptr<stream::SubscriptionSource>(std::move(sub));
}

absl::StatusOr<std::unique_ptr<stream::SubscriptionSource>> RemoteBackend::SubscribeToShard(
    std::string_view consumer_arn, std::string_view shard_id, const StartingPosition& position) {
  std::string body;
  util::JsonWriter w(&body);
  w.StartObject();
  w.Key("ConsumerARN");
  w.String(consumer_arn);
  w.Key("ShardId");
  w.String(shard_id);
  w.Key("StartingPosition");
  w.StartObject();
  w.Key("Type");
  w.String(ToString(position.type));
  if (position.sequence_number) {
    w.Key("SequenceNumber");
    w.String(*position.sequence_number);
  }
  if (position.timestamp) {
    w.Key("Timestamp");
    w.Timestamp(*position.timestamp);
  }
  w.EndObject();
  w.EndObject();
  TRIBUTARY_ASSIGN_OR_RETURN(AwsCredentials creds, options_.credentials->GetCredentials());
  KinesisRequest req{client_->http().host(), client_->http().path(), "SubscribeToShard", body};
  TRIBUTARY_ASSIGN_OR_RETURN(std::vector<std::string> headers,
                             SignedKinesisHeaders(req, creds, options_.region, absl::Now()));
  SubscribeRequest s;
  s.url = options_.endpoint_url;
  s.headers = std::move(headers);
  s.headers.push_back("Host: " + client_->http().host());
  s.body = std::move(body);
  s.verify_tls = options_.verify_tls;
  s.ca_file = options_.ca_file;
  s.connect_timeout = options_.connect_timeout;
  s.response_timeout = options_.request_timeout;
  return StartRemoteSubscription(std::move(s));
}

}  // namespace tributary::remote
