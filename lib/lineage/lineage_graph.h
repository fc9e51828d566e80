// Pictures of a stream's shard lineage: Graphviz DOT text, and SVG rendered
// from it by Graphviz' `dot` program (Debian package graphviz). Used by the
// CLI (`tributary shards STREAM --dot | --svg`) and the status page of
// tributary-server (GET /ui). Input comes from the public API only
// (ListShards' ShardDescriptions).
#ifndef TRIBUTARY_LIB_LINEAGE_LINEAGE_GRAPH_H_
#define TRIBUTARY_LIB_LINEAGE_LINEAGE_GRAPH_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "tributary/store.h"
#include "tributary/types.h"

namespace tributary::lineage {

// "0.00%-50.00%": where the closed key range [start, end] sits in [0, 2^128).
std::string RangePercent(const HashKeyRange& range);

// A digraph with one box per shard (id, key range in percent, state, and
// notes[shard_id] as an extra line when present) and an edge from each
// listed parent to its child; the adjacent parent of a merge gets a dashed
// edge labelled "merge". OPEN shards are bold and green, the others dashed
// and grey. Parents that are not in `shards` (expired) get no edge.
std::string LineageDot(std::string_view stream, const std::vector<ShardDescription>& shards,
                       const std::map<std::string, std::string>& notes = {});

// Runs `dot -Tsvg` on `dot_source` and returns the SVG document.
// FailedPrecondition if the dot program cannot be run (Graphviz not
// installed: the message says so); Internal if it fails on the input.
// Thread safety: safe for concurrent use (one child process per call).
absl::StatusOr<std::string> RenderSvg(std::string_view dot_source);

}  // namespace tributary::lineage

#endif  // TRIBUTARY_LIB_LINEAGE_LINEAGE_GRAPH_H_
