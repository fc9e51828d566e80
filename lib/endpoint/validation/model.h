// The request shapes of an AWS JSON-protocol service, as tables: what
// gen_model.py derives at build time from the service model Debian's
// python3-botocore installs (botocore/data/<service>/<version>/service-2.json)
// plus an overlay of ours (<service>_overlay.json: members and operations
// newer than that model, and what AWS enforces beyond it). Only the shapes
// reachable from an operation's input are kept; documentation is dropped.
//
// The tables are constant and built into the binary (kinesis_model.cc and
// kinesisanalyticsv2_model.cc in the build tree); validator.h checks a
// request against them. docs/ENDPOINT.md "Request validation" describes the
// derivation and the overlay format.
//
// Thread safety: everything here is immutable; safe for concurrent use.
#ifndef TRIBUTARY_LIB_ENDPOINT_VALIDATION_MODEL_H_
#define TRIBUTARY_LIB_ENDPOINT_VALIDATION_MODEL_H_

#include <cstdint>
#include <string_view>

#include "absl/types/span.h"

namespace tributary::endpoint::validation {

// A botocore shape type. kTimestamp, kBlob and kBoolean carry no constraints.
enum class ShapeType : uint8_t {
  kStructure,
  kList,
  kMap,
  kString,
  kInteger,  // Java int: 32 bits
  kLong,     // Java long: 64 bits
  kDouble,   // double and float
  kBoolean,
  kBlob,
  kTimestamp,
};

// The shapes an AWS service knows by name; indexes into ServiceModel::shapes.
using ShapeIndex = int16_t;
inline constexpr ShapeIndex kNoShape = -1;

struct Member {
  std::string_view name;  // on the wire: "StreamName"
  std::string_view path;  // in validation messages: "streamName"
  ShapeIndex shape;
  bool required;
  // For a member that is required unless another one is given (StreamName
  // unless StreamARN): that member's index in the same structure, else -1.
  // A missing member is then reported as a required one would be.
  int16_t required_unless;
};

struct Shape {
  std::string_view name;  // the model's shape name: "PutRecordsRequestEntry"
  ShapeType type;
  // Range for numbers; length for strings (UTF-16 code units, as Java
  // counts), blobs (bytes), lists and maps (entries).
  bool has_min;
  bool has_max;
  int64_t min;
  int64_t max;
  // The pattern as AWS quotes it in messages ("" for none), and its index
  // into ServiceModel::patterns (-1 for none): the RE2 form matched, which
  // differs only where the Java pattern uses what RE2 lacks (lookahead).
  std::string_view pattern;
  int16_t pattern_index;
  // Allowed values, in the order AWS lists them in messages.
  absl::Span<const std::string_view> enum_values;
  absl::Span<const Member> members;  // kStructure, in model order
  ShapeIndex element;                // kList: the member; kMap: the key
  ShapeIndex value;                  // kMap: the value
};

struct Operation {
  std::string_view name;  // "PutRecords"
  ShapeIndex input;       // kNoShape for an operation without input
};

struct ServiceModel {
  std::string_view service;        // "kinesis"
  std::string_view target_prefix;  // X-Amz-Target before the '.': "Kinesis_20131202"
  // How AWS's Java service names a structure value in a message
  // ("com.amazonaws.kinesis.v20131202").
  std::string_view java_package;
  absl::Span<const Shape> shapes;
  absl::Span<const Operation> operations;  // sorted by name
  absl::Span<const std::string_view> patterns;  // RE2 syntax, by pattern_index
};

}  // namespace tributary::endpoint::validation

#endif  // TRIBUTARY_LIB_ENDPOINT_VALIDATION_MODEL_H_
