// endpoint_load: a small closed-loop load generator for Kinesis-compatible
// HTTP endpoints (tributary-server, kinesalite, kinesis-mock), driven by
// bench/endpoint/run. Blocking sockets, one keep-alive connection per thread,
// request bodies built before the clock starts, responses checked (HTTP 200,
// FailedRecordCount 0) with a couple of memmem calls, so the client costs far
// less CPU than any server it drives. It prints one JSON object on stdout.
//
//   endpoint_load put   --port P --stream S [--record-bytes 100] [--batch 500]
//                       [--connections 4] [--warmup 1] [--duration 8]
//                       [--max-records N] [--max-seconds T]
//       PutRecords in a loop. With --max-records it fills (no warm-up) until N
//       records are acknowledged or T seconds pass, else it measures
//       --duration seconds after --warmup seconds.
//   endpoint_load put1  --port P --stream S [--record-bytes 100] [--warmup-requests 200]
//                       [--duration 8] [--max-requests 20000]
//       Sequential single PutRecord on one connection: latency percentiles.
//   endpoint_load call  --port P --target T --bodies FILE [--warmup-requests 200]
//                       [--duration 8] [--max-requests 20000]
//       Sequential requests of any action (X-Amz-Target T, e.g.
//       KinesisAnalytics_20180523.DescribeApplication) on one connection, the
//       bodies taken in turn from FILE (one JSON document per line): latency
//       percentiles of the answers (each must be HTTP 200).
//   endpoint_load drain --port P --stream S [--shards 1] [--limit 10000]
//                       [--expect N] [--max-seconds 60] [--repeat 1]
//       GetShardIterator TRIM_HORIZON, then GetRecords until N records are
//       read (or the shards stop returning records): records/s, the median
//       of --repeat complete drains (all within --max-seconds).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "endpoint_load: %s\n", message.c_str());
  std::exit(1);
}

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (size_t rest = in.size() - i; rest > 0) {
    uint32_t v = uint8_t(in[i]) << 16;
    if (rest == 2) v |= uint8_t(in[i + 1]) << 8;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// ---- options -------------------------------------------------------------

struct Options {
  std::map<std::string, std::string> values;
  std::string Get(const std::string& k, const std::string& def) const {
    auto it = values.find(k);
    return it == values.end() ? def : it->second;
  }
  int64_t Int(const std::string& k, int64_t def) const {
    auto it = values.find(k);
    return it == values.end() ? def : std::stoll(it->second);
  }
  double Double(const std::string& k, double def) const {
    auto it = values.find(k);
    return it == values.end() ? def : std::stod(it->second);
  }
};

// ---- HTTP/1.1 keep-alive connection ---------------------------------------

struct HttpResponse {
  int status = 0;
  std::string_view body;
};

class Connection {
 public:
  Connection(std::string host, int port) : host_(std::move(host)), port_(port) { Connect(); }
  ~Connection() {
    if (fd_ >= 0) close(fd_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends `head` + `body`, reads one response. The view stays valid until the
  // next call. Reconnects once if the server closed the keep-alive connection.
  HttpResponse RoundTrip(std::string_view head, std::string_view body) {
    for (int attempt = 0;; ++attempt) {
      if (fd_ < 0) Connect();
      if (SendAll(head, body) && ReadResponse()) return last_;
      close(fd_);
      fd_ = -1;
      if (attempt >= 1) Die("connection to server failed (" + std::string(strerror(errno)) + ")");
    }
  }

 private:
  void Connect() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) Die("socket");
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    if (inet_pton(AF_INET, host_.c_str(), &addr.sin_addr) != 1) Die("bad host " + host_);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      Die("connect " + host_ + ":" + std::to_string(port_) + ": " + strerror(errno));
    }
  }

  bool SendAll(std::string_view head, std::string_view body) {
    iovec iov[2] = {{const_cast<char*>(head.data()), head.size()},
                    {const_cast<char*>(body.data()), body.size()}};
    int n_iov = 2;
    iovec* p = iov;
    while (n_iov > 0) {
      ssize_t n = writev(fd_, p, n_iov);
      if (n < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      size_t left = static_cast<size_t>(n);
      while (n_iov > 0 && left >= p->iov_len) {
        left -= p->iov_len;
        ++p;
        --n_iov;
      }
      if (n_iov > 0) {
        p->iov_base = static_cast<char*>(p->iov_base) + left;
        p->iov_len -= left;
      }
    }
    return true;
  }

  // Reads more bytes into buf_ (grows it). False on EOF/error.
  bool Fill() {
    if (buf_.size() - end_ < 65536) buf_.resize(std::max<size_t>(buf_.size() * 2, 262144));
    for (;;) {
      ssize_t n = recv(fd_, buf_.data() + end_, buf_.size() - end_, 0);
      if (n > 0) {
        end_ += static_cast<size_t>(n);
        return true;
      }
      if (n < 0 && errno == EINTR) continue;
      return false;
    }
  }

  static bool HeaderHas(std::string_view headers, std::string_view name, std::string_view value) {
    // Case-insensitive search for "\r\nname:" followed by a value containing `value`.
    for (size_t pos = 0; (pos = headers.find("\r\n", pos)) != std::string_view::npos; pos += 2) {
      std::string_view line = headers.substr(pos + 2);
      line = line.substr(0, line.find("\r\n"));
      if (line.size() > name.size() && line[name.size()] == ':' &&
          strncasecmp(line.data(), name.data(), name.size()) == 0) {
        std::string v(line.substr(name.size() + 1));
        std::transform(v.begin(), v.end(), v.begin(), ::tolower);
        return v.find(value) != std::string::npos;
      }
    }
    return false;
  }

  static int64_t HeaderInt(std::string_view headers, std::string_view name) {
    for (size_t pos = 0; (pos = headers.find("\r\n", pos)) != std::string_view::npos; pos += 2) {
      std::string_view line = headers.substr(pos + 2);
      if (line.size() > name.size() && line[name.size()] == ':' &&
          strncasecmp(line.data(), name.data(), name.size()) == 0) {
        return std::strtoll(line.data() + name.size() + 1, nullptr, 10);
      }
    }
    return -1;
  }

  bool ReadResponse() {
    // Drop the previous response; keep any pipelined leftovers (none expected).
    if (consumed_ > 0) {
      std::memmove(buf_.data(), buf_.data() + consumed_, end_ - consumed_);
      end_ -= consumed_;
      consumed_ = 0;
    }
    size_t header_end;
    for (;;) {
      std::string_view have(buf_.data(), end_);
      header_end = have.find("\r\n\r\n");
      if (header_end != std::string_view::npos) break;
      if (!Fill()) return false;
    }
    std::string_view headers(buf_.data(), header_end);
    if (headers.size() < 12 || headers.substr(0, 5) != "HTTP/") return false;
    last_.status = std::atoi(headers.data() + 9);
    const bool close_after = HeaderHas(headers, "connection", "close");
    const size_t body_start = header_end + 4;
    if (HeaderHas(headers, "transfer-encoding", "chunked")) {
      // De-chunk in place into body_.
      body_.clear();
      size_t pos = body_start;
      for (;;) {
        size_t eol;
        while ((eol = std::string_view(buf_.data(), end_).find("\r\n", pos)) == std::string_view::npos) {
          if (!Fill()) return false;
        }
        size_t chunk = std::strtoull(buf_.data() + pos, nullptr, 16);
        pos = eol + 2;
        while (end_ < pos + chunk + 2) {
          if (!Fill()) return false;
        }
        body_.append(buf_.data() + pos, chunk);
        pos += chunk + 2;
        if (chunk == 0) break;  // (trailers are not expected)
      }
      consumed_ = pos;
      last_.body = body_;
    } else {
      int64_t len = HeaderInt(headers, "content-length");
      if (len < 0) len = 0;
      while (end_ < body_start + static_cast<size_t>(len)) {
        if (!Fill()) return false;
      }
      consumed_ = body_start + static_cast<size_t>(len);
      last_.body = std::string_view(buf_.data() + body_start, static_cast<size_t>(len));
    }
    if (close_after) {
      // Hand back this response; the next call reconnects.
      body_.assign(last_.body);
      last_.body = body_;
      close(fd_);
      fd_ = -1;
      end_ = consumed_ = 0;
    }
    return true;
  }

  std::string host_;
  int port_;
  int fd_ = -1;
  std::vector<char> buf_;
  size_t end_ = 0, consumed_ = 0;
  std::string body_;
  HttpResponse last_;
};

std::string AmzDate() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

// The request head for one action; neither peer checks the signature, both
// want the Authorization header to look like SigV4.
std::string Head(const std::string& host, int port, std::string_view action, size_t body_len) {
  static const std::string date = AmzDate();
  std::string h;
  h.reserve(512);
  h += "POST / HTTP/1.1\r\nHost: ";
  h += host + ":" + std::to_string(port);
  h += "\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: Kinesis_20131202.";
  h += action;
  h += "\r\nX-Amz-Date: " + date;
  h += "\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIDBENCHMARK/" + date.substr(0, 8) +
       "/us-east-1/kinesis/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
       "Signature=0000000000000000000000000000000000000000000000000000000000000000";
  h += "\r\nContent-Length: " + std::to_string(body_len) + "\r\n\r\n";
  return h;
}

struct Request {
  std::string head, body;
};

std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(rng());
  return s;
}

