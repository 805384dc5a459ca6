import { create } from "@bufbuild/protobuf";
import { DurableTaskError } from "@durabletask/api";
import * as wire from "@durabletask/api/proto";
import { health } from "@durabletask/api/proto";
import { createSqliteBackend } from "@durabletask/sqlite";
import { createTaskRegistry } from "@durabletask/task";
import { makeTestCert, type TestCert } from "@durabletask/testing";
import {
  type ChannelCredentials,
  type Client,
  type ClientReadableStream,
  credentials,
  Metadata,
  makeGenericClientConstructor,
  ServerCredentials,
  type ServiceError,
  status,
} from "@grpc/grpc-js";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  bearerTokenInterceptor,
  createSidecarServer,
  createTaskHubGrpcClient,
  createTaskHubGrpcWorker,
  grpcServiceDefinition,
  type SidecarServer,
  type TaskHubGrpcClient,
  type TaskHubGrpcWorker,
} from "../../src/index.js";

vi.setConfig({ testTimeout: 30_000 });

const token = "s3cret-T0ken_for.tests";
const bearer = () => ({ authorization: `Bearer ${token}` });

type Callback = (error: ServiceError | null, response: unknown) => void;
type RawClient = Client &
  Record<string, (request: unknown, metadata: Metadata, callback: Callback) => void> & {
    getWorkItems(request: unknown, metadata: Metadata): ClientReadableStream<wire.WorkItem>;
  };
type HealthClient = Client & {
  check(request: unknown, callback: (e: ServiceError | null, r: unknown) => void): void;
};

let cert: TestCert;
let sidecar: SidecarServer | undefined;
const closers: (() => unknown)[] = [];

beforeAll(() => {
  cert = makeTestCert();
});
afterAll(() => cert.cleanup());
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await sidecar?.stop();
  sidecar = undefined;
});

function metadataOf(headers: Record<string, string>): Metadata {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(headers)) metadata.set(key, value);
  return metadata;
}

function rawClient(address: string, creds = credentials.createInsecure()): RawClient {
  const Constructor = makeGenericClientConstructor(
    grpcServiceDefinition(wire.TaskHubSidecarService),
    "Sidecar",
  );
  const client = new Constructor(address, creds) as unknown as RawClient;
  closers.push(() => client.close());
  return client;
}

/** The error (or null) of a unary `Hello` sent with `headers`. */
function hello(client: RawClient, headers: Record<string, string>): Promise<ServiceError | null> {
  return new Promise((resolve) =>
    client.hello?.call(
      client,
      create(wire.TaskHubSidecarService.method.hello.input, {}),
      metadataOf(headers),
      (error) => resolve(error),
    ),
  );
}

/** The error a `GetWorkItems` stream opened with `headers` ends with (null: first item came). */
function workItems(
  client: RawClient,
  headers: Record<string, string>,
): Promise<ServiceError | null> {
  return new Promise((resolve) => {
    const stream = client.getWorkItems(
      create(wire.GetWorkItemsRequestSchema, {}),
      metadataOf(headers),
    );
    stream.on("data", () => {
      stream.cancel();
      resolve(null);
    });
    stream.on("error", (error: ServiceError) => resolve(error));
  });
}

function checkHealth(address: string, creds: ChannelCredentials): Promise<unknown> {
  const Constructor = makeGenericClientConstructor(grpcServiceDefinition(health.Health), "Health");
  const client = new Constructor(address, creds) as unknown as HealthClient;
  closers.push(() => client.close());
  return new Promise((resolve, reject) =>
    client.check(create(health.HealthCheckRequestSchema, { service: "" }), (error, response) =>
      error ? reject(error) : resolve((response as health.HealthCheckResponse).status),
    ),
  );
}

async function runOrchestration(options: {
  address: string;
  credentials?: ChannelCredentials;
  metadata?: () => Record<string, string>;
}): Promise<string | undefined> {
  const registry = createTaskRegistry()
    .addActivity("Greet", (_ctx, name: string) => `hello ${name}`)
    .addOrchestrator("Hello", async (ctx, name: string) => ctx.callActivity("Greet", name));
  const worker: TaskHubGrpcWorker = createTaskHubGrpcWorker({ ...options, registry });
  closers.push(() => worker.stop());
  await worker.start();
  const client: TaskHubGrpcClient = createTaskHubGrpcClient(options);
  closers.push(() => client.close());
  const id = await client.scheduleNewOrchestration("Hello", { input: "tls" });
  const done = await client.waitForOrchestrationCompletion(id, { timeoutMs: 20_000 });
  expect(done.runtimeStatus).toBe("COMPLETED");
  return done.serializedOutput;
}

