// The subcommands of `tributary` (docs/CLI.md). main.cc parses the command
// line into a CommandLine and calls one of these; each returns the process's
// exit code:
//   0  success (verify: no errors found)
//   1  failure: the store could not be read, a stream or shard is unknown,
//      a read hit corruption, or verify found errors
//   2  usage error (main.cc only)
// Results go to stdout, diagnostics to stderr.
#ifndef TRIBUTARY_TOOLS_TRIBUTARY_COMMANDS_H_
#define TRIBUTARY_TOOLS_TRIBUTARY_COMMANDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tributary::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

int Streams(const std::string& dir);
int Describe(const std::string& dir, const std::string& stream);

// kDot: Graphviz source; kSvg: rendered by Graphviz' dot (graphviz package).
enum class ShardsFormat { kTree, kDot, kSvg };
int Shards(const std::string& dir, const std::string& stream, ShardsFormat format);

struct DumpOptions {
  std::optional<std::string> from;  // decimal sequence number: start AT it
  std::optional<int64_t> limit;     // at most this many records
  bool hex = false;                 // data as hex, always
};
int Dump(const std::string& dir, const std::string& stream, const std::string& shard,
         const DumpOptions& options);

int Verify(const std::string& dir);
int Stats(const std::string& dir);

// How `data` is printed by dump: as is if it is printable UTF-8 text (no
// control characters) that does not start with "base64:" or "hex:",
// otherwise "base64:<standard base64>". With `hex`, always "hex:<lowercase hex>".
std::string SafeText(std::string_view data, bool hex);

}  // namespace tributary::cli

#endif  // TRIBUTARY_TOOLS_TRIBUTARY_COMMANDS_H_
