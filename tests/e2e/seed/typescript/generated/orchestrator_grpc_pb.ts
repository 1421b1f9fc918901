// OrchestratorClient for the seed README's TypeScript example.
//
// The README generates this module with grpc-tools (`grpc_tools_node_protoc ... --grpc_out`),
// but grpc-tools' code generator is a native protoc plugin that its npm package downloads
// as a prebuilt binary at install time, which is not available here (only the npm registry
// is reachable). This module is the @grpc/proto-loader equivalent: it loads
// proto/orchestrator.proto at run time and builds the client with grpc.loadPackageDefinition,
// so the README's `import { OrchestratorClient } from './generated/orchestrator_grpc_pb'`
// stays unchanged.
//
// proto-loader runs with its defaults (as the README's own loadSync call does, which passes
// only includeDirs): field names are lowerCamelCase (userId, configJson, jobId), enums are
// accepted as their names ('PATTERN_COLLABORATIVE') or numbers in requests and come back
// as numbers in responses, int64 values come back as Long objects, and fields left at
// their default value are absent from responses.
//
// The proto folder is found by walking up from this file to a `proto/orchestrator.proto`
// (the repository root), or taken from $DIM_PROTO_DIR.

import * as fs from 'fs';
import * as path from 'path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

function findProtoDir(): string {
  const fromEnv = process.env.DIM_PROTO_DIR;
  if (fromEnv) {
    return fromEnv;
  }
  let dir = __dirname;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'proto', 'orchestrator.proto'))) {
      return path.join(dir, 'proto');
    }
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new Error(`proto/orchestrator.proto not found above ${__dirname}; set DIM_PROTO_DIR`);
    }
    dir = parent;
  }
}

export const protoDir = findProtoDir();

export const packageDefinition = protoLoader.loadSync('orchestrator.proto', {
  includeDirs: [protoDir],
});

// ---------------------------------------------------------------- enums (dim.common)

function enumValues(fullName: string): Record<string, number> {
  const def = packageDefinition[fullName] as protoLoader.EnumTypeDefinition | undefined;
  if (!def || def.format !== 'Protocol Buffer 3 EnumDescriptorProto') {
    throw new Error(`${fullName} is not an enum in ${protoDir}/orchestrator.proto`);
  }
  const values: Record<string, number> = {};
  for (const v of (def.type as { value: Array<{ name: string; number: number }> }).value) {
    values[v.name] = v.number;
  }
  return values;
}

/** Enum name -> number, read from common.proto. */
export const JobState = enumValues('dim.common.JobState');
export const Pattern = enumValues('dim.common.Pattern');
export const Priority = enumValues('dim.common.Priority');
export const NodeStatus = enumValues('dim.common.NodeStatus');

/** The JobState name of a response's `status` (a number with default options, or a name). */
export function jobStateName(value: number | string | null | undefined): string {
  if (typeof value === 'string') {
    return value;
  }
  const n = value ?? 0;
  return Object.keys(JobState).find((k) => JobState[k] === n) ?? `JOB_STATE_${n}`;
}

export const TERMINAL_JOB_STATES: ReadonlySet<string> = new Set([
  'JOB_STATE_COMPLETED',
  'JOB_STATE_FAILED',
  'JOB_STATE_CANCELLED',
]);

// ------------------------------------------------------------------- message types

type EnumValue = string | number;

export interface Error {
  code?: string;
  message?: string;
  details?: string;
}

export interface JobProgress {
  completedSteps?: number;
  totalSteps?: number;
  percentComplete?: number;
}

export interface NodeJobStatus {
  nodeId?: string;
  status?: string;
  executionTime?: string;
  error?: string;
  startedAt?: string;
  completedAt?: string;
}

export interface SubmitJobRequest {
  userId?: string;
  pattern?: EnumValue;
  configJson?: string;
  priority?: EnumValue;
  maxCost?: number;
}

export interface SubmitJobResponse {
  jobId?: string;
  status?: string;
  estimatedCost?: number;
  estimatedCompletion?: string;
  error?: Error;
}

export interface GetJobStatusRequest {
  jobId?: string;
}

export interface JobStatusResponse {
  jobId?: string;
  status?: EnumValue;
  pattern?: EnumValue;
  progress?: JobProgress;
  costActual?: number;
  resultJson?: string;
  error?: string;
  nodes?: NodeJobStatus[];
  createdAt?: string;
  startedAt?: string;
  completedAt?: string;
  estimatedCompletion?: string;
  userId?: string;
  priority?: EnumValue;
  configJson?: string;
}

export interface CancelJobRequest {
  jobId?: string;
  userId?: string;
}

export interface CancelJobResponse {
  success?: boolean;
  message?: string;
  error?: Error;
}

export interface GetJobResultRequest {
  jobId?: string;
}

export interface ResultMetadata {
  nodesUsed?: number;
  totalExecutionTime?: string;
  totalCost?: number;
  completedAt?: string;
}

export interface JobResultResponse {
  jobId?: string;
  resultJson?: string;
  metadata?: ResultMetadata;
  error?: Error;
  status?: EnumValue;
}

export interface ListJobsRequest {
  userId?: string;
  statusFilter?: EnumValue;
  limit?: number;
  offset?: number;
}

export interface ListJobsResponse {
  jobs?: JobStatusResponse[];
  total?: number;
  limit?: number;
  offset?: number;
}

// ------------------------------------------------------------------------- client

/** Callback of a unary call, as grpc-tools' generated clients type it. */
export type UnaryCallback<T> = (error: grpc.ServiceError | null, response: T) => void;

export interface UnaryMethod<Req, Res> {
  (request: Req, callback: UnaryCallback<Res>): grpc.ClientUnaryCall;
  (request: Req, metadata: grpc.Metadata, callback: UnaryCallback<Res>): grpc.ClientUnaryCall;
  (request: Req, options: Partial<grpc.CallOptions>, callback: UnaryCallback<Res>): grpc.ClientUnaryCall;
  (
    request: Req,
    metadata: grpc.Metadata,
    options: Partial<grpc.CallOptions>,
    callback: UnaryCallback<Res>,
  ): grpc.ClientUnaryCall;
}

/** Client of dim.orchestrator.Orchestrator (the seed RPCs, in lowerCamelCase). */
export interface OrchestratorClient extends grpc.Client {
  submitJob: UnaryMethod<SubmitJobRequest, SubmitJobResponse>;
  getJobStatus: UnaryMethod<GetJobStatusRequest, JobStatusResponse>;
  cancelJob: UnaryMethod<CancelJobRequest, CancelJobResponse>;
  getJobResult: UnaryMethod<GetJobResultRequest, JobResultResponse>;
  listJobs: UnaryMethod<ListJobsRequest, ListJobsResponse>;
  // Extension RPCs, untyped here.
  registerNode: UnaryMethod<Record<string, unknown>, Record<string, unknown>>;
  heartbeat: UnaryMethod<Record<string, unknown>, Record<string, unknown>>;
  listNodes: UnaryMethod<Record<string, unknown>, Record<string, unknown>>;
}

interface LoadedPackage {
  dim: { orchestrator: { Orchestrator: grpc.ServiceClientConstructor } };
}

const loaded = grpc.loadPackageDefinition(packageDefinition) as unknown as LoadedPackage;

export const OrchestratorClient = loaded.dim.orchestrator.Orchestrator as unknown as {
  new (
    address: string,
    credentials: grpc.ChannelCredentials,
    options?: Partial<grpc.ClientOptions>,
  ): OrchestratorClient;
  service: grpc.ServiceDefinition;
  serviceName: string;
};
