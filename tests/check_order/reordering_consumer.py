#!/usr/bin/env python3
"""A consumer that reorders on purpose, for tests/check_order (boto3).

usage: reordering_consumer.py ENDPOINT IN OUT

It reads every shard of stream IN (a shard once its parents are read to
their end, as the resharding document says) and copies the records' data,
unchanged and with their partition keys, to stream OUT: the way
`tributary check-order --consumer output:OUT` expects a user's consumer to
report what it processed. Its bug, on purpose: each GetRecords page is
copied in reverse order. check-order must catch that.

Prints "listening on ENDPOINT/IN" once it has found IN, then runs until
it gets SIGTERM.
"""
import sys
import time

import boto3
from botocore.config import Config


def main():
    endpoint, source, sink = sys.argv[1:4]
    kinesis = boto3.client(
        'kinesis', endpoint_url=endpoint, region_name='us-east-1',
        aws_access_key_id='reorderer', aws_secret_access_key='reorderer',
        config=Config(retries={'max_attempts': 10, 'mode': 'standard'}))
    kinesis.describe_stream_summary(StreamName=source)
    kinesis.describe_stream_summary(StreamName=sink)
    print(f'listening on {endpoint}/{source}', flush=True)

    iterators = {}  # shard id -> iterator; 'new' before the first; None once read to its end
    parents = {}
    while True:
        token = None
        while True:
            page = (kinesis.list_shards(NextToken=token) if token
                    else kinesis.list_shards(StreamName=source))
            for shard in page['Shards']:
                sid = shard['ShardId']
                if sid not in iterators:
                    iterators[sid] = 'new'
                    parents[sid] = [p for p in (shard.get('ParentShardId'),
                                                shard.get('AdjacentParentShardId')) if p]
            token = page.get('NextToken')
            if not token:
                break
        for sid in sorted(iterators):
            iterator = iterators[sid]
            if iterator is None:
                continue
            if iterator == 'new':
                if any(iterators.get(p, None) is not None for p in parents[sid]):
                    continue  # a parent still has records
                iterator = kinesis.get_shard_iterator(
                    StreamName=source, ShardId=sid,
                    ShardIteratorType='TRIM_HORIZON')['ShardIterator']
            answer = kinesis.get_records(ShardIterator=iterator, Limit=1000)
            records = [{'Data': r['Data'], 'PartitionKey': r['PartitionKey']}
                       for r in answer['Records']]
            records.reverse()  # the bug
            while records:
                chunk, records = records[:500], records[500:]
                result = kinesis.put_records(StreamName=sink, Records=chunk)
                failed = [chunk[i] for i, e in enumerate(result['Records']) if 'ErrorCode' in e]
                records = failed + records
            iterators[sid] = answer.get('NextShardIterator')
        time.sleep(0.05)


if __name__ == '__main__':
    main()
