// gRPC load generator for bench/run.py: @grpc/grpc-js, several connections, unary calls.
//   node bench/grpc_load.js TARGET API_KEY METHOD ARG CONCURRENCY SECONDS CONNECTIONS
// METHOD: list (ListSourceServers page_size=ARG) or get (GetReplicationJob job_id=ARG).
// Prints one JSON line: {"requests", "errors", "seconds", "p50_ms", "p99_ms"}.
'use strict';

const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const [target, apiKey, method, arg, concurrencyText, secondsText, connectionsText] =
  process.argv.slice(2);
const root = path.resolve(__dirname, '..');
const definition = protoLoader.loadSync(
  ['smcgateway/v1/source_server_service.proto', 'smcgateway/v1/replication_job_service.proto'],
  {
    keepCase: true, // job_id, page_size as in the proto
    includeDirs: [path.join(root, 'proto'), path.join(root, 'third_party/googleapis')],
  },
);
const api = grpc.loadPackageDefinition(definition).smcgateway.v1;
const connections = Number(connectionsText);
const clients = [];
for (let i = 0; i < connections; i += 1) {
  const options = { 'grpc.use_local_subchannel_pool': 1 }; // a connection of its own each
  clients.push(method === 'list'
    ? new api.SourceServerService(target, grpc.credentials.createInsecure(), options)
    : new api.ReplicationJobService(target, grpc.credentials.createInsecure(), options));
}
const metadata = new grpc.Metadata();
metadata.add('authorization', `Bearer ${apiKey}`);
const latencies = [];
let errors = 0;
const deadline = Date.now() + Number(secondsText) * 1000;

function once(client) {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const done = (error) => {
      if (error) errors += 1;
      else latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
      resolve();
    };
    if (method === 'list') client.ListSourceServers({ page_size: Number(arg) }, metadata, done);
    else client.GetReplicationJob({ job_id: arg }, metadata, done);
  });
}

async function worker(index) {
  const client = clients[index % clients.length];
  while (Date.now() < deadline) {
    // eslint-disable-next-line no-await-in-loop
    await once(client);
  }
}

(async () => {
  const started = Date.now();
  await Promise.all(Array.from({ length: Number(concurrencyText) }, (_, i) => worker(i)));
  const seconds = (Date.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pick = (q) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] : null);
  process.stdout.write(`${JSON.stringify({
    requests: latencies.length, errors, seconds, p50_ms: pick(0.5), p99_ms: pick(0.99),
  })}\n`);
  clients.forEach((c) => c.close());
})();
