#!/usr/bin/env bash
# Rehearse a rollback with the AWS CLI: the two cases of the rollback
# document (shared/seeds/000_8120571576f4b783.txt, summary in DESIGN.md)
# against tributary-server, with nothing but `aws kinesis` and
# `aws kinesisanalyticsv2`.
#
#   1. TestApplication counts clicks on FLINK-1_15 (snapshots on). A snapshot,
#      then an upgrade to FLINK-1_18 whose job fails every time it starts
#      (FailOnStart): the application is RUNNING, its job restarts
#      continuously. rollback-application: RUNNING on FLINK-1_15 again, every
#      click counted exactly once.
#   2. An upgrade whose job never finishes deploying (HangOnStart): stuck in
#      UPDATING. rollback-application: back to the version before.
#
# The counts come from the built-in `counter` processor, which writes each
# key's count to the stream named by property group OutputStream0.
#
# Usage: examples/rollback_with_aws_cli.sh [--server PATH] [--aws PATH] [--restart] [--legacy]
#   --server PATH  tributary-server (default: build/test/tools/tributary-server/tributary-server,
#                  else tributary-server on PATH)
#   --aws PATH     the AWS CLI (default: aws on PATH); it must know
#                  `update-application --runtime-environment-update` (in-place runtime
#                  upgrades, 2023): Debian 12's 2.9.19 does not, pip's awscli does
#   --restart      restart the server in the middle of each story (SIGTERM in the
#                  first, kill -9 in the second): --data-dir keeps everything
#   --legacy       for a CLI without --runtime-environment-update (Debian 12's 2.9.19):
#                  upgrade the code (counter-1.0.jar -> counter-2.0.jar) instead of the runtime
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SERVER="$ROOT/build/test/tools/tributary-server/tributary-server"
[[ -x "$SERVER" ]] || SERVER="$(command -v tributary-server || true)"
AWS="$(command -v aws || true)"
RESTART=0
LEGACY=0
while (($#)); do
  case "$1" in
    --server) SERVER="$2"; shift 2 ;;
    --aws) AWS="$2"; shift 2 ;;
    --restart) RESTART=1; shift ;;
    --legacy) LEGACY=1; shift ;;
    *) echo "usage: $0 [--server PATH] [--aws PATH] [--restart] [--legacy]" >&2; exit 2 ;;
  esac
done
[[ -x "$SERVER" ]] || { echo "tributary-server not found (build it, or pass --server)" >&2; exit 2; }
[[ -n "$AWS" ]] || { echo "the AWS CLI is not installed (pass --aws)" >&2; exit 2; }

# Dummy credentials: tributary-server does not check them (see docs/ENDPOINT.md).
export AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
export AWS_PAGER="" AWS_MAX_ATTEMPTS=1
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL

WORK="$(mktemp -d)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then kill -TERM "$server_pid"; wait "$server_pid" || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

