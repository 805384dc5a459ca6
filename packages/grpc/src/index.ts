export type { BearerTokenInterceptorOptions } from "./access-control.js";
export { bearerTokenInterceptor } from "./access-control.js";
export type { SidecarConnectionOptions } from "./client/sidecar-stub.js";
export type { TaskHubGrpcClient, TaskHubGrpcClientOptions } from "./client/task-hub-grpc-client.js";
export { createTaskHubGrpcClient } from "./client/task-hub-grpc-client.js";
export type {
  ReconnectOptions,
  TaskHubGrpcWorker,
  TaskHubGrpcWorkerOptions,
} from "./client/task-hub-grpc-worker.js";
export { createTaskHubGrpcWorker } from "./client/task-hub-grpc-worker.js";
export type { GrpcExecutorOptions, WorkItemStream } from "./grpc-executor.js";
export { createGrpcExecutor, GrpcExecutor } from "./grpc-executor.js";
export type { SidecarServicesHandle, SidecarServicesOptions } from "./grpc-server.js";
export { addSidecarServices, toServiceError } from "./grpc-server.js";
export { grpcServiceDefinition } from "./service-definition.js";
export type { SidecarServer, SidecarServerOptions } from "./sidecar-server.js";
export {
  createSidecarServer,
  defaultMaxReceiveMessageBytes,
  maxMessageBytesLimit,
} from "./sidecar-server.js";
export type { CallContext, SidecarService, SidecarServiceOptions } from "./sidecar-service.js";
export { createSidecarService } from "./sidecar-service.js";
