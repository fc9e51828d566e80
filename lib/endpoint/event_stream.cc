#include "endpoint/event_stream.h"

#include <zlib.h>

namespace tributary::endpoint {
namespace {

constexpr uint8_t kStringType = 7;
constexpr size_t kPreludeBytes = 12;
constexpr size_t kCrcBytes = 4;

void PutU32(uint32_t v, std::string* out) {
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
  out->append(b, 4);
}

uint32_t GetU32(std::string_view in, size_t at) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(in[at])) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(in[at + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(in[at + 2])) << 8) |
         static_cast<uint32_t>(static_cast<uint8_t>(in[at + 3]));
}

uint32_t Crc32(std::string_view data) {
  return static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
}

}  // namespace

void AppendEventMessage(const EventHeaders& headers, std::string_view payload, std::string* out) {
  size_t headers_len = 0;
  for (const auto& [name, value] : headers) headers_len += 1 + name.size() + 1 + 2 + value.size();
  const size_t total = kPreludeBytes + headers_len + payload.size() + kCrcBytes;
  const size_t start = out->size();
  out->reserve(start + total);
  PutU32(static_cast<uint32_t>(total), out);
  PutU32(static_cast<uint32_t>(headers_len), out);
  PutU32(Crc32(std::string_view(*out).substr(start, 8)), out);
  for (const auto& [name, value] : headers) {
    out->push_back(static_cast<char>(name.size()));
    out->append(name);
    out->push_back(static_cast<char>(kStringType));
    out->push_back(static_cast<char>(value.size() >> 8));
    out->push_back(static_cast<char>(value.size() & 0xff));
    out->append(value);
  }
  out->append(payload);
  PutU32(Crc32(std::string_view(*out).substr(start)), out);
}

std::optional<DecodedEvent> DecodeEventMessage(std::string_view in) {
  if (in.size() < kPreludeBytes + kCrcBytes) return std::nullopt;
  const uint32_t total = GetU32(in, 0), headers_len = GetU32(in, 4);
  if (total > in.size() || total < kPreludeBytes + kCrcBytes + headers_len) return std::nullopt;
  if (GetU32(in, 8) != Crc32(in.substr(0, 8))) return std::nullopt;
  if (GetU32(in, total - 4) != Crc32(in.substr(0, total - 4))) return std::nullopt;
  DecodedEvent ev;
  ev.size = total;
  size_t p = kPreludeBytes;
  const size_t headers_end = kPreludeBytes + headers_len;
  while (p < headers_end) {
    const size_t name_len = static_cast<uint8_t>(in[p]);
    if (p + 1 + name_len + 3 > headers_end) return std::nullopt;
    std::string name(in.substr(p + 1, name_len));
    p += 1 + name_len;
    if (static_cast<uint8_t>(in[p]) != kStringType) return std::nullopt;
    const size_t value_len = (static_cast<size_t>(static_cast<uint8_t>(in[p + 1])) << 8) |
                             static_cast<uint8_t>(in[p + 2]);
    p += 3;
    if (p + value_len > headers_end) return std::nullopt;
    ev.headers.emplace_back(std::move(name), std::string(in.substr(p, value_len)));
    p += value_len;
  }
  ev.payload = std::string(in.substr(headers_end, total - 4 - headers_end));
  return ev;
}

}  // namespace tributary::endpoint
