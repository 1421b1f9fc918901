// The original DIM protocol README's TypeScript example, run against a live orchestrator.
//
//   ./run.sh ADDR          (or: node dist/example.js ADDR, from the repository root)
//
// The README's code is kept as written; the only changes are the address (argv[2], else
// $DIM_SERVER, else the README's 'localhost:50051') and one added call at the end of the
// submit callback that follows the job: it polls getJobStatus until the job is terminal
// (deadline 60 s), prints the final state name, and exits 0 only for JOB_STATE_COMPLETED.
// Exit codes: 0 COMPLETED; 1 FAILED/CANCELLED/not finished in time; 3 an RPC failed.
//
// With $DIM_TLS_CA (and $DIM_TOKEN) set, only the channel credentials change: TLS that
// verifies the orchestrator against that CA, with `authorization: Bearer TOKEN` on every call.
//
// The README loads 'orchestrator.proto' from './proto', so run it from the repository root.

import * as fs from 'fs';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { OrchestratorClient } from './generated/orchestrator_grpc_pb';
import { SubmitJobResponse, TERMINAL_JOB_STATES, jobStateName } from './generated/orchestrator_grpc_pb';

const address = process.argv[2] || process.env.DIM_SERVER || 'localhost:50051';
const DEADLINE_MS = 60_000;

// The README's createInsecure(), or TLS and the token when the environment gives them.
function channelCredentials(): grpc.ChannelCredentials {
  const ca = process.env.DIM_TLS_CA;
  if (!ca) {
    return grpc.credentials.createInsecure();
  }
  const tls = grpc.credentials.createSsl(fs.readFileSync(ca));
  const token = process.env.DIM_TOKEN;
  if (!token) {
    return tls;
  }
  const bearer = grpc.credentials.createFromMetadataGenerator((_params, callback) => {
    const metadata = new grpc.Metadata();
    metadata.add('authorization', `Bearer ${token}`);
    callback(null, metadata);
  });
  return grpc.credentials.combineChannelCredentials(tls, bearer);
}

// ---------------------------------------------------------------- README example

// Load proto
const packageDefinition = protoLoader.loadSync('orchestrator.proto', {
  includeDirs: ['./proto']
});

// Create client
const client = new OrchestratorClient(
  address,
  channelCredentials()
);

// Submit job
const request = {
  userId: 'user-123',
  pattern: 'PATTERN_COLLABORATIVE',
  configJson: JSON.stringify({ modelId: 'model-abc', nodes: ['node-001'] }),
  priority: 'PRIORITY_NORMAL'
};

client.submitJob(request, (error, response) => {
  if (error) {
    console.error(error);
  } else {
    console.log(`Job ID: ${response.jobId}`);
  }
  followJob(error, response); // added: follow the job until it ends
});

// ------------------------------------------------------------ follow the job

function finish(code: number): void {
  process.exitCode = code;
  client.close();
}

function followJob(error: grpc.ServiceError | null, response: SubmitJobResponse): void {
  if (error) {
    finish(3);
    return;
  }
  const jobId = response.jobId;
  if (!jobId) {
    console.error(`SubmitJob returned no job id: ${JSON.stringify(response)}`);
    finish(1);
    return;
  }
  if (packageDefinition['dim.orchestrator.Orchestrator'] === undefined) {
    console.error('the README\'s loadSync did not load dim.orchestrator.Orchestrator');
    finish(1);
    return;
  }
  const deadline = Date.now() + DEADLINE_MS;
  const poll = (): void => {
    client.getJobStatus({ jobId }, { deadline: Date.now() + 10_000 }, (err, status) => {
      if (err) {
        console.error(`GetJobStatus failed: ${grpc.status[err.code]}: ${err.details}`);
        finish(3);
        return;
      }
      const state = jobStateName(status.status);
      if (TERMINAL_JOB_STATES.has(state) || Date.now() >= deadline) {
        console.log(state);
        if (!TERMINAL_JOB_STATES.has(state)) {
          console.error(`job ${jobId} not finished after ${DEADLINE_MS / 1000} s`);
        } else if (state !== 'JOB_STATE_COMPLETED' && status.error) {
          console.error(`job error: ${status.error}`);
        }
        finish(state === 'JOB_STATE_COMPLETED' ? 0 : 1);
        return;
      }
      setTimeout(poll, 200);
    });
  };
  poll();
}
