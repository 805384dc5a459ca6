/**
 * The Durable Task wire messages and services (generated from `protos/` by protoc-gen-es), and
 * the standard gRPC health-checking service. Build messages with `create(XSchema, init)` from
 * `@bufbuild/protobuf`.
 *
 * @module
 */

export * as health from "./gen/health_pb.js";
export * from "./gen/orchestrator_service_pb.js";
