#!/usr/bin/env node
// A Node.js gRPC client of smc-gateway, as another team's service would write it: the
// protos loaded at run time with @grpc/proto-loader, rich errors decoded from the
// `grpc-status-details-bin` trailer. tests/e2e/test_node_grpc_client.py runs it.
//
// Usage: node client.js HOST:PORT API_KEY SCENARIO [GOOGLE_PROTOS_DIR]
//   SCENARIO: list | error | lifecycle
//   GOOGLE_PROTOS_DIR (or env GOOGLE_PROTOS_DIR): a directory holding
//   google/rpc/status.proto and google/rpc/error_details.proto (googleapis-common-protos
//   ships them in site-packages).
// Prints ONE JSON line with the results; exits 0 when the scenario ran (whatever the
// gateway answered), 2 on bad usage or a transport failure.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const REPO = path.resolve(__dirname, '..', '..', '..');
const DEADLINE_MS = 15000;
const LOADER_OPTIONS = {
  keepCase: true, // field names exactly as in the .proto files (snake_case)
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};
const CODE_NAMES = Object.fromEntries(Object.entries(grpc.status).map(([k, v]) => [v, k]));

function usage(message) {
  process.stderr.write(`${message}\nusage: node client.js HOST:PORT API_KEY SCENARIO [GOOGLE_PROTOS_DIR]\n`);
  process.exit(2);
}

function loadApi() {
  const definition = protoLoader.loadSync(
    ['smcgateway/v1/source_server_service.proto', 'smcgateway/v1/replication_job_service.proto'],
    {
      ...LOADER_OPTIONS,
      includeDirs: [path.join(REPO, 'proto'), path.join(REPO, 'third_party', 'googleapis')],
    },
  );
  return grpc.loadPackageDefinition(definition).smcgateway.v1;
}

function loadStatusTypes(googleProtosDir) {
  const statusProto = path.join(googleProtosDir, 'google', 'rpc', 'status.proto');
  if (!fs.existsSync(statusProto)) {
    usage(`no google/rpc/status.proto under ${googleProtosDir}`);
  }
  // Message types only: each entry has deserialize(Buffer) -> plain object.
  return protoLoader.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto'], {
    ...LOADER_OPTIONS,
    includeDirs: [googleProtosDir],
  });
}

// Decodes a call's rich status: google.rpc.Status and its known details.
function richStatus(statusTypes, metadata) {
  const raw = metadata ? metadata.get('grpc-status-details-bin') : [];
  if (!raw || raw.length === 0) {
    return null;
  }
  const status = statusTypes['google.rpc.Status'].deserialize(raw[0]);
  const details = status.details.map((any) => {
    const typeName = any.type_url.slice(any.type_url.lastIndexOf('/') + 1);
    const type = statusTypes[typeName];
    if (!type || typeof type.deserialize !== 'function') {
      return { type: typeName, unknown: true };
    }
    return { type: typeName, ...type.deserialize(any.value) };
  });
  return { code: status.code, message: status.message, details };
}

function summarizeError(statusTypes, err) {
  const rich = richStatus(statusTypes, err.metadata);
  const byType = (name) => (rich ? rich.details.find((d) => d.type === name) : undefined);
  const info = byType('google.rpc.ErrorInfo');
  const badRequest = byType('google.rpc.BadRequest');
  const retry = byType('google.rpc.RetryInfo');
  return {
    code: err.code,
    code_name: CODE_NAMES[err.code],
    message: err.details,
    status: rich ? { code: rich.code, message: rich.message } : null,
    detail_types: rich ? rich.details.map((d) => d.type) : [],
    reason: info ? info.reason : null,
    domain: info ? info.domain : null,
    error_metadata: info ? info.metadata : null,
    field_violations: badRequest
      ? badRequest.field_violations.map((v) => ({ field: v.field, description: v.description }))
      : [],
    retry_delay: retry ? retry.retry_delay : null,
  };
}

