// Starts dynalite (DynamoDB on LevelDB, in memory) on loopback for
// tests/remote: tables become ACTIVE at once. Like kinesalite.js, it uses
// the module's listen() to bind 127.0.0.1.
// usage: node dynalite.js [PORT [CREATE_TABLE_MS]]
//   (port 0 or none picks a free port; prints "listening on URL"; a new
//   table stays CREATING for CREATE_TABLE_MS, default 0)
const dynalite = require('dynalite');

const server = dynalite({ createTableMs: Number(process.argv[3] || 0), deleteTableMs: 0, updateTableMs: 0 });
server.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
