#!/usr/bin/env bash
# tributary-server against the AWS CLI v2 (Debian awscli): create + wait,
# put-record(s), get-records, split, merge, read the parent to its end,
# retention, tags, paged listings, errors, delete + wait.
#
# Usage: awscli_test.sh PATH/TO/tributary-server [PATH/TO/aws]
set -uo pipefail

SERVER_BIN="${1:?usage: awscli_test.sh PATH/TO/tributary-server [PATH/TO/aws]}"
AWS_BIN="${2:-/usr/bin/aws}"
passed=0
failed=0
ok() { # ok CONDITION_STATUS WHAT
  if [[ "$1" == 0 ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $2"; fi
}
eq() { # eq GOT WANT WHAT
  if [[ "$1" == "$2" ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $3: got '$1', want '$2'"; fi
}

# Dummy credentials and region; no config files, no instance metadata.
export AWS_ACCESS_KEY_ID=AKIDTRIBUTARYTEST AWS_SECRET_ACCESS_KEY=tributary-test-secret
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
export AWS_PAGER="" AWS_MAX_ATTEMPTS=2 AWS_RETRY_MODE=standard
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL

workdir="$(mktemp -d)"
trap 'if [[ -n "${server_pid:-}" ]] && kill -0 "$server_pid" 2>/dev/null; then kill -KILL "$server_pid"; fi; rm -rf "$workdir"' EXIT

"$SERVER_BIN" --host 127.0.0.1 --port 0 --in-memory --create-delay 0 --update-delay 0 --delete-delay 0 \
  >"$workdir/stdout" &
server_pid=$!
url=""
for _ in $(seq 1 200); do  # wait for the server to come up: at most 20 s
  url="$(sed -n 's/^listening on \(http:.*\)$/\1/p' "$workdir/stdout")"
  [[ -n "$url" ]] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if [[ -z "$url" ]]; then
  echo "FAIL: tributary-server did not start"
  echo "awscli: 0 passed, 1 failed"
  exit 1
fi

k() { "$AWS_BIN" --endpoint-url "$url" --no-cli-pager --output json kinesis "$@"; }
kt() { "$AWS_BIN" --endpoint-url "$url" --no-cli-pager --output text kinesis "$@"; }
err() { # err EXPECTED_TYPE WHAT ARGS...: the command must fail with that error type
  local want="$1" what="$2"
  shift 2
  local out
  out="$(k "$@" 2>&1 >/dev/null)"
  local status=$?
  ok $((status == 0)) "$what: the command must fail"
  [[ "$out" == *"($want)"* ]]
  ok $? "$what: expected ($want) in: $out"
}

# ---- create, wait, describe
k create-stream --stream-name cli --shard-count 2
ok $? "create-stream"
k wait stream-exists --stream-name cli
ok $? "wait stream-exists"
eq "$(kt describe-stream-summary --stream-name cli --query StreamDescriptionSummary.StreamStatus)" ACTIVE "status"
eq "$(kt describe-stream-summary --stream-name cli --query StreamDescriptionSummary.OpenShardCount)" 2 "OpenShardCount"
eq "$(kt describe-limits --query ShardLimit)" 500 "describe-limits"

# ---- records
for i in $(seq 1 10); do
  k put-record --stream-name cli --partition-key "key-$i" --data "hello $i" \
    --cli-binary-format raw-in-base64-out >/dev/null || ok 1 "put-record $i"
done
ok 0 "put-record x10"
eq "$(kt put-records --stream-name cli --cli-binary-format raw-in-base64-out \
  --records 'Data=one,PartitionKey=key-1' 'Data=two,PartitionKey=key-2' 'Data=three,PartitionKey=key-3' \
  --query FailedRecordCount)" 0 "put-records"

count_records() { # count_records SHARD: records from TRIM_HORIZON (one call; small shards)
  local it
  it="$(kt get-shard-iterator --stream-name cli --shard-id "$1" --shard-iterator-type TRIM_HORIZON --query ShardIterator)"
  kt get-records --shard-iterator "$it" --query 'length(Records)'
}
total=$(( $(count_records shardId-000000000000) + $(count_records shardId-000000000001) ))
eq "$total" 13 "get-records reads every record"
it="$(kt get-shard-iterator --stream-name cli --shard-id shardId-000000000000 --shard-iterator-type TRIM_HORIZON --query ShardIterator)"
data_b64="$(kt get-records --shard-iterator "$it" --limit 1 --query 'Records[0].Data')"
[[ "$(printf '%s' "$data_b64" | base64 -d)" == hello* || "$(printf '%s' "$data_b64" | base64 -d)" =~ ^(one|two|three)$ ]]
ok $? "record Data decodes ($data_b64)"

# ---- split shard 0, read it to its end, then merge the children
k split-shard --stream-name cli --shard-to-split shardId-000000000000 --new-starting-hash-key 85070591730234615865843651857942052864
ok $? "split-shard"
k wait stream-exists --stream-name cli
eq "$(kt list-shards --stream-name cli --query 'length(Shards)')" 4 "list-shards after the split"
eq "$(kt list-shards --stream-name cli --shard-filter Type=AT_LATEST --query 'Shards[].ShardId' | tr '\t' ' ')" \
  "shardId-000000000001 shardId-000000000002 shardId-000000000003" "open shards after the split"
it="$(kt get-shard-iterator --stream-name cli --shard-id shardId-000000000000 --shard-iterator-type TRIM_HORIZON --query ShardIterator)"
k get-records --shard-iterator "$it" >"$workdir/parent.json"
eq "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("NextShardIterator" in d, sorted(c["ShardId"] for c in d.get("ChildShards", [])))' "$workdir/parent.json")" \
  "False ['shardId-000000000002', 'shardId-000000000003']" "closed parent: no NextShardIterator, ChildShards"
err InvalidArgumentException "merge of non-adjacent shards" merge-shards --stream-name cli \
  --shard-to-merge shardId-000000000002 --adjacent-shard-to-merge shardId-000000000001
err ResourceInUseException "merge of a CLOSED shard" merge-shards --stream-name cli \
  --shard-to-merge shardId-000000000000 --adjacent-shard-to-merge shardId-000000000001
k merge-shards --stream-name cli --shard-to-merge shardId-000000000002 --adjacent-shard-to-merge shardId-000000000003
ok $? "merge-shards"
k wait stream-exists --stream-name cli
eq "$(kt list-shards --stream-name cli --shard-filter Type=AT_LATEST --query 'Shards[].ShardId' | tr '\t' ' ')" \
  "shardId-000000000001 shardId-000000000004" "open shards after the merge"
eq "$(kt update-shard-count --stream-name cli --target-shard-count 4 --scaling-type UNIFORM_SCALING --query TargetShardCount)" \
  4 "update-shard-count"
k wait stream-exists --stream-name cli
eq "$(kt describe-stream-summary --stream-name cli --query StreamDescriptionSummary.OpenShardCount)" 4 "4 open shards"

# ---- paging
# ListShards by hand: NextToken alone (Kinesis rejects NextToken together with
# StreamName, so the CLI's own list-shards paginator, which resends
# --stream-name, fails against Kinesis and against tributary-server alike).
all_shards="$(kt list-shards --stream-name cli --query 'Shards[].ShardId' | tr '\t' ' ')"
paged="$(kt list-shards --stream-name cli --max-results 1 --no-paginate --query 'Shards[].ShardId')"
token="$(kt list-shards --stream-name cli --max-results 1 --no-paginate --query NextToken)"
for _ in $(seq 1 20); do
  [[ "$token" == None || -z "$token" ]] && break
  paged="$paged $(kt list-shards --next-token "$token" --max-results 1 --no-paginate --query 'Shards[].ShardId')"
  token="$(kt list-shards --next-token "$token" --max-results 1 --no-paginate --query NextToken)"
done
eq "$paged" "$all_shards" "list-shards paged by NextToken, one shard a page"
err InvalidArgumentException "list-shards with NextToken and StreamName" list-shards --stream-name cli \
  --next-token "$(kt list-shards --stream-name cli --max-results 1 --no-paginate --query NextToken)" --no-paginate
# describe-stream and list-streams: the CLI pages them itself (ExclusiveStart*).
eq "$(k describe-stream --stream-name cli --page-size 1 --query 'length(StreamDescription.Shards)')" \
  "$(kt list-shards --stream-name cli --query 'length(Shards)')" "describe-stream paged one shard at a time"
for i in 1 2 3; do k create-stream --stream-name "more-$i" --shard-count 1; done
eq "$(k list-streams --page-size 1 --query 'join(`,`, StreamNames)')" '"cli,more-1,more-2,more-3"' "list-streams paged"

# ---- retention and tags
k increase-stream-retention-period --stream-name cli --retention-period-hours 72
eq "$(kt describe-stream-summary --stream-name cli --query StreamDescriptionSummary.RetentionPeriodHours)" 72 "increase retention"
k decrease-stream-retention-period --stream-name cli --retention-period-hours 24
eq "$(kt describe-stream-summary --stream-name cli --query StreamDescriptionSummary.RetentionPeriodHours)" 24 "decrease retention"
k add-tags-to-stream --stream-name cli --tags team=data,env=test
eq "$(kt list-tags-for-stream --stream-name cli --query 'Tags[].Key' | tr '\t' ' ')" "env team" "add-tags-to-stream"
k remove-tags-from-stream --stream-name cli --tag-keys env
eq "$(kt list-tags-for-stream --stream-name cli --query 'Tags[].Key')" "team" "remove-tags-from-stream"

# ---- errors
err ResourceNotFoundException "describe-stream of a missing stream" describe-stream --stream-name nope
err ResourceInUseException "create-stream of an existing name" create-stream --stream-name cli --shard-count 1
err InvalidArgumentException "retention increase to a lower value" increase-stream-retention-period \
  --stream-name cli --retention-period-hours 12
err ValidationException "a stream name with a space" describe-stream-summary --stream-name "bad name"
err InvalidArgumentException "a shard iterator that does not decode" get-records --shard-iterator garbage

# ---- enhanced fan-out consumers and state-only settings
cli_arn="$(kt describe-stream-summary --stream-name cli --query StreamDescriptionSummary.StreamARN)"
consumer_arn="$(kt register-stream-consumer --stream-arn "$cli_arn" --consumer-name cli-app --query Consumer.ConsumerARN)"
[[ "$consumer_arn" == "$cli_arn/consumer/cli-app:"* ]]
ok $? "register-stream-consumer returns the consumer ARN ($consumer_arn)"
eq "$(kt describe-stream-consumer --consumer-arn "$consumer_arn" --query ConsumerDescription.ConsumerStatus)" \
  ACTIVE "describe-stream-consumer (--create-delay 0)"
eq "$(kt list-stream-consumers --stream-arn "$cli_arn" --query 'Consumers[].ConsumerName')" cli-app "list-stream-consumers"
eq "$(kt describe-stream-summary --stream-name cli --query StreamDescriptionSummary.ConsumerCount)" 1 "ConsumerCount"
err ResourceInUseException "a consumer name taken" register-stream-consumer --stream-arn "$cli_arn" --consumer-name cli-app
err ResourceNotFoundException "a missing consumer" describe-stream-consumer --stream-arn "$cli_arn" --consumer-name nope
k deregister-stream-consumer --consumer-arn "$consumer_arn"
ok $? "deregister-stream-consumer"
err ResourceNotFoundException "a deregistered consumer is gone (--delete-delay 0)" \
  describe-stream-consumer --consumer-arn "$consumer_arn"
k start-stream-encryption --stream-name cli --encryption-type KMS --key-id alias/aws/kinesis
ok $? "start-stream-encryption"
eq "$(kt describe-stream-summary --stream-name cli --query StreamDescriptionSummary.EncryptionType)" KMS \
  "describe-stream-summary reports KMS"
k stop-stream-encryption --stream-name cli --encryption-type KMS --key-id alias/aws/kinesis
ok $? "stop-stream-encryption"
eq "$(kt enable-enhanced-monitoring --stream-name cli --shard-level-metrics IncomingBytes --query 'DesiredShardLevelMetrics')" \
  IncomingBytes "enable-enhanced-monitoring"
eq "$(kt disable-enhanced-monitoring --stream-name cli --shard-level-metrics ALL --query 'length(DesiredShardLevelMetrics)')" \
  0 "disable-enhanced-monitoring ALL"
err ValidationException "an unknown shard-level metric" enable-enhanced-monitoring --stream-name cli --shard-level-metrics Bogus

# ---- delete and wait
k delete-stream --stream-name more-1
ok $? "delete-stream"
k wait stream-not-exists --stream-name more-1
ok $? "wait stream-not-exists"
err ResourceNotFoundException "the deleted stream is gone" describe-stream-summary --stream-name more-1

# ---- graceful shutdown
kill -TERM "$server_pid"
status=124
for _ in $(seq 1 150); do  # at most 15 s
  if ! kill -0 "$server_pid" 2>/dev/null; then wait "$server_pid"; status=$?; break; fi
  sleep 0.1
done
eq "$status" 0 "tributary-server exits 0 on SIGTERM"
server_pid=""

echo "awscli: $passed passed, $failed failed"
[[ $failed == 0 && $passed -gt 0 ]]