std::string RandomKey(std::mt19937_64& rng) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "pk-%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

Request PutRecordsRequest(const Options& o, std::mt19937_64& rng, size_t records, size_t bytes) {
  std::string body = "{\"StreamName\":\"" + o.Get("stream", "bench") + "\",\"Records\":[";
  for (size_t i = 0; i < records; ++i) {
    if (i > 0) body += ',';
    body += "{\"Data\":\"" + Base64(RandomBytes(rng, bytes)) + "\",\"PartitionKey\":\"" + RandomKey(rng) +
            "\"}";
  }
  body += "]}";
  return {Head(o.Get("host", "127.0.0.1"), static_cast<int>(o.Int("port", 4567)), "PutRecords", body.size()),
          std::move(body)};
}

Request PutRecordRequest(const Options& o, std::mt19937_64& rng, size_t bytes) {
  std::string body = "{\"StreamName\":\"" + o.Get("stream", "bench") + "\",\"Data\":\"" +
                     Base64(RandomBytes(rng, bytes)) + "\",\"PartitionKey\":\"" + RandomKey(rng) + "\"}";
  return {Head(o.Get("host", "127.0.0.1"), static_cast<int>(o.Int("port", 4567)), "PutRecord", body.size()),
          std::move(body)};
}

// The integer after "key": in a JSON body, or -1.
int64_t JsonInt(std::string_view body, std::string_view key) {
  size_t p = body.find(key);
  if (p == std::string_view::npos) return -1;
  p += key.size();
  while (p < body.size() && (body[p] == '"' || body[p] == ':' || body[p] == ' ')) ++p;
  return std::strtoll(body.data() + p, nullptr, 10);
}

