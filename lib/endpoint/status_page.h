// The read-only status page of tributary-server (GET /ui): the applications
// (flink_status_page.h) and every stream with
// its status and settings, a picture of its shard lineage (SVG, rendered
// server-side by Graphviz' dot), and a table of its shards (state, key
// range, parents, sequence range, record count, bytes, newest record), the
// lag of ordered consumers (from their checkpoints in LeaseTableFor(store))
// and the registered enhanced fan-out consumers.
//
//   GET /ui                        the page (HTML; reloads itself every 10 s)
//   GET /ui/lineage/<stream>.svg   one stream's lineage picture alone
//
// Everything comes from the public API (ListStreams, DescribeStreamSummary,
// ListShards, GetShardStatistics, ListStreamConsumers, and LeaseTable's
// ListScopes/ListLeases plus one GetRecords(limit 1) per unfinished lease
// for the lag); the page changes no stream, lease or checkpoint. Rendering runs dot once per stream (a few ms each); at most
// kMaxPictures streams get an inline picture, the others a link.
//
// Thread safety: safe for concurrent use (the Store is; no shared state).
#ifndef TRIBUTARY_LIB_ENDPOINT_STATUS_PAGE_H_
#define TRIBUTARY_LIB_ENDPOINT_STATUS_PAGE_H_

#include <string_view>

#include "endpoint/endpoint.h"
#include "tributary/store.h"

namespace tributary::endpoint {

inline constexpr std::string_view kStatusPagePath = "/ui";
inline constexpr int kMaxPictures = 20;

// True for the paths the status page serves: /ui, /ui/ and /ui/...,
// with or without a query string.
bool IsStatusPagePath(std::string_view target);

// Answers GET `target` (REQUIRES: IsStatusPagePath(target)). 200 with HTML or
// SVG; 404 (HTML) for an unknown /ui/ path or stream; 500 (HTML, with the
// error) if the Store fails. With `applications`, the overview lists them
// and /ui/applications/<name> is each one's page (flink_status_page.h).
Response RenderStatusPage(Store& store, std::string_view target);
Response RenderStatusPage(Store& store, ApplicationManager* applications, std::string_view target);
// The endpoint's store and applications.
Response RenderStatusPage(const Endpoint& endpoint, std::string_view target);

}  // namespace tributary::endpoint

#endif  // TRIBUTARY_LIB_ENDPOINT_STATUS_PAGE_H_
