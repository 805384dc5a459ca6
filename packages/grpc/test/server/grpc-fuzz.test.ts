// Hostile input to every gRPC method of a real sidecar on 127.0.0.1: thousands of random,
// mutated and malformed requests (seeded; FUZZ_SEED=<n> replays a run, FUZZ_LONG=1 sends many
// more). The sidecar must answer each within a deadline with a status that method may answer,
// never INTERNAL or UNKNOWN, keep serving orchestrations, and leave a consistent database.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  create,
  type DescMessage,
  type DescService,
  fromBinary,
  toBinary,
} from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { EmptySchema } from "@bufbuild/protobuf/wkt";
import * as wire from "@durabletask/api/proto";
import { createTaskRegistry, type OrchestrationContext } from "@durabletask/task";
import { checkTaskHubFile } from "@durabletask/testing";
import { Client, credentials, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { afterEach, expect, it } from "vitest";
import { createTaskHubGrpcClient, createTaskHubGrpcWorker } from "../../src/index.js";
import { fuzzInput, knownInstanceIds, Random } from "./fuzz-input.js";
import { isOrchestration, type RawSidecar, startRawSidecar } from "./raw-sidecar.js";

const long = process.env.FUZZ_LONG === "1";
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
/** Inputs per method: a few seconds in CI, many more with FUZZ_LONG=1. */
const perMethod = long ? 2000 : 100;
const concurrency = 16;
const inputsPerConnection = 500;
/** Every call must have answered by then (long polls and streams excepted, see below). */
const answerMs = 10_000;

let sidecar: RawSidecar | undefined;
let dir: string | undefined;
afterEach(async () => {
  await sidecar?.stop();
  sidecar = undefined;
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Statuses any method may answer to bad input; INTERNAL and UNKNOWN are never among them. */
const expected = new Set([
  status.OK,
  status.INVALID_ARGUMENT,
  status.NOT_FOUND,
  status.FAILED_PRECONDITION,
  status.ALREADY_EXISTS,
  status.UNIMPLEMENTED,
  status.RESOURCE_EXHAUSTED,
]);
/** Methods that may legitimately outlive the caller's deadline: long polls and streams. */
const mayWait = new Set([
  "WaitForInstanceStart",
  "WaitForInstanceCompletion",
  "GetWorkItems",
  "Watch",
]);
/** Methods that delete the task hub when they decode; fuzzed only with undecodable bytes here. */
const destructive = new Set(["DeleteTaskHub", "CreateTaskHub"]);

interface Method {
  readonly path: string;
  readonly name: string;
  readonly input: DescMessage;
  readonly stream: boolean;
}

function methodsOf(...services: DescService[]): Method[] {
  return services.flatMap((service) =>
    service.methods.map((m) => ({
      path: `/${service.typeName}/${m.name}`,
      name: m.name,
      input: m.input,
      stream: m.methodKind === "server_streaming",
    })),
  );
}

interface Answer {
  readonly code: number;
  readonly details: string;
}

const identity = (b: Buffer): Buffer => b;

/** Sends raw request bytes; resolves with the status (OK for a stream still open at `waitMs`). */
function send(client: Client, method: Method, bytes: Uint8Array, waitMs: number): Promise<Answer> {
  const deadline = Date.now() + (mayWait.has(method.name) ? waitMs : answerMs);
  return new Promise((resolve) => {
    if (!method.stream) {
      client.makeUnaryRequest(
        method.path,
        identity,
        identity,
        Buffer.from(bytes),
        new Metadata(),
        { deadline },
        (error: ServiceError | null) =>
          resolve(error ? { code: error.code, details: error.details } : { code: 0, details: "" }),
      );
      return;
    }
    const call = client.makeServerStreamRequest(
      method.path,
      identity,
      identity,
      Buffer.from(bytes),
      new Metadata(),
      { deadline },
    );
    // A stream that keeps sending or stays open has accepted the request; cancel it then.
    const timer = setTimeout(() => {
      call.cancel();
      resolve({ code: 0, details: "open" });
    }, waitMs);
    call.on("data", () => {});
    call.on("error", (error: ServiceError) => {
      clearTimeout(timer);
      resolve({ code: error.code, details: error.details });
    });
    call.on("end", () => {
      clearTimeout(timer);
      resolve({ code: 0, details: "" });
    });
  });
}

/** Bytes no protobuf decoder accepts: field 1 with the invalid wire type 7. */
function undecodable(rnd: Random): Uint8Array {
  return new Uint8Array([0x0f, ...rnd.bytes(rnd.int(0, 8))]);
}

/**
 * A fake SDK worker that answers every work item with a fuzzed completion that carries the real
 * completion token (appended last, so it wins), to push random actions and results into the
 * engine through the front door.
 */
function hostileWorker(
  client: Client,
  rnd: Random,
  onAnswer: (method: string, answer: Answer) => void,
): { stop(): void } {
  const call = client.makeServerStreamRequest(
    "/TaskHubSidecarService/GetWorkItems",
    identity,
    identity,
    Buffer.from(toBinary(wire.GetWorkItemsRequestSchema, create(wire.GetWorkItemsRequestSchema))),
    new Metadata(),
  );
  call.on("error", () => {});
  call.on("data", (bytes: Buffer) => {
    let decoded: wire.WorkItem;
    try {
      decoded = fromBinary(wire.WorkItemSchema, bytes);
    } catch {
      return;
    }
    const kind = decoded.request.case;
    if (kind !== "orchestratorRequest" && kind !== "activityRequest") return;
    const schema =
      kind === "orchestratorRequest"
        ? wire.OrchestratorResponseSchema
        : wire.ActivityResponseSchema;
    const tokenField = schema.fields.find((f) => f.name === "completionToken")?.number ?? 0;
    const w = new BinaryWriter();
    w.raw(fuzzInput(schema, rnd));
    w.tag(tokenField, WireType.LengthDelimited).string(decoded.completionToken);
    const method =
      kind === "orchestratorRequest" ? "CompleteOrchestratorTask" : "CompleteActivityTask";
    client.makeUnaryRequest(
      `/TaskHubSidecarService/${method}`,
      identity,
      identity,
      Buffer.from(w.finish()),
      new Metadata(),
      { deadline: Date.now() + answerMs },
      (error: ServiceError | null) =>
        onAnswer(
          method,
          error ? { code: error.code, details: error.details } : { code: 0, details: "" },
        ),
    );
  });
  return { stop: () => call.cancel() };
}

async function inPool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  const lanes = Array.from({ length: limit }, async () => {
    while (next < items.length) await fn(items[next++] as T);
  });
  await Promise.all(lanes);
}

it(`answers ${perMethod} hostile requests per method with expected statuses (seed ${seed})`, {
  timeout: long ? 3_600_000 : 120_000,
}, async () => {
  dir = mkdtempSync(join(tmpdir(), "dt-fuzz-"));
  const path = join(dir, "hub.sqlite3");
  sidecar = await startRawSidecar({
    sqlite: { path, orchestrationLockTimeoutMs: 1000, activityLockTimeoutMs: 1000 },
    healthPingIntervalMs: 50,
  });
  const rnd = new Random(seed);
  const client = new Client(sidecar.server.address, credentials.createInsecure());
  const wrong: string[] = [];
  const counts = new Map<string, number>();
  const record = (method: string, answer: Answer, input: Uint8Array) => {
    const key = `${method} ${status[answer.code]}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    const ok =
      expected.has(answer.code) ||
      (mayWait.has(method) && answer.code === status.DEADLINE_EXCEEDED);
    if (!ok && wrong.length < 20) {
      wrong.push(
        `${method} → ${status[answer.code]} "${answer.details}" for ${Buffer.from(input.slice(0, 200)).toString("base64")}`,
      );
    }
  };
  // Instances for the hostile worker to answer with random actions and results.
  for (let i = 0; i < 20; i++) {
    await sidecar.call("startInstance", wire.CreateInstanceRequestSchema, {
      instanceId: `seeded-${i}`,
      name: "Seeded",
      input: String(i),
    });
  }
  let hostileAnswers = 0;
  const worker = hostileWorker(client, new Random(seed + 1), (method, answer) => {
    hostileAnswers++;
    record(`hostile ${method}`, answer, new Uint8Array());
  });
  const methods = methodsOf(wire.TaskHubSidecarService, wire.health.Health);
  const inputs: { method: Method; bytes: Uint8Array }[] = [];
  for (let i = 0; i < perMethod; i++) {
    for (const method of methods) {
      const bytes = destructive.has(method.name) ? undecodable(rnd) : fuzzInput(method.input, rnd);
      inputs.push({ method, bytes });
    }
  }
  try {
    // A fresh connection every few hundred inputs: the fuzzer cancels streams and long polls
    // much faster than any SDK, and HTTP/2's rapid-reset protection (a burst of 1,000 resets,
    // then about 33 a second) rightly closes a connection that keeps doing that.
    for (let start = 0; start < inputs.length; start += inputsPerConnection) {
      // (A local subchannel pool: clients of one address otherwise share one connection.)
      const connection = new Client(sidecar.server.address, credentials.createInsecure(), {
        "grpc.use_local_subchannel_pool": 1,
      });
      try {
        await inPool(
          inputs.slice(start, start + inputsPerConnection),
          concurrency,
          async (input) => {
            record(
              input.method.name,
              await send(connection, input.method, input.bytes, 50),
              input.bytes,
            );
          },
        );
      } finally {
        connection.close();
      }
    }
  } finally {
    worker.stop();
    client.close();
  }
  if (process.env.FUZZ_DEBUG) console.log([...counts].filter(([k]) => k.startsWith("hostile")));
  expect(wrong, `seed ${seed}: unexpected answers (FUZZ_SEED=${seed} replays)`).toEqual([]);
  // Every method was reached, and not only with rejections: the fuzzer also got past validation.
  for (const method of methods) {
    expect([...counts.keys()].some((k) => k.startsWith(`${method.name} `))).toBe(true);
  }
  expect(counts.get("StartInstance OK") ?? 0, `seed ${seed}`).toBeGreaterThan(0);
  expect(hostileAnswers, `seed ${seed}: completions with real tokens`).toBeGreaterThan(0);

  // Still serves a normal orchestration, end to end through our SDK.
  const registry = createTaskRegistry();
  registry.addActivity("double", (_ctx, n: number) => n * 2);
  registry.addOrchestrator("normal", (ctx: OrchestrationContext, n: number) =>
    ctx.callActivity<number>("double", n),
  );
  const sdkWorker = createTaskHubGrpcWorker({ address: sidecar.server.address, registry });
  const sdkClient = createTaskHubGrpcClient({ address: sidecar.server.address });
  try {
    await sdkWorker.start();
    const id = await sdkClient.scheduleNewOrchestration("normal", { input: 21 });
    const done = await sdkClient.waitForOrchestrationCompletion(id, { timeoutMs: 20_000 });
    expect(done.runtimeStatus, `seed ${seed}`).toBe("COMPLETED");
    expect(done.serializedOutput).toBe("42");
  } finally {
    await sdkWorker.stop();
    sdkClient.close();
  }
  await sidecar.stop();
  sidecar = undefined;
  expect(checkTaskHubFile(path), `seed ${seed}: database invariants`).toEqual([]);
});

it("answers undecodable requests with INVALID_ARGUMENT naming the method, not INTERNAL", async () => {
  sidecar = await startRawSidecar();
  const client = new Client(sidecar.server.address, credentials.createInsecure());
  try {
    for (const method of methodsOf(wire.TaskHubSidecarService, wire.health.Health)) {
      const answer = await send(client, method, new Uint8Array([0x0f, 0x01]), 2000);
      expect(answer.code, method.name).toBe(status.INVALID_ARGUMENT);
      expect(answer.details, method.name).toContain(method.name);
    }
  } finally {
    client.close();
  }
  // The hub survived DeleteTaskHub/CreateTaskHub garbage: the known ids are simply absent.
  const metadata = await sidecar.backend.getOrchestrationMetadata(knownInstanceIds[0] as string);
  expect(metadata).toBeUndefined();
});

// Regression: DeleteTaskHub stops the backend, and CreateTaskHub created the tables but left it
// stopped, so every later call answered UNAVAILABLE until the sidecar was restarted.
it("serves again after DeleteTaskHub and CreateTaskHub", async () => {
  sidecar = await startRawSidecar();
  await sidecar.call("startInstance", wire.CreateInstanceRequestSchema, {
    instanceId: "old",
    name: "N",
  });
  await sidecar.call("deleteTaskHub", wire.DeleteTaskHubRequestSchema, {});
  const gone = await sidecar
    .call("getInstance", wire.GetInstanceRequestSchema, { instanceId: "old" })
    .catch((e: ServiceError) => e);
  expect((gone as ServiceError).code).toBe(status.UNAVAILABLE);
  await sidecar.call("createTaskHub", wire.CreateTaskHubRequestSchema, {});
  const worker = sidecar.connectWorker();
  await sidecar.call("startInstance", wire.CreateInstanceRequestSchema, {
    instanceId: "new",
    name: "N",
  });
  const item = await worker.next(isOrchestration("new"));
  expect(item.request.case).toBe("orchestratorRequest");
  const old = await sidecar.call<typeof wire.GetInstanceRequestSchema, wire.GetInstanceResponse>(
    "getInstance",
    wire.GetInstanceRequestSchema,
    { instanceId: "old" },
  );
  expect(old.exists).toBe(false);
});

// Regression: status messages quoted the caller's input whole; a megabyte there (here, a
// completion token) made the caller's HTTP/2 layer tear down the connection, failing every
// other call on it with INTERNAL.
it("answers a megabyte-long token with a bounded NOT_FOUND, and the connection keeps working", async () => {
  sidecar = await startRawSidecar();
  const error = (await sidecar
    .call("completeOrchestratorTask", wire.OrchestratorResponseSchema, {
      completionToken: "t".repeat(1_000_000),
    })
    .catch((e: unknown) => e)) as ServiceError;
  expect(error.code).toBe(status.NOT_FOUND);
  expect(error.details).toMatch(
    /^No outstanding orchestration work item matches completion token 'tttt/,
  );
  expect(error.details).toMatch(/… \(\d+ more characters\)$/);
  expect(error.details.length).toBeLessThan(2100);
  await sidecar.call("hello", EmptySchema, {});
});