std::string JsonString(std::string_view body, std::string_view key) {
  size_t p = body.find(key);
  if (p == std::string_view::npos) return {};
  p += key.size();
  while (p < body.size() && (body[p] == ':' || body[p] == ' ')) ++p;
  if (p >= body.size() || body[p] != '"') return {};  // null or absent: end of the shard
  size_t q = body.find('"', p + 1);
  if (q == std::string_view::npos) return {};
  return std::string(body.substr(p + 1, q - p - 1));
}

size_t Count(std::string_view body, std::string_view needle) {
  size_t n = 0;
  for (const char* p = body.data(); (p = static_cast<const char*>(
                                         memmem(p, body.data() + body.size() - p, needle.data(), needle.size())));
       p += needle.size()) {
    ++n;
  }
  return n;
}

void CheckOk(const HttpResponse& r, std::string_view what) {
  if (r.status != 200) {
    Die(std::string(what) + ": HTTP " + std::to_string(r.status) + ": " +
        std::string(r.body.substr(0, 400)));
  }
}

struct Percentiles {
  double p50, p90, p99, p999, max, mean;
};

Percentiles Summarize(std::vector<double>& v) {
  Percentiles p{};
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))]; };
  double sum = 0;
  for (double x : v) sum += x;
  p = {at(0.5), at(0.9), at(0.99), at(0.999), v.back(), sum / v.size()};
  return p;
}

