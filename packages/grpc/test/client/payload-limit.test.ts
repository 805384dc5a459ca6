// A sidecar with a small maxReceiveMessageBytes: what callers, workers and the engine see when a
// payload is over it.
import { create, toBinary } from "@bufbuild/protobuf";
import { DurableTaskError } from "@durabletask/api";
import * as wire from "@durabletask/api/proto";
import { createSqliteBackend } from "@durabletask/sqlite";
import { createTaskRegistry, type OrchestrationContext } from "@durabletask/task";
import { Client, credentials, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { afterEach, expect, it } from "vitest";
import {
  createSidecarServer,
  createTaskHubGrpcClient,
  createTaskHubGrpcWorker,
  type SidecarServer,
  type TaskHubGrpcClient,
  type TaskHubGrpcWorker,
} from "../../src/index.js";

const limit = 64 * 1024;
const tooBig = "x".repeat(limit + 1);

let sidecar: SidecarServer | undefined;
let client: TaskHubGrpcClient | undefined;
let worker: TaskHubGrpcWorker | undefined;
afterEach(async () => {
  await worker?.stop();
  client?.close();
  await sidecar?.stop();
  worker = undefined;
  client = undefined;
  sidecar = undefined;
});

async function start(): Promise<{ sidecar: SidecarServer; client: TaskHubGrpcClient }> {
  sidecar = await createSidecarServer({
    backend: createSqliteBackend(),
    host: "127.0.0.1",
    port: 0,
    maxReceiveMessageBytes: limit,
    drainTimeoutMs: 500,
  });
  client = createTaskHubGrpcClient({ address: sidecar.address });
  return { sidecar, client };
}

it("refuses a request over the limit with PayloadTooLarge and stores nothing", async () => {
  const { client } = await start();
  const error = await client
    .scheduleNewOrchestration("any", { instanceId: "big", input: tooBig })
    .catch((e: unknown) => e);
  expect(DurableTaskError.is(error, "PayloadTooLarge")).toBe(true);
  expect((error as Error).message).toMatch(
    /larger than the sidecar accepts \(its --max-message-bytes\): Received message larger than max \(\d+ vs\.? 65536\)/,
  );
  expect(await client.getOrchestrationState("big")).toBeUndefined();
  const raised = await client.raiseEvent("big", "e", tooBig).catch((e: unknown) => e);
  expect(DurableTaskError.is(raised, "PayloadTooLarge")).toBe(true);
});

it("measures a compressed request by its decompressed size", async () => {
  const { sidecar } = await start();
  // gzip shrinks a megabyte of one letter to about a kilobyte on the wire.
  const raw = new Client(sidecar.address, credentials.createInsecure(), {
    "grpc.default_compression_algorithm": 2,
  });
  const request = create(wire.CreateInstanceRequestSchema, {
    instanceId: "bomb",
    name: "any",
    input: JSON.stringify("y".repeat(1024 * 1024)),
  });
  const answer = await new Promise<ServiceError | null>((resolve) =>
    raw.makeUnaryRequest(
      "/TaskHubSidecarService/StartInstance",
      (m: wire.CreateInstanceRequest) => Buffer.from(toBinary(wire.CreateInstanceRequestSchema, m)),
      (b: Buffer) => b,
      request,
      new Metadata(),
      (error) => resolve(error),
    ),
  );
  raw.close();
  expect(answer?.code).toBe(status.RESOURCE_EXHAUSTED);
  expect(answer?.details).toContain(`decompresses to a size larger than ${limit}`);
  expect(await client?.getOrchestrationState("bomb")).toBeUndefined();
});

it("fails an activity whose result is too large, and an orchestration whose output is, with PayloadTooLarge", async () => {
  const { sidecar, client } = await start();
  const registry = createTaskRegistry();
  registry.addActivity("huge", () => tooBig);
  registry.addOrchestrator("callsHuge", async (ctx: OrchestrationContext) => {
    try {
      await ctx.callActivity("huge");
      return "no error";
    } catch (error) {
      const details = (error as DurableTaskError).failureDetails;
      return `${details?.errorType}: ${details?.errorMessage}`;
    }
  });
  registry.addOrchestrator("returnsHuge", () => tooBig);
  worker = createTaskHubGrpcWorker({ address: sidecar.address, registry, drainTimeoutMs: 500 });
  await worker.start();

  const caught = await client.scheduleNewOrchestration("callsHuge");
  const done = await client.waitForOrchestrationCompletion(caught, { timeoutMs: 20_000 });
  expect(done.runtimeStatus).toBe("COMPLETED");
  expect(JSON.parse(done.serializedOutput ?? "null")).toMatch(
    /^PayloadTooLarge: the result could not be delivered: the message is larger than the sidecar accepts/,
  );

  const returned = await client.scheduleNewOrchestration("returnsHuge");
  const failed = await client.waitForOrchestrationCompletion(returned, { timeoutMs: 20_000 });
  expect(failed.runtimeStatus).toBe("FAILED");
  expect(failed.failureDetails?.errorType).toBe("PayloadTooLarge");
  expect(failed.failureDetails?.errorMessage).toContain("Received message larger than max");
});

it("rejects a maxReceiveMessageBytes that is not a positive integer", async () => {
  for (const bad of [0, -1, 1.5, Number.NaN, 2 ** 31]) {
    const error = await createSidecarServer({
      backend: createSqliteBackend(),
      port: 0,
      maxReceiveMessageBytes: bad,
    }).catch((e: unknown) => e);
    expect(DurableTaskError.is(error, "InvalidArgument")).toBe(true);
    expect((error as Error).message).toMatch(/^maxReceiveMessageBytes: must be an integer/);
  }
});
