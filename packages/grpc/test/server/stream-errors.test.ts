import { create } from "@bufbuild/protobuf";
import * as wire from "@durabletask/api/proto";
import {
  type ClientReadableStream,
  credentials,
  makeGenericClientConstructor,
  type ServiceError,
  status,
} from "@grpc/grpc-js";
import { afterEach, expect, it } from "vitest";
import { grpcServiceDefinition } from "../../src/service-definition.js";
import { type RawSidecar, startRawSidecar } from "./raw-sidecar.js";

let sidecar: RawSidecar | undefined;
afterEach(async () => {
  await sidecar?.stop();
  sidecar = undefined;
});

interface StreamResult {
  readonly messages: unknown[];
  /** The status code the call ended with; -1 if it did not end within 3 s. */
  readonly code: number;
  readonly details: string;
}

/** Reads a server stream to its end; resolves with the messages and the final status. */
function readStream(
  method: "streamInstanceHistory" | "getWorkItems",
  request: unknown,
): Promise<StreamResult> {
  const Constructor = makeGenericClientConstructor(
    grpcServiceDefinition(wire.TaskHubSidecarService),
    "Sidecar",
  );
  const client = new Constructor(sidecar?.server.address ?? "", credentials.createInsecure());
  const call = (
    client as unknown as Record<string, (request: unknown) => ClientReadableStream<unknown>>
  )[method]?.call(client, request);
  return new Promise<StreamResult>((resolve) => {
    const messages: unknown[] = [];
    const timer = setTimeout(
      () => resolve({ messages, code: -1, details: "no status within 3 s" }),
      3000,
    );
    call?.on("data", (m: unknown) => messages.push(m));
    call?.on("error", (error: ServiceError) => {
      clearTimeout(timer);
      resolve({ messages, code: error.code, details: error.details });
    });
    call?.on("end", () => {
      clearTimeout(timer);
      resolve({ messages, code: status.OK, details: "" });
    });
  }).finally(() => {
    call?.cancel();
    client.close();
  });
}

// Regression: a failing server stream was destroy()ed, so grpc-js never sent a status and the
// caller (e.g. microsoft's getOrchestrationHistory of an unknown id) hung forever.
it("StreamInstanceHistory of an unknown instance ends with NOT_FOUND", async () => {
  sidecar = await startRawSidecar();
  const result = await readStream(
    "streamInstanceHistory",
    create(wire.StreamInstanceHistoryRequestSchema, { instanceId: "nope" }),
  );
  expect(result.code).toBe(status.NOT_FOUND);
  expect(result.details).toContain("nope");
});

it("GetWorkItems with a negative concurrency limit ends with INVALID_ARGUMENT", async () => {
  sidecar = await startRawSidecar();
  const result = await readStream(
    "getWorkItems",
    create(wire.GetWorkItemsRequestSchema, { maxConcurrentActivityWorkItems: -1 }),
  );
  expect(result.code).toBe(status.INVALID_ARGUMENT);
  expect(result.details).toContain("maxConcurrent");
});