// ---- put ----------------------------------------------------------------

struct alignas(64) Counter {
  std::atomic<uint64_t> records{0}, requests{0}, failed{0};
};

int RunPut(const Options& o) {
  const size_t bytes = o.Int("record-bytes", 100);
  const size_t batch = o.Int("batch", 500);
  const int conns = static_cast<int>(o.Int("connections", 4));
  const int64_t max_records = o.Int("max-records", 0);
  const bool fill = max_records > 0;
  const double warmup = fill ? 0 : o.Double("warmup", 1);
  const double duration = o.Double("duration", 8);
  const double max_seconds = o.Double("max-seconds", 60);
  const int variants = static_cast<int>(o.Int("variants", 8));

  std::vector<std::vector<Request>> reqs(conns);
  for (int c = 0; c < conns; ++c) {
    std::mt19937_64 rng(0x5eed + c);
    for (int v = 0; v < variants; ++v) reqs[c].push_back(PutRecordsRequest(o, rng, batch, bytes));
  }
  std::vector<Counter> counters(conns);
  std::vector<std::vector<double>> lat(conns);
  std::atomic<bool> stop{false};
  std::atomic<int64_t> budget{fill ? max_records : INT64_MAX};
  std::atomic<bool> measuring{false};

  const double cpu_at_start = CpuSeconds();
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < conns; ++c) {
    threads.emplace_back([&, c] {
      Connection conn(o.Get("host", "127.0.0.1"), static_cast<int>(o.Int("port", 4567)));
      lat[c].reserve(1 << 16);
      for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        if (budget.fetch_sub(static_cast<int64_t>(batch), std::memory_order_relaxed) <= 0) break;
        const Request& r = reqs[c][i % reqs[c].size()];
        auto t0 = Clock::now();
        HttpResponse resp = conn.RoundTrip(r.head, r.body);
        auto t1 = Clock::now();
        CheckOk(resp, "PutRecords");
        int64_t failed = JsonInt(resp.body, "\"FailedRecordCount\"");
        if (failed < 0) Die("PutRecords: no FailedRecordCount in " + std::string(resp.body.substr(0, 200)));
        counters[c].records.fetch_add(batch - failed, std::memory_order_relaxed);
        counters[c].failed.fetch_add(failed, std::memory_order_relaxed);
        counters[c].requests.fetch_add(1, std::memory_order_relaxed);
        if (measuring.load(std::memory_order_relaxed) && lat[c].size() < 1000000) {
          lat[c].push_back(Seconds(t1 - t0) * 1e3);
        }
      }
    });
  }
  auto sum = [&](auto field) {
    uint64_t s = 0;
    for (auto& c : counters) s += (c.*field).load(std::memory_order_relaxed);
    return s;
  };
  std::this_thread::sleep_for(std::chrono::duration<double>(warmup));
  // A fill counts from its first request; a measurement from the end of the warm-up.
  uint64_t r0 = 0, q0 = 0, f0 = 0;
  double cpu0 = fill ? cpu_at_start : CpuSeconds();
  auto t0 = fill ? start : Clock::now();
  if (!fill) r0 = sum(&Counter::records), q0 = sum(&Counter::requests), f0 = sum(&Counter::failed);
  measuring = true;
  if (fill) {
    while (sum(&Counter::records) + sum(&Counter::failed) < static_cast<uint64_t>(max_records) &&
           Seconds(Clock::now() - t0) < max_seconds) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      if (budget.load() <= 0) break;  // every batch claimed: the threads finish theirs
    }
    if (Seconds(Clock::now() - t0) >= max_seconds) stop = true;
    for (auto& t : threads) t.join();
  } else {
    std::this_thread::sleep_for(std::chrono::duration<double>(duration));
  }
  auto t1 = Clock::now();
  uint64_t r1 = sum(&Counter::records), q1 = sum(&Counter::requests), f1 = sum(&Counter::failed);
  double cpu1 = CpuSeconds();
  measuring = false;
  stop = true;
  for (auto& t : threads) {
    if (t.joinable()) t.join();
  }
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  Percentiles p = Summarize(all);
  const double secs = Seconds(t1 - t0);
  std::printf(
      "{\"mode\":\"put\",\"record_bytes\":%zu,\"batch\":%zu,\"connections\":%d,\"seconds\":%.3f,"
      "\"records\":%llu,\"requests\":%llu,\"failed_records\":%llu,\"records_per_s\":%.1f,"
      "\"mib_per_s\":%.2f,\"request_ms_p50\":%.3f,\"request_ms_p99\":%.3f,\"client_cpu_s\":%.3f,"
      "\"total_seconds\":%.3f}\n",
      bytes, batch, conns, secs, static_cast<unsigned long long>(r1 - r0),
      static_cast<unsigned long long>(q1 - q0), static_cast<unsigned long long>(f1 - f0),
      (r1 - r0) / secs, (r1 - r0) * bytes / secs / 1048576.0, p.p50, p.p99, cpu1 - cpu0,
      Seconds(t1 - start));
  return 0;
}

