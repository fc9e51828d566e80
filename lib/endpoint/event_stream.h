// The AWS event stream encoding (application/vnd.amazon.eventstream), the
// framing of SubscribeToShard's response. One message:
//
//   total length (4, big-endian) | headers length (4) | prelude CRC (4)
//   headers | payload | message CRC (4)
//
// The prelude CRC is the CRC-32 (zlib's crc32, the IEEE polynomial) of the
// first 8 bytes; the message CRC covers every byte before it. A header is
// name length (1) | name | value type (1) | value; only string values
// (type 7: length (2, big-endian) | UTF-8 bytes) are written here, which is
// all Kinesis uses (:message-type, :event-type, :exception-type,
// :content-type). docs/ENDPOINT.md "SubscribeToShard" shows the events.
#ifndef TRIBUTARY_LIB_ENDPOINT_EVENT_STREAM_H_
#define TRIBUTARY_LIB_ENDPOINT_EVENT_STREAM_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tributary::endpoint {

inline constexpr std::string_view kEventStreamContentType = "application/vnd.amazon.eventstream";

using EventHeaders = std::vector<std::pair<std::string_view, std::string_view>>;

// Appends one message to `out`. REQUIRES: header names < 256 bytes, values
// < 65536 bytes (Kinesis' are a few dozen).
void AppendEventMessage(const EventHeaders& headers, std::string_view payload, std::string* out);

// Decodes one message from the front of `in` (for tests): its headers and
// payload, and how many bytes it took; nullopt if `in` does not start with a
// complete message whose lengths and both CRCs check out.
struct DecodedEvent {
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload;
  size_t size = 0;
};
std::optional<DecodedEvent> DecodeEventMessage(std::string_view in);

}  // namespace tributary::endpoint

#endif  // TRIBUTARY_LIB_ENDPOINT_EVENT_STREAM_H_
