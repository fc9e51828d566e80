// tributary-server against the AWS SDK for Go (aws-sdk-go v1 from Debian's
// golang-github-aws-aws-sdk-go-dev, built offline in GOPATH mode) over https:
// Go speaks HTTP/2 only over TLS, so every call here is h2 (ALPN), checked on
// each response. Put, get, reshard (SplitShard, MergeShards), ListShards and
// SubscribeToShard (the event stream over an HTTP/2 stream).
//
// Usage (tests/endpoint/go_sdk_test.py builds and runs it):
//   AWS_CA_BUNDLE=CA.pem GO111MODULE=off GOPATH=/usr/share/gocode go run kinesis_sdk.go https://localhost:PORT
package main

import (
	"bytes"
	"fmt"
	"math/big"
	"os"
	"time"

	"github.com/aws/aws-sdk-go/aws"
	"github.com/aws/aws-sdk-go/aws/credentials"
	"github.com/aws/aws-sdk-go/aws/request"
	"github.com/aws/aws-sdk-go/aws/session"
	"github.com/aws/aws-sdk-go/service/kinesis"
)

var passed, failed int

func check(cond bool, format string, args ...interface{}) bool {
	if cond {
		passed++
	} else {
		failed++
		fmt.Printf("FAIL: "+format+"\n", args...)
	}
	return cond
}

func must(err error, what string) bool {
	return check(err == nil, "%s: %v", what, err)
}

