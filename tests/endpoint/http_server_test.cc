// HttpServer in-process: start on a free port, serve over keep-alive, shut
// down gracefully with an idle client connected. Edge cases with real
// sockets (timeouts, body cap, pipelining, 100-continue, SIGTERM) are in
// protocol_test.py against the tributary-server binary.
#include "endpoint/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "tributary/tributary.h"

namespace tributary::endpoint {
namespace {

int Connect(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  timeval tv{10, 0};  // never hang the test
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

void SendAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    REQUIRE(n > 0);
    off += static_cast<size_t>(n);
  }
}

// Reads until `marker` has been seen `count` times, EOF, or the timeout.
std::string ReadUntil(int fd, std::string_view marker, int count) {
  std::string got;
  char buf[4096];
  auto seen = [&] {
    int c = 0;
    for (size_t p = got.find(marker); p != std::string::npos; p = got.find(marker, p + 1)) ++c;
    return c;
  };
  while (seen() < count) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

std::string Request(std::string_view action, std::string_view body) {
  return "POST / HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-amz-json-1.1\r\n"
         "X-Amz-Target: Kinesis_20131202." +
         std::string(action) + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         std::string(body);
}

TEST_CASE("HttpServer serves many requests on one connection and shuts down with an idle one",
          "[endpoint][http]") {
  auto store = *Store::OpenInMemory();
  Endpoint endpoint(store.get());
  ServerOptions options;
  options.port = 0;
  options.threads = 2;
  auto server = HttpServer::Start(&endpoint, options);
  REQUIRE(server.ok());
  HttpServer& s = **server;
  CHECK(s.port() != 0);
  CHECK(s.url() == "http://127.0.0.1:" + std::to_string(s.port()));

  int fd = Connect(s.port());
  SendAll(fd, Request("CreateStream", R"({"StreamName":"h","ShardCount":1})"));
  CHECK(ReadUntil(fd, "HTTP/1.1 200 OK", 1).find("HTTP/1.1 200 OK") == 0);
  std::string many;
  for (int i = 0; i < 50; ++i) many += Request("PutRecord", R"({"StreamName":"h","PartitionKey":"k","Data":"eA=="})");
  SendAll(fd, many);  // pipelined
  std::string replies = ReadUntil(fd, "SequenceNumber", 50);
  size_t ok = 0;
  for (size_t p = replies.find("HTTP/1.1 200 OK"); p != std::string::npos; p = replies.find("HTTP/1.1 200 OK", p + 1)) ++ok;
  CHECK(ok == 50);

  int idle = Connect(s.port());  // served once, then idle (kept alive)
  SendAll(idle, Request("DescribeLimits", "{}"));
  CHECK(ReadUntil(idle, "ShardLimit", 1).find("HTTP/1.1 200 OK") == 0);
  auto t0 = std::chrono::steady_clock::now();
  s.Shutdown();
  s.Wait();
  auto waited = std::chrono::steady_clock::now() - t0;
  CHECK(waited < std::chrono::seconds(5));  // idle connections do not hold the shutdown
  char c;
  CHECK(::recv(idle, &c, 1, 0) == 0);  // closed by the server
  CHECK(::recv(fd, &c, 1, 0) == 0);
  ::close(idle);
  ::close(fd);
}

TEST_CASE("HttpServer::Start reports an address it cannot bind", "[endpoint][http]") {
  auto store = *Store::OpenInMemory();
  Endpoint endpoint(store.get());
  ServerOptions options;
  options.port = 0;
  auto first = HttpServer::Start(&endpoint, options);
  REQUIRE(first.ok());
  options.port = (*first)->port();
  auto second = HttpServer::Start(&endpoint, options);
  CHECK_FALSE(second.ok());
  options.host = "192.0.2.1";  // TEST-NET-1: not an address of this machine
  options.port = 0;
  CHECK_FALSE(HttpServer::Start(&endpoint, options).ok());
}

}  // namespace
}  // namespace tributary::endpoint
