#include "lineage/lineage_graph.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>

#include "absl/numeric/int128.h"

extern char** environ;

namespace tributary::lineage {
namespace {

// A hash key as a fraction of the hash space, in percent.
double Percent(absl::uint128 v, double add = 0) {
  double x = static_cast<double>(absl::Uint128High64(v)) * 18446744073709551616.0 +
             static_cast<double>(absl::Uint128Low64(v)) + add;
  return x / 3.4028236692093846e38 * 100.0;
}

// DOT string literal contents: quotes and backslashes escaped.
std::string Escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

std::string RangePercent(const HashKeyRange& r) {
  return fmt::format("{:.2f}%-{:.2f}%", Percent(r.start.value()), Percent(r.end.value(), 1.0));
}

std::string LineageDot(std::string_view stream, const std::vector<ShardDescription>& shards,
                       const std::map<std::string, std::string>& notes) {
  std::set<std::string> listed;
  for (const ShardDescription& s : shards) listed.insert(s.shard_id);
  auto has = [&](const std::optional<std::string>& id) { return id && listed.count(*id) > 0; };

  std::string out = fmt::format("digraph \"{}\" {{\n", Escape(stream));
  out += "  node [shape=box, fontname=\"monospace\"];\n";
  for (const ShardDescription& s : shards) {
    auto note = notes.find(s.shard_id);
    std::string extra = note == notes.end() ? "" : "\\n" + Escape(note->second);
    const bool open = s.state == ShardState::kOpen;
    out += fmt::format("  \"{}\" [label=\"{}\\n{}\\n{}{}\"{}];\n", s.shard_id, s.shard_id,
                       RangePercent(s.hash_key_range), ToString(s.state), extra,
                       open ? ", style=\"bold,filled\", fillcolor=\"#d8f0d8\""
                            : ", style=\"dashed,filled\", fillcolor=\"#eeeeee\"");
  }
  for (const ShardDescription& s : shards) {
    if (has(s.parent_shard_id)) out += fmt::format("  \"{}\" -> \"{}\";\n", *s.parent_shard_id, s.shard_id);
    if (has(s.adjacent_parent_shard_id)) {
      out += fmt::format("  \"{}\" -> \"{}\" [style=dashed, label=\"merge\"];\n",
                         *s.adjacent_parent_shard_id, s.shard_id);
    }
  }
  out += "}\n";
  return out;
}

absl::StatusOr<std::string> RenderSvg(std::string_view dot_source) {
  // The source goes through a temporary file, not a pipe: no SIGPIPE if dot
  // dies early, and no deadlock between writing its input and reading its
  // output.
  const char* tmpdir = std::getenv("TMPDIR");
  std::string path = fmt::format("{}/tributary-lineage-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
  int fd = mkstemp(path.data());
  if (fd < 0) return absl::InternalError(fmt::format("mkstemp {}: {}", path, std::strerror(errno)));
  size_t done = 0;
  while (done < dot_source.size()) {
    ssize_t n = ::write(fd, dot_source.data() + done, dot_source.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      ::unlink(path.c_str());
      return absl::InternalError(fmt::format("write {}: {}", path, std::strerror(errno)));
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);

  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) {
    ::unlink(path.c_str());
    return absl::InternalError(fmt::format("pipe: {}", std::strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  std::string arg0 = "dot", arg1 = "-Tsvg";
  char* argv[] = {arg0.data(), arg1.data(), path.data(), nullptr};
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, "dot", &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  if (rc != 0) {
    ::close(out[0]);
    ::unlink(path.c_str());
    return absl::FailedPreconditionError(fmt::format(
        "cannot run Graphviz' dot ({}): install the graphviz package to draw shard lineage",
        std::strerror(rc)));
  }
  std::string svg;
  char buf[16384];
  while (true) {
    ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    svg.append(buf, static_cast<size_t>(n));
  }
  ::close(out[0]);
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  ::unlink(path.c_str());
  if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 127) {
    return absl::FailedPreconditionError(
        "cannot run Graphviz' dot: install the graphviz package to draw shard lineage");
  }
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0 || svg.empty()) {
    return absl::InternalError(fmt::format("dot -Tsvg failed (wait status {})", wstatus));
  }
  return svg;
}

}  // namespace tributary::lineage
