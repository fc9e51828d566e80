"""A small producer and consumer with the retry logic Kinesis clients need:
the code under test in test_retry_logic.py (it knows nothing of Tributary).

Producer: PutRecords, then resend exactly the entries that failed (partial
failures), with backoff; a whole call throttled is retried too.
Consumer: reads a shard to its end, retrying throttled GetRecords and taking a
new iterator (AFTER_SEQUENCE_NUMBER of the last record it processed) when its
iterator expired.
"""

import time

import botocore.exceptions

RETRYABLE = {"ProvisionedThroughputExceededException", "InternalFailure", "ServiceUnavailable"}


def _code(error):
    return error.response["Error"]["Code"]


class Producer:
    def __init__(self, kinesis, stream, max_attempts=5, backoff_s=0.0):
        self.kinesis = kinesis
        self.stream = stream
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.attempts = 0  # PutRecords calls made
        self.resent = 0    # entries sent again after a partial failure

    def put_all(self, records):
        """records: [(partition_key, bytes)]. Returns the sequence numbers, in order."""
        pending = list(enumerate(records))
        sequence_numbers = [None] * len(records)
        for attempt in range(self.max_attempts):
            self.attempts += 1
            entries = [{"PartitionKey": k, "Data": d} for _, (k, d) in pending]
            try:
                out = self.kinesis.put_records(StreamName=self.stream, Records=entries)
            except botocore.exceptions.ClientError as e:
                if _code(e) not in RETRYABLE:
                    raise
                time.sleep(self.backoff_s * 2**attempt)
                continue
            still = []
            for (index, record), result in zip(pending, out["Records"]):
                if "ErrorCode" in result:
                    still.append((index, record))
                else:
                    sequence_numbers[index] = result["SequenceNumber"]
            self.resent += len(still)
            pending = still
            if not pending:
                return sequence_numbers
            time.sleep(self.backoff_s * 2**attempt)
        raise RuntimeError(f"{len(pending)} records not written after {self.max_attempts} attempts")


class Consumer:
    def __init__(self, kinesis, stream, max_retries=10, limit=100):
        self.kinesis = kinesis
        self.stream = stream
        self.limit = limit
        self.max_retries = max_retries
        self.retries = 0
        self.new_iterators = 0

    def _iterator(self, shard_id, after=None):
        kwargs = {"StreamName": self.stream, "ShardId": shard_id}
        if after is None:
            kwargs["ShardIteratorType"] = "TRIM_HORIZON"
        else:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=after)
        for _ in range(self.max_retries):
            try:
                return self.kinesis.get_shard_iterator(**kwargs)["ShardIterator"]
            except botocore.exceptions.ClientError as e:
                if _code(e) not in RETRYABLE:
                    raise
                self.retries += 1
        raise RuntimeError("GetShardIterator kept failing")

    def read_shard(self, shard_id):
        """Every record of the shard up to its current end, exactly once, in order."""
        out, last = [], None
        iterator = self._iterator(shard_id)
        failures = 0
        while iterator is not None:
            try:
                page = self.kinesis.get_records(ShardIterator=iterator, Limit=self.limit)
            except botocore.exceptions.ClientError as e:
                failures += 1
                if failures > self.max_retries:
                    raise
                if _code(e) == "ExpiredIteratorException":
                    self.new_iterators += 1
                    iterator = self._iterator(shard_id, after=last)
                    continue
                if _code(e) in RETRYABLE:
                    self.retries += 1
                    continue
                raise
            for record in page["Records"]:
                out.append(record["Data"])
                last = record["SequenceNumber"]
            iterator = page.get("NextShardIterator")
            if not page["Records"] and page.get("MillisBehindLatest", 0) == 0:
                break
        return out
