/**
 * The Durable Task wire messages (generated from `protos/orchestrator_service.proto` by
 * protoc-gen-es). Build messages with `create(XSchema, init)` from `@bufbuild/protobuf`.
 *
 * @module
 */
export * from "./gen/orchestrator_service_pb.js";