// ---- put1 ---------------------------------------------------------------

int RunPut1(const Options& o) {
  const size_t bytes = o.Int("record-bytes", 100);
  const int64_t warm = o.Int("warmup-requests", 200);
  const double duration = o.Double("duration", 8);
  const int64_t max_requests = o.Int("max-requests", 20000);
  std::mt19937_64 rng(0x1a7e);
  std::vector<Request> reqs;
  for (int v = 0; v < 256; ++v) reqs.push_back(PutRecordRequest(o, rng, bytes));
  Connection conn(o.Get("host", "127.0.0.1"), static_cast<int>(o.Int("port", 4567)));
  for (int64_t i = 0; i < warm; ++i) {
    const Request& r = reqs[i % reqs.size()];
    CheckOk(conn.RoundTrip(r.head, r.body), "PutRecord");
  }
  std::vector<double> lat;
  lat.reserve(max_requests);
  double cpu0 = CpuSeconds();
  auto start = Clock::now();
  for (int64_t i = 0; i < max_requests && Seconds(Clock::now() - start) < duration; ++i) {
    const Request& r = reqs[i % reqs.size()];
    auto t0 = Clock::now();
    HttpResponse resp = conn.RoundTrip(r.head, r.body);
    auto t1 = Clock::now();
    CheckOk(resp, "PutRecord");
    lat.push_back(Seconds(t1 - t0) * 1e3);
  }
  const double secs = Seconds(Clock::now() - start);
  double cpu1 = CpuSeconds();
  const size_t n = lat.size();
  Percentiles p = Summarize(lat);
  std::printf(
      "{\"mode\":\"put1\",\"record_bytes\":%zu,\"requests\":%zu,\"seconds\":%.3f,\"requests_per_s\":%.1f,"
      "\"ms_p50\":%.4f,\"ms_p90\":%.4f,\"ms_p99\":%.4f,\"ms_p999\":%.4f,\"ms_max\":%.4f,\"ms_mean\":%.4f,"
      "\"client_cpu_s\":%.3f}\n",
      bytes, n, secs, n / secs, p.p50, p.p90, p.p99, p.p999, p.max, p.mean, cpu1 - cpu0);
  return 0;
}

