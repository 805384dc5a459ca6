import { type DescService, fromBinary, type MessageShape, toBinary } from "@bufbuild/protobuf";
import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";

/**
 * A `@grpc/grpc-js` service definition for a protobuf-es service: method paths are
 * `/<full service name>/<Method>` (so `/TaskHubSidecarService/Hello`, the path every Durable Task
 * SDK calls, because the contract has no package), and messages are (de)serialized with
 * protobuf-es. Unknown fields survive a decode/encode round trip.
 */
export function grpcServiceDefinition(service: DescService): ServiceDefinition {
  const definition: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    type In = MessageShape<typeof method.input>;
    type Out = MessageShape<typeof method.output>;
    definition[method.localName] = {
      path: `/${service.typeName}/${method.name}`,
      originalName: method.name,
      requestStream:
        method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
      responseStream:
        method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
      requestSerialize: (message: unknown) => Buffer.from(toBinary(method.input, message as In)),
      requestDeserialize: (bytes: Buffer) => fromBinary(method.input, bytes),
      responseSerialize: (message: unknown) => Buffer.from(toBinary(method.output, message as Out)),
      responseDeserialize: (bytes: Buffer) => fromBinary(method.output, bytes),
    } as MethodDefinition<unknown, unknown>;
  }
  return definition;
}