func waitActive(k *kinesis.Kinesis, name string) {
	for i := 0; i < 400; i++ {
		d, err := k.DescribeStreamSummary(&kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if err == nil && aws.StringValue(d.StreamDescriptionSummary.StreamStatus) == "ACTIVE" {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	check(false, "stream %s never became ACTIVE", name)
}

func main() {
	if len(os.Args) < 2 {
		fmt.Println("usage: go run kinesis_sdk.go https://localhost:PORT")
		os.Exit(2)
	}
	sess := session.Must(session.NewSession(&aws.Config{
		Endpoint:    aws.String(os.Args[1]),
		Region:      aws.String("us-east-1"),
		Credentials: credentials.NewStaticCredentials("AKIDTRIBUTARYTEST", "tributary-test-secret", ""),
		MaxRetries:  aws.Int(1),
	}))
	k := kinesis.New(sess)
	protocols := map[string]int{}
	k.Handlers.Complete.PushBack(func(r *request.Request) {
		if r.HTTPResponse != nil {
			protocols[r.HTTPResponse.Proto]++
		}
	})
	run(k)
	check(len(protocols) == 1 && protocols["HTTP/2.0"] > 0, "every response came over HTTP/2: %v", protocols)
	fmt.Printf("go-sdk: %d passed, %d failed\n", passed, failed)
	if failed > 0 || passed == 0 {
		os.Exit(1)
	}
}

func run(k *kinesis.Kinesis) {
	name := aws.String("go-events")
	if !must(func() error {
		_, err := k.CreateStream(&kinesis.CreateStreamInput{StreamName: name, ShardCount: aws.Int64(1)})
		return err
	}(), "CreateStream") {
		return
	}
	waitActive(k, *name)

	// ---- put and get
	put, err := k.PutRecord(&kinesis.PutRecordInput{StreamName: name, Data: []byte("hello"), PartitionKey: aws.String("a")})
	if !must(err, "PutRecord") {
		return
	}
	var entries []*kinesis.PutRecordsRequestEntry
	for i := 0; i < 20; i++ {
		entries = append(entries, &kinesis.PutRecordsRequestEntry{Data: []byte(fmt.Sprintf("r%d", i)), PartitionKey: aws.String(fmt.Sprintf("p%d", i))})
	}
	batch, err := k.PutRecords(&kinesis.PutRecordsInput{StreamName: name, Records: entries})
	if must(err, "PutRecords") {
		check(aws.Int64Value(batch.FailedRecordCount) == 0 && len(batch.Records) == 20, "PutRecords stored 20")
	}
	it, err := k.GetShardIterator(&kinesis.GetShardIteratorInput{StreamName: name, ShardId: put.ShardId,
		ShardIteratorType: aws.String("AT_SEQUENCE_NUMBER"), StartingSequenceNumber: put.SequenceNumber})
	if must(err, "GetShardIterator") {
		got, err := k.GetRecords(&kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
		if must(err, "GetRecords") {
			check(len(got.Records) == 21 && bytes.Equal(got.Records[0].Data, []byte("hello")),
				"GetRecords returns the 21 records, first 'hello' (got %d)", len(got.Records))
		}
	}

	// ---- reshard: split the shard in the middle, then merge the children
	mid := new(big.Int).Lsh(big.NewInt(1), 127)
	_, err = k.SplitShard(&kinesis.SplitShardInput{StreamName: name, ShardToSplit: put.ShardId,
		NewStartingHashKey: aws.String(mid.String())})
	must(err, "SplitShard")
	waitActive(k, *name)
	shards, err := k.ListShards(&kinesis.ListShardsInput{StreamName: name})
	if must(err, "ListShards") {
		check(len(shards.Shards) == 3, "ListShards after a split: 3 shards (got %d)", len(shards.Shards))
	}
	open, err := k.ListShards(&kinesis.ListShardsInput{StreamName: name, ShardFilter: &kinesis.ShardFilter{Type: aws.String("AT_LATEST")}})
	if must(err, "ListShards AT_LATEST") && check(len(open.Shards) == 2, "two open children (got %d)", len(open.Shards)) {
		_, err = k.MergeShards(&kinesis.MergeShardsInput{StreamName: name, ShardToMerge: open.Shards[0].ShardId,
			AdjacentShardToMerge: open.Shards[1].ShardId})
		must(err, "MergeShards")
		waitActive(k, *name)
		all, err := k.ListShards(&kinesis.ListShardsInput{StreamName: name})
		if must(err, "ListShards after merge") {
			check(len(all.Shards) == 4, "ListShards after split and merge: 4 shards (got %d)", len(all.Shards))
		}
	}

	// ---- SubscribeToShard over an HTTP/2 stream
	sum, err := k.DescribeStreamSummary(&kinesis.DescribeStreamSummaryInput{StreamName: name})
	if !must(err, "DescribeStreamSummary") {
		return
	}
	reg, err := k.RegisterStreamConsumer(&kinesis.RegisterStreamConsumerInput{
		StreamARN: sum.StreamDescriptionSummary.StreamARN, ConsumerName: aws.String("go")})
	if !must(err, "RegisterStreamConsumer") {
		return
	}
	for i := 0; i < 400; i++ {
		d, err := k.DescribeStreamConsumer(&kinesis.DescribeStreamConsumerInput{ConsumerARN: reg.Consumer.ConsumerARN})
		if err == nil && aws.StringValue(d.ConsumerDescription.ConsumerStatus) == "ACTIVE" {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	latest, err := k.ListShards(&kinesis.ListShardsInput{StreamName: name, ShardFilter: &kinesis.ShardFilter{Type: aws.String("AT_LATEST")}})
	if !must(err, "ListShards for the subscription") || !check(len(latest.Shards) == 1, "one open shard after the merge") {
		return
	}
	shard := latest.Shards[0].ShardId
	sub, err := k.SubscribeToShard(&kinesis.SubscribeToShardInput{ConsumerARN: reg.Consumer.ConsumerARN, ShardId: shard,
		StartingPosition: &kinesis.StartingPosition{Type: aws.String("LATEST")}})
	if !must(err, "SubscribeToShard") {
		return
	}
	stream := sub.GetStream()
	defer stream.Close()
	putLive := false
	var seq *string
	var pushed []string
	deadline := time.After(20 * time.Second)
loop:
	for {
		select {
		case ev, ok := <-stream.Events():
			if !ok {
				break loop
			}
			e, isEvent := ev.(*kinesis.SubscribeToShardEvent)
			if !isEvent {
				continue
			}
			if !putLive {
				putLive = true
				p, err := k.PutRecord(&kinesis.PutRecordInput{StreamName: name, Data: []byte("pushed"), PartitionKey: aws.String("z")})
				if !must(err, "PutRecord while subscribed") {
					break loop
				}
				seq = p.SequenceNumber
			}
			for _, r := range e.Records {
				pushed = append(pushed, string(r.Data))
			}
			if len(pushed) > 0 {
				check(aws.StringValue(e.ContinuationSequenceNumber) == aws.StringValue(seq),
					"ContinuationSequenceNumber is the pushed record's")
				break loop
			}
		case <-deadline:
			break loop
		}
	}
	check(len(pushed) == 1 && pushed[0] == "pushed", "SubscribeToShard pushed the record over HTTP/2: %v (err %v)", pushed, stream.Err())
}
