// Deaggregation of records written by the Kinesis Producer Library (KPL).
//
// The KPL packs many user records into one Kinesis record ("aggregation").
// Such a record's data is
//   0xF3 0x89 0x9A 0xC2                 magic
//   AggregatedRecord                    protobuf (proto2): a table of
//                                       partition keys, a table of explicit
//                                       hash keys, and the user records, each
//                                       naming its key by index, with its data
//   MD5(AggregatedRecord), 16 bytes     checksum of the protobuf bytes
// (docs/REMOTE.md "Deaggregation" has the schema). A Store opened with
// deaggregate_kpl_records (StoreOptions or RemoteOptions) applies
// DeaggregateRecords to every GetRecords result; these functions are the same
// step for records obtained otherwise.
//
// A record whose data does not start with the magic, is too short, fails the
// MD5 check, does not parse, or names a partition key index outside its table
// is not an aggregate: it is returned unchanged, as the KPL's own
// deaggregation (KCL) does for a checksum mismatch.
//
// Thread safety: the functions are pure.
#ifndef TRIBUTARY_KPL_H_
#define TRIBUTARY_KPL_H_

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "tributary/store.h"

namespace tributary {

inline constexpr std::array<uint8_t, 4> kKplMagic = {0xF3, 0x89, 0x9A, 0xC2};

// True if `data` starts with the KPL magic (cheap; the MD5 is not checked).
bool HasKplMagic(std::string_view data);

// The user records of `record` if it is a valid KPL aggregate, each with the
// aggregate's sequence number and arrival time, its own partition key and
// data, aggregated = true and sub_sequence_number = its index in the
// aggregate; otherwise a vector holding `record` unchanged. An aggregate
// holding no user records yields none.
std::vector<Record> DeaggregateRecord(const Record& record);

// Replaces every aggregate in `records` by its user records, in place, order
// kept (records that are not aggregates are not copied).
void DeaggregateRecords(std::vector<Record>* records);

}  // namespace tributary

#endif  // TRIBUTARY_KPL_H_
