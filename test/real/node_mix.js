// node_mix.js: node's own event loop and thread pool under the shim. An
// HTTP server answers three requests after 300, 100 and 200 ms (so they
// finish in that order: fastest first), while zlib, crypto.pbkdf2 and
// fs.readFile run on node's libuv thread pool and a timer fires. Prints
// what it got, in the order it got it, and writes the process's OS thread
// count, taken while the last answer arrives, to the file $THREADS_FILE.
'use strict';
const http = require('http');
const fs = require('fs');
const delays = [300, 100, 200];
const server = http.createServer((req, res) => {
  const i = Number(req.url.slice(1));
  setTimeout(() => res.end('answer ' + i), delays[i]);
});
server.listen(0, '127.0.0.1', () => {
  const port = server.address().port;
  let done = 0;
  for (let i = 0; i < 3; i++) {
    http.get({host: '127.0.0.1', port, path: '/' + i}, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        console.log('http', body);
        if (++done === 3) {
          // The runtime's scheduler threads (GPATCH_CORES, named
          // gpatch-sched) and its monitor (gpatch-monitor) do not run
          // node's code of their own.
          const n = fs.readdirSync('/proc/self/task').filter((t) => {
            try {
              const name = fs.readFileSync('/proc/self/task/' + t + '/comm',
                                           'utf8').trim();
              return name !== 'gpatch-sched' && name !== 'gpatch-monitor';
            } catch (e) {
              return false;
            }
          }).length;
          fs.writeFileSync(process.env.THREADS_FILE, n + '\n');
          server.close();
        }
      });
    });
  }
});
require('zlib').gzip(Buffer.alloc(1 << 20, 'a'), (err, out) =>
  console.log('gzip', err, require('zlib').gunzipSync(out).length));
require('crypto').pbkdf2('pw', 'salt', 20000, 16, 'sha256', (err, key) =>
  console.log('pbkdf2', err, key.toString('hex')));
fs.readFile(__filename, (err, data) => console.log('readFile', err, data.length));
setTimeout(() => console.log('timer 50 ms'), 50);
