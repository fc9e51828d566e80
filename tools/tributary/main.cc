// tributary: inspect a durable Tributary store directory (docs/CLI.md).
//
//   tributary streams  DIR
//   tributary describe DIR STREAM
//   tributary shards   DIR STREAM [--dot | --svg]
//   tributary dump     DIR STREAM SHARD [--from SEQ] [--limit N] [--hex]
//   tributary verify   DIR
//   tributary stats    DIR
//   tributary check-order [--endpoint URL | --server BINARY] [flags]   (check_order.cc)
//
// The tool never changes the store. It needs the store's lock, so it cannot
// look at a store another process has open. Exit codes: 0 ok, 1 failure
// (or problems found by verify), 2 usage error.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "check_order.h"
#include "commands.h"
#include "tributary/types.h"

namespace tributary::cli {
namespace {

constexpr std::string_view kUsage =
    "usage: tributary <command> [flags] DIR [args]\n"
    "\n"
    "Inspects a durable Tributary store (Store::Open) without changing it.\n"
    "\n"
    "commands:\n"
    "  streams  DIR                        list the streams\n"
    "  describe DIR STREAM                 a stream's settings, shard counts and tags\n"
    "  shards   DIR STREAM [--dot|--svg]   the shard lineage as a tree (--dot: Graphviz source,\n"
    "                                        --svg: a picture, drawn by Graphviz' dot)\n"
    "  dump     DIR STREAM SHARD           a shard's records, one per line:\n"
    "           [--from SEQ] [--limit N]     sequence number, arrival time, key, data\n"
    "           [--hex]                      (--hex: data in hex)\n"
    "  verify   DIR                        check every checksum and frame; exit 1 on errors\n"
    "  stats    DIR                        records, bytes and segments per shard\n"
    "  --version                           print the version\n"
    "  check-order [--endpoint URL] ...    benchmark the ordering guarantees of an endpoint and a\n"
    "                                        consumer (see 'tributary check-order --help')\n"
    "\n"
    "SHARD is a shard id (shardId-000000000001) or its number (1).\n"
    "Exit codes: 0 ok, 1 failure or corruption found, 2 usage error.\n"
    "The store must not be open in another process (the tool takes its lock).\n";

struct CommandSpec {
  std::string_view name;
  std::vector<std::string_view> args;   // positional, after DIR
  std::vector<std::string_view> flags;  // accepted flags
  std::vector<std::string_view> valued;  // those of `flags` that take a value
};

const std::vector<CommandSpec>& Specs() {
  static const std::vector<CommandSpec> specs = {
      {"streams", {}, {}, {}},
      {"describe", {"STREAM"}, {}, {}},
      {"shards", {"STREAM"}, {"--dot", "--svg"}, {}},
      {"dump", {"STREAM", "SHARD"}, {"--from", "--limit", "--hex"}, {"--from", "--limit"}},
      {"verify", {}, {}, {}},
      {"stats", {}, {}, {}},
  };
  return specs;
}

std::string SpecUsage(const CommandSpec& spec) {
  std::string u = fmt::format("usage: tributary {} DIR", spec.name);
  for (std::string_view a : spec.args) u += fmt::format(" {}", a);
  for (std::string_view f : spec.flags) {
    bool valued = std::find(spec.valued.begin(), spec.valued.end(), f) != spec.valued.end();
    u += valued ? fmt::format(" [{} {}]", f, f == "--from" ? "SEQ" : "N") : fmt::format(" [{}]", f);
  }
  return u;
}

int UsageError(std::string_view message, std::string_view usage) {
  fmt::print(stderr, "tributary: {}\n{}\n", message, usage);
  return kExitUsage;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

int Run(int argc, char** argv) {
  std::vector<std::string_view> argv_(argv + 1, argv + argc);
  if (argv_.empty()) {
    fmt::print(stderr, "{}", kUsage);
    return kExitUsage;
  }
  std::string_view command = argv_[0];
  if (command == "-h" || command == "--help" || command == "help") {
    fmt::print("{}", kUsage);
    return kExitOk;
  }
  if (command == "--version") {
    fmt::print("tributary {}\n", TRIBUTARY_VERSION);
    return kExitOk;
  }
  if (command == "check-order") {
    return CheckOrderCommand(std::vector<std::string_view>(argv_.begin() + 1, argv_.end()));
  }
  const CommandSpec* spec = nullptr;
  for (const CommandSpec& s : Specs()) {
    if (s.name == command) spec = &s;
  }
  if (spec == nullptr) {
    return UsageError(fmt::format("unknown command '{}'", command),
                      "run 'tributary --help' for the list of commands");
  }
  const std::string usage = SpecUsage(*spec);

  std::vector<std::string> positional;
  std::optional<std::string> from, limit;
  bool dot = false, svg = false, hex = false, flags_done = false;
  for (size_t i = 1; i < argv_.size(); ++i) {
    std::string_view a = argv_[i];
    if (flags_done || a.size() < 2 || a[0] != '-') {
      positional.emplace_back(a);
      continue;
    }
    if (a == "--") {
      flags_done = true;
      continue;
    }
    if (a == "-h" || a == "--help") {
      fmt::print("{}\n", usage);
      return kExitOk;
    }
    std::string_view name = a.substr(0, a.find('='));
    std::optional<std::string_view> value;
    if (name.size() < a.size()) value = a.substr(name.size() + 1);
    if (std::find(spec->flags.begin(), spec->flags.end(), name) == spec->flags.end()) {
      return UsageError(fmt::format("{}: unknown flag '{}'", command, name), usage);
    }
    const bool valued = std::find(spec->valued.begin(), spec->valued.end(), name) != spec->valued.end();
    if (valued && !value) {
      if (i + 1 >= argv_.size()) return UsageError(fmt::format("{}: {} needs a value", command, name), usage);
      value = argv_[++i];
    }
    if (!valued && value) {
      return UsageError(fmt::format("{}: {} takes no value", command, name), usage);
    }
    if (name == "--dot") dot = true;
    if (name == "--svg") svg = true;
    if (name == "--hex") hex = true;
    if (name == "--from") from = std::string(*value);
    if (name == "--limit") limit = std::string(*value);
  }
  if (positional.size() != 1 + spec->args.size()) {
    return UsageError(fmt::format("{}: expected {} argument{}, got {}", command, 1 + spec->args.size(),
                                  spec->args.empty() ? "" : "s", positional.size()),
                      usage);
  }
  const std::string& dir = positional[0];

  if (command == "streams") return Streams(dir);
  if (command == "describe") return Describe(dir, positional[1]);
  if (command == "shards") {
    if (dot && svg) return UsageError("shards: --dot and --svg exclude each other", usage);
    return Shards(dir, positional[1], dot ? ShardsFormat::kDot : svg ? ShardsFormat::kSvg : ShardsFormat::kTree);
  }
  if (command == "verify") return Verify(dir);
  if (command == "stats") return Stats(dir);

  // dump
  DumpOptions options;
  options.hex = hex;
  if (from) {
    if (!AllDigits(*from)) {
      return UsageError(fmt::format("dump: --from wants a decimal sequence number, got '{}'", *from), usage);
    }
    options.from = *from;
  }
  if (limit) {
    if (!AllDigits(*limit) || limit->size() > 18 || std::stoll(*limit) < 1) {
      return UsageError(fmt::format("dump: --limit wants a positive integer, got '{}'", *limit), usage);
    }
    options.limit = std::stoll(*limit);
  }
  std::string shard = positional[2];
  if (AllDigits(shard)) {
    if (shard.size() > 10 || std::stoull(shard) > 0xffffffffull) {
      return UsageError(fmt::format("dump: shard number {} is out of range", shard), usage);
    }
    shard = FormatShardId(static_cast<uint32_t>(std::stoull(shard)));
  }
  return Dump(dir, positional[1], shard, options);
}

}  // namespace
}  // namespace tributary::cli

int main(int argc, char** argv) { return tributary::cli::Run(argc, argv); }
