import { create } from "@bufbuild/protobuf";
import * as wire from "@durabletask/api/proto";
import { grpcServiceDefinition } from "@durabletask/grpc";
import {
  type Client,
  credentials,
  makeGenericClientConstructor,
  type ServiceError,
} from "@grpc/grpc-js";

/** Wire statuses neither JS SDK can decode (protocol.md §3.1): CANCELED = 4, STALLED = 8. */
export const undecodableStatuses: readonly number[] = [4, 8];

type Unary = (
  request: unknown,
  callback: (error: ServiceError | null, response: wire.QueryInstancesResponse) => void,
) => void;

/**
 * Every instance's wire `orchestrationStatus` number as the sidecar reports it through
 * `QueryInstances` (raw protobuf, no SDK in between), keyed by instance id.
 */
export async function wireStatuses(address: string): Promise<Map<string, number>> {
  const Constructor = makeGenericClientConstructor(
    grpcServiceDefinition(wire.TaskHubSidecarService),
    "TaskHubSidecarService",
  );
  const client = new Constructor(address, credentials.createInsecure()) as unknown as Client & {
    queryInstances: Unary;
  };
  const statuses = new Map<string, number>();
  try {
    let continuationToken: string | undefined;
    for (let page = 0; page < 10_000; page++) {
      const request = create(wire.QueryInstancesRequestSchema, {
        query: { maxInstanceCount: 1000, continuationToken },
      });
      const response = await new Promise<wire.QueryInstancesResponse>((resolve, reject) =>
        client.queryInstances(request, (error, value) => (error ? reject(error) : resolve(value))),
      );
      for (const state of response.orchestrationState) {
        statuses.set(state.instanceId, state.orchestrationStatus);
      }
      continuationToken = response.continuationToken;
      if (!continuationToken) break;
    }
  } finally {
    client.close();
  }
  return statuses;
}