say() { printf '\n== %s\n' "$*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }

start_server() {
  "$SERVER" --port 0 --data-dir "$WORK/data" --create-delay 0 --update-delay 0 --delete-delay 0 \
    --app-transition-ms 300 --app-restart-delay-ms 1000 >"$WORK/stdout" 2>>"$WORK/server.log" &
  server_pid=$!
  URL=""
  for _ in $(seq 1 300); do
    URL="$(sed -n 's/^listening on \(http:.*\)$/\1/p' "$WORK/stdout")"
    [[ -n "$URL" ]] && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  cat "$WORK/server.log" >&2
  fail "tributary-server did not start"
}

restart_server() {  # restart_server TERM|KILL
  say "restart tributary-server (SIG$1) on the same --data-dir"
  kill "-$1" "$server_pid"
  { wait "$server_pid"; } 2>/dev/null || true
  start_server
  echo "back on $URL"
}

kin() { "$AWS" --endpoint-url "$URL" --output json kinesis "$@"; }
# AWS CLI v2 base64-decodes blob arguments unless told otherwise; v1 takes them raw.
BINARY=()
[[ "$("$AWS" --version 2>&1)" == aws-cli/2* ]] && BINARY=(--cli-binary-format raw-in-base64-out)
kda() { "$AWS" --endpoint-url "$URL" --output json kinesisanalyticsv2 "$@"; }
field() { "$AWS" --endpoint-url "$URL" --output text kinesisanalyticsv2 describe-application \
            --application-name "$1" --query "ApplicationDetail.$2"; }

wait_until() {  # wait_until WHAT COMMAND...: polls for at most 60 s
  local what="$1"; shift
  for _ in $(seq 1 240); do
    if "$@"; then return 0; fi
    sleep 0.25
  done
  fail "timed out waiting for $what"
}
status_is() { [[ "$(field "$1" ApplicationStatus)" == "$2" ]]; }

# ---- clicks in, counts out
declare -A TRUTH=()
SENT=0
put_clicks() {  # put_clicks N: N clicks over five users, counted in TRUTH
  local n="$1" records=() key
  for ((i = 0; i < n; i++)); do
    key="user-$((SENT % 5))"
    records+=("Data=click-$SENT,PartitionKey=$key")
    TRUTH[$key]=$((${TRUTH[$key]:-0} + 1))
    SENT=$((SENT + 1))
    if ((${#records[@]} == 100)); then
      kin put-records --stream-name clicks "${BINARY[@]}" --records "${records[@]}" >/dev/null
      records=()
    fi
  done
  if ((${#records[@]})); then
    kin put-records --stream-name clicks "${BINARY[@]}" --records "${records[@]}" >/dev/null
  fi
  echo "put $n clicks ($SENT in all)"
}

# The last count the counter wrote per key ("user-0=60 user-1=60 ..."): the
# application's state, exact after restarts and rollbacks.
read_counts() {
  local it out
  it="$("$AWS" --endpoint-url "$URL" --output text kinesis get-shard-iterator --stream-name counts \
        --shard-id shardId-000000000000 --shard-iterator-type TRIM_HORIZON --query ShardIterator)"
  out="$("$AWS" --endpoint-url "$URL" --output text kinesis get-records --shard-iterator "$it" --limit 10000 \
         --query 'Records[].[PartitionKey,Data]')"
  declare -A last=()
  while read -r key data; do
    [[ -n "$key" ]] && last[$key]="$(printf '%s' "$data" | base64 -d)"
  done <<<"$out"
  for key in $(printf '%s\n' "${!last[@]}" | sort); do printf '%s=%s ' "$key" "${last[$key]}"; done
}
expected_counts() { for key in $(printf '%s\n' "${!TRUTH[@]}" | sort); do printf '%s=%s ' "$key" "${TRUTH[$key]}"; done; }
counts_exact() { [[ "$(read_counts)" == "$(expected_counts)" ]]; }

groups() {  # groups [FAULT]: the property groups, with tributary.faults FAULT=true if given
  local g='{"PropertyGroupId":"InputStream0","PropertyMap":{"stream.name":"clicks"}},{"PropertyGroupId":"OutputStream0","PropertyMap":{"stream.name":"counts"}}'
  [[ -n "${1:-}" ]] && g+=",{\"PropertyGroupId\":\"tributary.faults\",\"PropertyMap\":{\"$1\":\"true\"}}"
  printf '{"PropertyGroups":[%s]}' "$g"
}

# An upgrade: FLINK-1_18 (or, --legacy, counter-2.0.jar) with a fault on purpose.
upgrade() {  # upgrade VERSION FAULT
  if ((LEGACY)); then
    kda update-application --application-name TestApplication --current-application-version-id "$1" \
      --application-configuration-update "{\"EnvironmentPropertyUpdates\":$(groups "$2"),\"ApplicationCodeConfigurationUpdate\":{\"CodeContentUpdate\":{\"S3ContentLocationUpdate\":{\"FileKeyUpdate\":\"counter-2.0.jar\"}}}}" \
      --query 'ApplicationDetail.[ApplicationStatus,ApplicationVersionId]' --output text
  else
    kda update-application --application-name TestApplication --current-application-version-id "$1" \
      --runtime-environment-update FLINK-1_18 \
      --application-configuration-update "{\"EnvironmentPropertyUpdates\":$(groups "$2")}" \
      --query 'ApplicationDetail.[ApplicationStatus,ApplicationVersionId,RuntimeEnvironment]' --output text
  fi
}

job() { # the job's health: JobPlanDescription with --include-additional-details
  "$AWS" --endpoint-url "$URL" --output text kinesisanalyticsv2 describe-application --application-name TestApplication \
    --include-additional-details \
    --query 'ApplicationDetail.ApplicationConfigurationDescription.FlinkApplicationConfigurationDescription.JobPlanDescription'
}

start_server
echo "tributary-server on $URL (data in $WORK/data); $("$AWS" --version 2>&1)"
((LEGACY)) && echo "--legacy: the upgrade changes the code (counter-1.0.jar -> counter-2.0.jar), not the runtime"

if ((!LEGACY)); then
  # An AWS CLI that predates in-place runtime upgrades fails here, saying so.
  probe="$("$AWS" --endpoint-url "$URL" kinesisanalyticsv2 update-application --application-name probe \
           --current-application-version-id 1 --runtime-environment-update FLINK-1_18 2>&1 || true)"
  if [[ "$probe" != *ResourceNotFoundException* ]]; then
    fail "$AWS is too old for this story: it has no 'update-application --runtime-environment-update' (in-place runtime upgrades, 2023); use a newer AWS CLI, or --legacy for a code upgrade instead. It said: $probe"
  fi
fi

say "streams: clicks (in) and counts (out)"
kin create-stream --stream-name clicks --shard-count 1
kin create-stream --stream-name counts --shard-count 1
kin wait stream-exists --stream-name clicks
kin wait stream-exists --stream-name counts

say "TestApplication on FLINK-1_15, snapshots on, code counter-1.0.jar"
kda create-application --application-name TestApplication --runtime-environment FLINK-1_15 \
  --service-execution-role arn:aws:iam::000000000000:role/flink \
  --application-configuration "{
    \"ApplicationCodeConfiguration\": {\"CodeContentType\": \"ZIPFILE\", \"CodeContent\": {\"S3ContentLocation\":
      {\"BucketARN\": \"arn:aws:s3:::flink-code\", \"FileKey\": \"counter-1.0.jar\"}}},
    \"EnvironmentProperties\": $(groups),
    \"ApplicationSnapshotConfiguration\": {\"SnapshotsEnabled\": true}}" \
  --query 'ApplicationDetail.[ApplicationName,ApplicationStatus,RuntimeEnvironment,ApplicationVersionId]' --output text
kda start-application --application-name TestApplication --output text
wait_until "RUNNING" status_is TestApplication RUNNING
echo "TestApplication: $(field TestApplication ApplicationStatus), version $(field TestApplication ApplicationVersionId)"
put_clicks 300
wait_until "the counts" counts_exact
echo "counts: $(read_counts)"

say "snapshot before the upgrade (strongly recommended by the document)"
kda create-application-snapshot --application-name TestApplication --snapshot-name before-upgrade
snap_ready() { [[ "$("$AWS" --endpoint-url "$URL" --output text kinesisanalyticsv2 describe-application-snapshot \
  --application-name TestApplication --snapshot-name before-upgrade --query SnapshotDetails.SnapshotStatus)" == READY ]]; }
wait_until "the snapshot" snap_ready
echo "snapshot before-upgrade: READY"
put_clicks 100

say "case 1: upgrade to FLINK-1_18 whose job fails every time it starts (FailOnStart)"
upgrade 1 FailOnStart
wait_until "RUNNING" status_is TestApplication RUNNING
put_clicks 50
restarted() { [[ "$(job)" =~ \"restartCount\":([0-9]+) ]] && ((BASH_REMATCH[1] >= 2)); }
wait_until "the job to restart twice" restarted
echo "TestApplication: $(field TestApplication ApplicationStatus) on $(field TestApplication RuntimeEnvironment), version $(field TestApplication ApplicationVersionId)"
echo "its job: $(job)"
if ((RESTART)); then
  restart_server TERM
  wait_until "the job to restart again" restarted
  echo "after the restart: $(field TestApplication ApplicationStatus), job: $(job)"
fi
if ((!LEGACY)); then  # the operations API is newer than Debian's CLI
  echo "what the job does, as operations:"
  kda list-application-operations --application-name TestApplication --operation JobRestart --limit 2 \
    --query 'ApplicationOperationInfoList[].[OperationId,Operation,OperationStatus]' --output text
  op="$("$AWS" --endpoint-url "$URL" --output text kinesisanalyticsv2 list-application-operations \
        --application-name TestApplication --operation JobRestart --limit 1 --query 'ApplicationOperationInfoList[0].OperationId')"
  kda describe-application-operation --application-name TestApplication --operation-id "$op" \
    --query 'ApplicationOperationInfoDetails.OperationFailureDetails.ErrorInfo.ErrorString' --output text
fi
[[ "$(read_counts)" != "$(expected_counts)" ]] || fail "the failing job should not have counted the new clicks"
echo "counts (stale: the job counts nothing): $(read_counts)"

say "roll back at once: aws kinesisanalyticsv2 rollback-application"
kda rollback-application --application-name TestApplication --current-application-version-id 2 \
  --query 'ApplicationDetail.[ApplicationStatus,ApplicationVersionId]' --output text
wait_until "RUNNING" status_is TestApplication RUNNING
runtime="$(field TestApplication RuntimeEnvironment)"
[[ "$runtime" == FLINK-1_15 ]] || fail "rolled back to $runtime, not FLINK-1_15"
put_clicks 20
wait_until "exact counts" counts_exact
echo "TestApplication: RUNNING on $runtime, version $(field TestApplication ApplicationVersionId)"
echo "counts:   $(read_counts)"
echo "expected: $(expected_counts)"
echo "every click counted exactly once"
kda list-application-versions --application-name TestApplication \
  --query 'ApplicationVersionSummaries[].[ApplicationVersionId,ApplicationStatus]' --output text

say "case 2: an upgrade that never finishes deploying (HangOnStart): stuck in UPDATING"
version="$(field TestApplication ApplicationVersionId)"
upgrade "$version" HangOnStart
put_clicks 30
stuck() { status_is TestApplication UPDATING && [[ "$(job)" =~ \"millisSinceLastHealthyBatch\":([0-9]+) ]] && ((BASH_REMATCH[1] >= 3000)); }
wait_until "a while in UPDATING" stuck
echo "TestApplication: still $(field TestApplication ApplicationStatus); job: $(job)"
if ((RESTART)); then
  restart_server KILL
  wait_until "a while in UPDATING again" stuck
  echo "after kill -9: $(field TestApplication ApplicationStatus)"
fi
kda rollback-application --application-name TestApplication --current-application-version-id "$((version + 1))" \
  --query 'ApplicationDetail.[ApplicationStatus,ApplicationVersionId]' --output text
wait_until "RUNNING" status_is TestApplication RUNNING
runtime="$(field TestApplication RuntimeEnvironment)"
[[ "$runtime" == FLINK-1_15 ]] || fail "rolled back to $runtime, not FLINK-1_15"
wait_until "exact counts" counts_exact
echo "TestApplication: RUNNING on $runtime, version $(field TestApplication ApplicationVersionId)"
echo "counts:   $(read_counts)"
echo "expected: $(expected_counts)"
kda list-application-versions --application-name TestApplication \
  --query 'ApplicationVersionSummaries[].[ApplicationVersionId,ApplicationStatus]' --output text
echo "status page: $URL/ui/applications/TestApplication"

say "done: both cases rolled back, every click counted exactly once"