// ---- call ---------------------------------------------------------------

int RunCall(const Options& o) {
  const std::string host = o.Get("host", "127.0.0.1");
  const int port = static_cast<int>(o.Int("port", 4567));
  const std::string target = o.Get("target", "");
  const int64_t warm = o.Int("warmup-requests", 200);
  const double duration = o.Double("duration", 8);
  const int64_t max_requests = o.Int("max-requests", 20000);
  if (target.empty()) Die("call needs --target");
  std::vector<std::string> bodies;
  {
    FILE* f = std::fopen(o.Get("bodies", "").c_str(), "r");
    if (f == nullptr) Die("call needs --bodies FILE (one JSON body per line)");
    char line[65536];
    while (std::fgets(line, sizeof line, f) != nullptr) {
      std::string b(line);
      while (!b.empty() && (b.back() == '\n' || b.back() == '\r')) b.pop_back();
      if (!b.empty()) bodies.push_back(b);
    }
    std::fclose(f);
  }
  if (bodies.empty()) Die("call: no bodies");
  std::vector<Request> reqs;
  const size_t dot = target.find('.');
  for (const std::string& b : bodies) {
    std::string head = Head(host, port, target.substr(dot + 1), b.size());
    // Head() writes the Kinesis target prefix; this mode takes any service's.
    const std::string kinesis = "X-Amz-Target: Kinesis_20131202." + target.substr(dot + 1);
    head.replace(head.find(kinesis), kinesis.size(), "X-Amz-Target: " + target);
    reqs.push_back({std::move(head), b});
  }
  Connection conn(host, port);
  for (int64_t i = 0; i < warm; ++i) {
    const Request& r = reqs[i % reqs.size()];
    CheckOk(conn.RoundTrip(r.head, r.body), target);
  }
  std::vector<double> lat;
  lat.reserve(max_requests);
  double cpu0 = CpuSeconds();
  auto start = Clock::now();
  for (int64_t i = 0; i < max_requests && Seconds(Clock::now() - start) < duration; ++i) {
    const Request& r = reqs[i % reqs.size()];
    auto t0 = Clock::now();
    HttpResponse resp = conn.RoundTrip(r.head, r.body);
    auto t1 = Clock::now();
    CheckOk(resp, target);
    lat.push_back(Seconds(t1 - t0) * 1e3);
  }
  const double secs = Seconds(Clock::now() - start);
  double cpu1 = CpuSeconds();
  const size_t n = lat.size();
  Percentiles p = Summarize(lat);
  std::printf(
      "{\"mode\":\"call\",\"target\":\"%s\",\"requests\":%zu,\"seconds\":%.3f,\"requests_per_s\":%.1f,"
      "\"ms_p50\":%.4f,\"ms_p90\":%.4f,\"ms_p99\":%.4f,\"ms_p999\":%.4f,\"ms_max\":%.4f,\"ms_mean\":%.4f,"
      "\"client_cpu_s\":%.3f}\n",
      target.c_str(), n, secs, n / secs, p.p50, p.p90, p.p99, p.p999, p.max, p.mean, cpu1 - cpu0);
  return 0;
}

// ---- drain --------------------------------------------------------------

