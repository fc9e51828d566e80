// Starts kinesalite (in memory) on loopback for tests/remote: instant
// transitions, 100 shards. Its CLI has no host flag; its module's listen()
// takes one.
// usage: node kinesalite.js [PORT]   (0 or none picks a free port; prints "listening on URL")
const kinesalite = require('kinesalite');

const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 });
server.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