const start = (options: { authToken?: string; tls?: boolean } = {}) =>
  createSidecarServer({
    backend: createSqliteBackend(),
    host: "127.0.0.1",
    port: 0,
    drainTimeoutMs: 500,
    healthPingIntervalMs: 100,
    authToken: options.authToken,
    credentials: options.tls
      ? ServerCredentials.createSsl(null, [{ cert_chain: cert.cert, private_key: cert.key }])
      : undefined,
  });

describe("createSidecarServer({ authToken })", () => {
  it("serves calls and streams that carry the token (the clients' metadata option)", async () => {
    sidecar = await start({ authToken: token });
    const client = rawClient(sidecar.address);
    expect(await hello(client, bearer())).toBeNull();
    expect(await hello(client, { authorization: `bearer  ${token}` })).toBeNull();
    expect(await workItems(client, bearer())).toBeNull();
    expect(await runOrchestration({ address: sidecar.address, metadata: bearer })).toBe(
      '"hello tls"',
    );
  });

  it.each([
    ["missing", {}, /requires 'authorization: Bearer <token>' metadata/],
    ["wrong", { authorization: "Bearer not-the-token" }, /not valid for this sidecar/],
    ["a prefix of the", { authorization: `Bearer ${token.slice(0, -1)}` }, /not valid/],
    ["not a bearer", { authorization: `Basic ${token}` }, /must be 'Bearer <token>'/],
  ])(
    "refuses a %s token with UNAUTHENTICATED, unary and streaming",
    async (_, headers, details) => {
      sidecar = await start({ authToken: token });
      const client = rawClient(sidecar.address);
      for (const error of [await hello(client, headers), await workItems(client, headers)]) {
        expect(error?.code).toBe(status.UNAUTHENTICATED);
        expect(error?.details).toMatch(details);
        expect(error?.details).not.toContain(token);
        expect(error?.details).not.toContain("not-the-token");
      }
    },
  );

  it("refuses the gRPC client and worker without the token", async () => {
    sidecar = await start({ authToken: token });
    const client = createTaskHubGrpcClient({ address: sidecar.address });
    closers.push(() => client.close());
    const error = await client.getOrchestrationState("x").catch((e: unknown) => e);
    expect(DurableTaskError.is(error, "Unauthenticated")).toBe(true);
    expect(((error as Error).cause as ServiceError).code).toBe(status.UNAUTHENTICATED);
    const worker = createTaskHubGrpcWorker({
      address: sidecar.address,
      registry: createTaskRegistry(),
      startTimeoutMs: 500,
      metadata: () => ({ authorization: "Bearer nope" }),
    });
    closers.push(() => worker.stop());
    const startError = await worker.start().catch((e: unknown) => e);
    expect(DurableTaskError.is(startError, "Unavailable")).toBe(true);
    expect(((startError as Error).cause as Error).message).toMatch(/not valid for this sidecar/);
  });

  it("leaves the health service open for probes", async () => {
    sidecar = await start({ authToken: token });
    expect(await checkHealth(sidecar.address, credentials.createInsecure())).toBe(
      health.HealthCheckResponse_ServingStatus.SERVING,
    );
  });

  it("rejects a malformed token without echoing it, before starting anything", async () => {
    for (const bad of ["", "has space", "tab\there", "ümlaut"]) {
      const backend = createSqliteBackend();
      const error = await createSidecarServer({ backend, port: 0, authToken: bad }).catch(
        (e: unknown) => e,
      );
      expect(DurableTaskError.is(error, "InvalidArgument")).toBe(true);
      expect((error as Error).message).toMatch(/^authToken: /);
      if (bad !== "") expect((error as Error).message).not.toContain(bad);
      await backend.stop();
    }
    expect(() => bearerTokenInterceptor("x y")).toThrow(/authToken/);
  });
});

describe("createSidecarServer({ credentials: createSsl })", () => {
  it("runs an orchestration over TLS with a client and worker that trust the certificate", async () => {
    sidecar = await start({ tls: true, authToken: token });
    const tls = credentials.createSsl(cert.cert);
    // The certificate names localhost and 127.0.0.1; clients check it against the address.
    const address = `localhost:${sidecar.port}`;
    expect(await runOrchestration({ address, credentials: tls, metadata: bearer })).toBe(
      '"hello tls"',
    );
    expect(await checkHealth(`localhost:${sidecar.port}`, tls)).toBe(
      health.HealthCheckResponse_ServingStatus.SERVING,
    );
  });

  it("refuses plain-text clients", async () => {
    sidecar = await start({ tls: true });
    const error = await hello(rawClient(sidecar.address), {});
    expect(error?.code).toBe(status.UNAVAILABLE);
    const client = createTaskHubGrpcClient({ address: sidecar.address });
    closers.push(() => client.close());
    await expect(client.getOrchestrationState("x")).rejects.toThrow();
  });
});