int RunDrain(const Options& o) {
  const std::string host = o.Get("host", "127.0.0.1");
  const int port = static_cast<int>(o.Int("port", 4567));
  const std::string stream = o.Get("stream", "bench");
  const int shards = static_cast<int>(o.Int("shards", 1));
  const int64_t limit = o.Int("limit", 10000);
  const int64_t expect = o.Int("expect", 0);
  const double max_seconds = o.Double("max-seconds", 60);
  const int repeat = static_cast<int>(o.Int("repeat", 1));
  Connection conn(host, port);
  std::vector<double> rates;
  uint64_t records = 0, requests = 0, body_bytes = 0;
  double secs = 0, cpu = 0;
  bool timed_out = false;
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(max_seconds));
  for (int rep = 0; rep < repeat && !timed_out; ++rep) {
  records = requests = body_bytes = 0;
  double cpu0 = CpuSeconds();
  auto start = Clock::now();
  for (int s = 0; s < shards && !timed_out; ++s) {
    char shard_id[32];
    std::snprintf(shard_id, sizeof shard_id, "shardId-%012d", s);
    std::string body = "{\"StreamName\":\"" + stream + "\",\"ShardId\":\"" + shard_id +
                       "\",\"ShardIteratorType\":\"TRIM_HORIZON\"}";
    HttpResponse r = conn.RoundTrip(Head(host, port, "GetShardIterator", body.size()), body);
    CheckOk(r, "GetShardIterator");
    std::string it = JsonString(r.body, "\"ShardIterator\"");
    if (it.empty()) Die("GetShardIterator: no ShardIterator in " + std::string(r.body.substr(0, 200)));
    int empty_in_a_row = 0;
    while (!it.empty()) {
      if (Clock::now() > deadline) {
        timed_out = true;
        break;
      }
      body = "{\"ShardIterator\":\"" + it + "\",\"Limit\":" + std::to_string(limit) + "}";
      r = conn.RoundTrip(Head(host, port, "GetRecords", body.size()), body);
      CheckOk(r, "GetRecords");
      ++requests;
      body_bytes += r.body.size();
      size_t n = Count(r.body, "\"SequenceNumber\"");
      records += n;
      it = JsonString(r.body, "\"NextShardIterator\"");
      if (expect > 0 && records >= static_cast<uint64_t>(expect)) break;
      if (n == 0 && ++empty_in_a_row >= 3) break;  // at the tip of this shard
      if (n > 0) empty_in_a_row = 0;
    }
    if (expect > 0 && records >= static_cast<uint64_t>(expect)) break;
  }
  secs = Seconds(Clock::now() - start);
  cpu = CpuSeconds() - cpu0;
  if (!timed_out) rates.push_back(records / secs);
  }
  // The median of the complete drains (the last one if none completed).
  std::sort(rates.begin(), rates.end());
  const double rate = rates.empty() ? records / secs : rates[rates.size() / 2];
  std::string all;
  for (double r : rates) all += (all.empty() ? "" : ",") + std::to_string(static_cast<int64_t>(r));
  std::printf(
      "{\"mode\":\"drain\",\"records\":%llu,\"requests\":%llu,\"seconds\":%.3f,\"records_per_s\":%.1f,"
      "\"drains\":[%s],\"response_mib\":%.2f,\"timed_out\":%s,\"client_cpu_s\":%.3f}\n",
      static_cast<unsigned long long>(records), static_cast<unsigned long long>(requests), secs, rate,
      all.c_str(), body_bytes / 1048576.0, timed_out ? "true" : "false", cpu);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: endpoint_load put|put1|call|drain --port P --stream S [--key value ...]\n");
    return 2;
  }
  std::string mode = argv[1];
  Options o;
  for (int i = 2; i < argc; ++i) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0 || i + 1 >= argc) Die("bad argument " + k);
    o.values[k.substr(2)] = argv[++i];
  }
  if (mode == "put") return RunPut(o);
  if (mode == "put1") return RunPut1(o);
  if (mode == "call") return RunCall(o);
  if (mode == "drain") return RunDrain(o);
  Die("unknown mode " + mode);
}
