// Preloaded into kinesis-mock (node -r ./loopback.js main.js) by bench/endpoint/run:
// kinesis-mock listens on 0.0.0.0 and has no host setting, so bind its servers
// to loopback instead (the benchmark sends traffic to 127.0.0.1 only).
const net = require('net');

const listen = net.Server.prototype.listen;
const wildcard = (h) => h === undefined || h === null || h === '0.0.0.0' || h === '::';
net.Server.prototype.listen = function (...args) {
  if (args.length > 0 && typeof args[0] === 'object' && args[0] !== null && 'port' in args[0]) {
    if (wildcard(args[0].host)) args[0] = { ...args[0], host: '127.0.0.1' };
  } else if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]))) {
    if (typeof args[1] === 'string') {
      if (wildcard(args[1])) args[1] = '127.0.0.1';
    } else {
      args.splice(1, 0, '127.0.0.1');
    }
  }
  return listen.apply(this, args);
};