// Calls a unary method; resolves {response} or {error}, never rejects.
function unary(client, method, request, apiKey, statusTypes) {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${apiKey}`);
  return new Promise((resolve) => {
    client[method](request, metadata, { deadline: Date.now() + DEADLINE_MS }, (err, response) => {
      if (err) {
        resolve({ error: summarizeError(statusTypes, err) });
      } else {
        resolve({ response });
      }
    });
  });
}

async function scenarioList(clients, apiKey, statusTypes) {
  const { response, error } = await unary(
    clients.sources, 'ListSourceServers', { page_size: 50 }, apiKey, statusTypes,
  );
  if (error) {
    return { ok: false, error };
  }
  return {
    ok: true,
    total_size: response.total_size,
    ids: response.source_servers.map((s) => s.source_id),
    states: response.source_servers.map((s) => s.state),
  };
}

async function scenarioError(clients, apiKey, statusTypes) {
  const { response, error } = await unary(
    clients.jobs, 'GetReplicationJob', { job_id: 'bad id!' }, apiKey, statusTypes,
  );
  if (!error) {
    return { ok: true, unexpected_response: response };
  }
  return { ok: false, ...error };
}

async function scenarioLifecycle(clients, apiKey, statusTypes) {
  const steps = [];
  const step = async (name, client, method, request) => {
    const { response, error } = await unary(client, method, request, apiKey, statusTypes);
    const entry = error
      ? { step: name, ok: false, code: error.code, code_name: error.code_name, reason: error.reason }
      : { step: name, ok: true, code: 0, code_name: 'OK' };
    steps.push(entry);
    return { response, entry };
  };

  const listed = await step('list_sources', clients.sources, 'ListSourceServers', { page_size: 50 });
  if (!listed.entry.ok || listed.response.source_servers.length === 0) {
    return { steps };
  }
  const sources = listed.response.source_servers;
  const source = sources.find((s) => s.state === 'SOURCE_SERVER_STATE_AVAILABLE') || sources[0];
  listed.entry.source_id = source.source_id;

  const name = `e2e-node-${Date.now()}`;
  const created = await step('create', clients.jobs, 'CreateReplicationJob', {
    source_id: source.source_id,
    name,
    system_disk_size: 100,
  });
  if (!created.entry.ok) {
    return { steps };
  }
  const jobId = created.response.job_id;
  created.entry.job_id = jobId;

  const got = await step('get', clients.jobs, 'GetReplicationJob', { job_id: jobId });
  if (got.entry.ok) {
    got.entry.name = got.response.replication_job.name;
    got.entry.status = got.response.replication_job.status;
  }
  const renamed = `${name}-renamed`;
  const updated = await step('update', clients.jobs, 'UpdateReplicationJob', {
    job_id: jobId,
    name: renamed,
  });
  if (updated.entry.ok) {
    updated.entry.name = updated.response.replication_job.name;
  }
  await step('start', clients.jobs, 'StartReplicationJob', { job_id: jobId });
  // Stop needs Running + Syncing; right after start the job may not be there yet.
  await step('stop', clients.jobs, 'StopReplicationJob', { job_id: jobId });
  await step('delete', clients.jobs, 'DeleteReplicationJob', { job_id: jobId });
  return { job_id: jobId, steps };
}

const SCENARIOS = { list: scenarioList, error: scenarioError, lifecycle: scenarioLifecycle };

async function main() {
  const [target, apiKey, scenario, protosArg] = process.argv.slice(2);
  if (!target || !apiKey || !scenario) {
    usage('missing arguments');
  }
  if (!(scenario in SCENARIOS)) {
    usage(`unknown scenario ${scenario}; one of ${Object.keys(SCENARIOS).join(', ')}`);
  }
  const googleProtosDir = protosArg || process.env.GOOGLE_PROTOS_DIR;
  if (!googleProtosDir) {
    usage('GOOGLE_PROTOS_DIR (argument or environment) is required');
  }
  const statusTypes = loadStatusTypes(googleProtosDir);
  const api = loadApi();
  const credentials = grpc.credentials.createInsecure();
  const clients = {
    sources: new api.SourceServerService(target, credentials),
    jobs: new api.ReplicationJobService(target, credentials),
  };
  try {
    const result = await SCENARIOS[scenario](clients, apiKey, statusTypes);
    process.stdout.write(`${JSON.stringify({ scenario, ...result })}\n`);
  } finally {
    clients.sources.close();
    clients.jobs.close();
  }
}

main().catch((err) => {
  process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
  process.exit(2);
});
