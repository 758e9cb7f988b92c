// The echo server of the Node docs (net.createServer(c => c.pipe(c))),
// listening on 127.0.0.1:PORT (argv[2]).
const net = require('net');
net.createServer((c) => c.pipe(c)).listen(Number(process.argv[2]), '127.0.0.1');
