#!/usr/bin/env node
// tools/s3/serve.js — the S3-compatible server of the tests and `make cluster`: s3rver
// (@20minutes/s3rver, package.json here) on loopback. It checks AWS Signature V4 with the
// fixed development key pair S3RVER / S3RVER and refuses a wrong signature with 403
// SignatureDoesNotMatch (tests/integration/it_s3.c proves it).
//
// Usage: node serve.js --dir DIR --bucket NAME [--listen 127.0.0.1:PORT] [--port-file FILE]
//                      [--cert PEM --key PEM]
// PORT 0 picks a free port; --port-file receives the bound port (written to a temporary
// file, then renamed). Runs until SIGTERM or SIGINT.
'use strict';

const fs = require('fs');
const path = require('path');
const S3rver = require('@20minutes/s3rver');

function args(argv) {
  const o = { listen: '127.0.0.1:0' };
  for (let i = 2; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '');
    if (!['dir', 'bucket', 'listen', 'port-file', 'cert', 'key'].includes(k) || i + 1 >= argv.length) {
      console.error(`serve.js: unknown or incomplete option ${argv[i]}`);
      process.exit(2);
    }
    o[k] = argv[i + 1];
  }
  if (!o.dir || !o.bucket) {
    console.error('usage: serve.js --dir DIR --bucket NAME [--listen HOST:PORT] [--port-file F]');
    process.exit(2);
  }
  return o;
}

async function main() {
  const o = args(process.argv);
  const at = o.listen.lastIndexOf(':');
  fs.mkdirSync(o.dir, { recursive: true });
  const opts = {
    address: o.listen.slice(0, at),
    port: Number(o.listen.slice(at + 1)),
    directory: o.dir,
    silent: true,
    configureBuckets: [{ name: o.bucket, configs: [] }],
  };
  if (o.cert) opts.cert = fs.readFileSync(o.cert);
  if (o.key) opts.key = fs.readFileSync(o.key);
  const server = new S3rver(opts);
  const { address, port } = await server.run();
  if (o['port-file']) {
    const tmp = path.join(path.dirname(o['port-file']), `.${path.basename(o['port-file'])}.tmp`);
    fs.writeFileSync(tmp, `${port}\n`);
    fs.renameSync(tmp, o['port-file']);
  }
  console.error(JSON.stringify({ msg: 's3 server listening', address, port, bucket: o.bucket }));
  const stop = () => server.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e) => {
  console.error(`serve.js: ${e.stack || e}`);
  process.exit(1);
});
