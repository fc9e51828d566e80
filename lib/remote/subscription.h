// SubscribeToShard over a remote store: the request goes to the endpoint
// over HTTP/2 (libcurl with nghttp2: prior knowledge for http://, ALPN h2
// for https://), and its answer, an AWS event stream (initial-response,
// SubscribeToShardEvent..., or an exception), is decoded as it arrives.
// docs/REMOTE.md "SubscribeToShard" describes the behaviour.
//
// One thread per subscription runs the transfer. Decoded events wait in a
// queue of at most kMaxQueuedEvents; when it is full the transfer thread
// stops reading, so HTTP/2 flow control pauses the server instead of the
// queue growing. Next() takes events from the queue; with none for
// max_wait it returns a heartbeat (no records, the last continuation), as
// the local store does. The subscription ends when the server ends the
// stream (its 5-minute lifetime, the end of a closed shard), on Cancel(),
// or on an error, which Next() returns once the queued events are taken.
//
// Thread safety: as ShardSubscription: Next() from one thread at a time,
// Cancel() from any thread.
#ifndef TRIBUTARY_LIB_REMOTE_SUBSCRIPTION_H_
#define TRIBUTARY_LIB_REMOTE_SUBSCRIPTION_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "stream/backend.h"

namespace tributary::remote {

inline constexpr size_t kMaxQueuedEvents = 4;

struct SubscribeRequest {
  std::string url;                   // the endpoint (http:// or https://)
  std::vector<std::string> headers;  // "Name: value", signed, Host included
  std::string body;                  // the SubscribeToShard JSON request
  bool verify_tls = true;
  std::string ca_file;  // "": the system's CAs
  absl::Duration connect_timeout = absl::Seconds(5);
  // How long to wait for the answer's head (200 and the initial response,
  // or an error).
  absl::Duration response_timeout = absl::Seconds(30);
};

// Sends the request and waits for its answer's head: an error answer
// (ResourceInUseException, ResourceNotFoundException, ...) or a transport
// failure fails here, as the local store's SubscribeToShard fails.
absl::StatusOr<std::unique_ptr<stream::SubscriptionSource>> StartRemoteSubscription(
    SubscribeRequest request);

}  // namespace tributary::remote

#endif  // TRIBUTARY_LIB_REMOTE_SUBSCRIPTION_H_
