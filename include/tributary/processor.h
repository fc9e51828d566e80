// Processor: the host code an application runs over its input stream.
//
// A host program registers processor factories with an ApplicationManager
// (tributary/application.h) under a name and a code version, e.g.
// ("counter", "1.0"). An application names the processor and code version it
// runs; a running application (a "job") creates one Processor per worker
// (parallelism = number of workers) and feeds each worker the records of the
// shards it owns, in batches.
//
// State: a processor keeps whatever state it likes in memory and hands it to
// the runner as bytes (SaveState) at batch boundaries. The runner stores
// those bytes in checkpoints (to restart a failed job) and snapshots (named,
// listed, used by Start/Update/Rollback). A job restarted from a checkpoint
// or snapshot gets the bytes back (RestoreState) before its first batch and
// then receives exactly the records that came after that cut, so the state
// is always "restored bytes + replay": nothing lost, nothing counted twice in
// state. Side effects outside the state (printing, writing elsewhere) are
// at-least-once: records after the cut are processed again after a restart.
//
// Thread safety: the runner calls one Processor from one thread at a time
// (different workers may run on different threads). A processor must not call
// back into the ApplicationManager.
#ifndef TRIBUTARY_PROCESSOR_H_
#define TRIBUTARY_PROCESSOR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "tributary/store.h"

namespace tributary {

// What a processor instance is created for. The referenced strings and map
// live at least as long as the Processor the factory returns.
struct ProcessorContext {
  std::string_view application_name;
  int64_t application_version_id = 0;
  std::string_view runtime_environment;  // the application's runtime label, e.g. "1.15"
  std::string_view processor_name;
  std::string_view code_version;
  int worker = 0;       // 0 .. parallelism-1
  int parallelism = 1;  // workers of this job
  // The application's environment properties (ApplicationConfiguration::properties).
  const std::map<std::string, std::string>* properties = nullptr;
  // Its property groups (ApplicationConfiguration::property_groups): group
  // id -> key -> value, e.g. ["OutputStream0"]["stream.name"].
  const std::map<std::string, std::map<std::string, std::string>>* property_groups = nullptr;
  // The stream the job reads (input_stream, or InputStream0's stream.name).
  std::string_view input_stream;
};

// One input record and the shard it was read from.
struct InputRecord {
  std::string shard_id;
  Record record;
};

class Processor {
 public:
  virtual ~Processor() = default;

  // Processes one batch of this worker's records (never empty). Records of a
  // shard arrive in sequence order, and a child shard's records only after
  // every record of its parents was processed (by whichever worker owned
  // them), so per-partition-key order holds across reshards.
  // An error fails the job: every worker is discarded and the job restarts
  // under the application's restart strategy from its latest checkpoint.
  virtual absl::Status Process(absl::Span<const InputRecord> records) = 0;

  // This worker's state as bytes, called between batches (checkpoints,
  // snapshots). An error fails the checkpoint (and the job) or the snapshot.
  virtual absl::StatusOr<std::string> SaveState() = 0;

  // Called at most once, before the first batch, when the job starts from a
  // checkpoint or snapshot taken with the same parallelism: `state` is what
  // this worker index returned from SaveState. Not called on a fresh start.
  // An error fails the job start (see Application restart rules).
  virtual absl::Status RestoreState(std::string_view state) = 0;

  // Called instead of RestoreState when the snapshot was taken with a
  // different parallelism: `states[i]` is what old worker i saved. The
  // processor decides what it keeps (for example worker 0 merges all and the
  // others start empty, for state that adds up across workers). The default
  // refuses, so a processor that cannot be rescaled fails the job start
  // (UnsupportedOperationException) instead of silently dropping state.
  virtual absl::Status RestoreRescaledState(absl::Span<const std::string> states);
};

// Creates the processor of one worker. An error (or nullptr) fails the job
// start, as a Flink job whose main method throws.
using ProcessorFactory =
    std::function<absl::StatusOr<std::unique_ptr<Processor>>(const ProcessorContext&)>;

}  // namespace tributary

#endif  // TRIBUTARY_PROCESSOR_H_
