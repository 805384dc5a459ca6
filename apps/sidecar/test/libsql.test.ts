// The built sidecar on the libsql backend: an embedded `file:` database, and a Hrana server (our
// test server speaking sqld's HTTP protocol) — as a user would run it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { health } from "@durabletask/api/proto";
import { createTaskHubGrpcClient, createTaskHubGrpcWorker } from "@durabletask/grpc";
import { createTaskRegistry } from "@durabletask/task";
import { startHranaServer } from "@durabletask/testing";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { checkHealth, killAll, nativeStorageLibraries, startCli } from "./cli-process.js";

const dir = mkdtempSync(join(tmpdir(), "durabletask-sidecar-libsql-"));
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

afterEach(killAll);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs one two-activity orchestration through the sidecar at `address` with our gRPC SDK. */
async function runOneOrchestration(address: string): Promise<unknown> {
  const registry = createTaskRegistry()
    .addActivity("Greet", async (_ctx, name: string) => `Hello, ${name}!`)
    .addOrchestrator("Greetings", async (ctx, names: string[]) => {
      const greetings: string[] = [];
      for (const name of names) greetings.push(await ctx.callActivity<string>("Greet", name));
      return greetings;
    });
  const worker = createTaskHubGrpcWorker({ address, registry, logger: quiet });
  const client = createTaskHubGrpcClient({ address, logger: quiet });
  await worker.start();
  try {
    const id = await client.scheduleNewOrchestration("Greetings", { input: ["libsql", "Hrana"] });
    const metadata = await client.waitForOrchestrationCompletion(id, { timeoutMs: 30_000 });
    expect(metadata.runtimeStatus).toBe("COMPLETED");
    return JSON.parse(metadata.serializedOutput ?? "null");
  } finally {
    client.close();
    await worker.stop();
  }
}

describe("durabletask-sidecar --backend libsql", () => {
  it("runs on a file: database: listening line, health, one orchestration, SIGTERM", async () => {
    const url = pathToFileURL(join(dir, "embedded.db")).href;
    const cli = startCli([
      "--backend",
      "libsql",
      "--libsql-url",
      url,
      "--port",
      "0",
      "--host",
      "127.0.0.1",
    ]);
    const port = await cli.listening();
    const line =
      cli
        .stderr()
        .split("\n")
        .find((l) => l.includes("listening on")) ?? "";
    expect(line).toMatch(
      new RegExp(`listening on 127\\.0\\.0\\.1:${port} \\(.*embedded\\.db.*\\)`),
    );
    expect(await checkHealth(`127.0.0.1:${port}`)).toBe(
      health.HealthCheckResponse_ServingStatus.SERVING,
    );
    await expect(runOneOrchestration(`127.0.0.1:${port}`)).resolves.toEqual([
      "Hello, libsql!",
      "Hello, Hrana!",
    ]);
    // Only the backend it runs on is loaded.
    expect(nativeStorageLibraries(cli.child.pid as number)).toEqual({
      betterSqlite3: false,
      libsql: true,
    });
    cli.child.kill("SIGTERM");
    expect(await cli.exited).toBe(0);
  }, 60_000);

  it("takes its settings from the environment too", async () => {
    const url = pathToFileURL(join(dir, "from-env.db")).href;
    const cli = startCli([], {
      DURABLETASK_BACKEND: "libsql",
      DURABLETASK_LIBSQL_URL: url,
      DURABLETASK_PORT: "0",
      DURABLETASK_HOST: "127.0.0.1",
    });
    const port = await cli.listening();
    expect(cli.stderr()).toContain("from-env.db");
    expect(await checkHealth(`127.0.0.1:${port}`)).toBe(
      health.HealthCheckResponse_ServingStatus.SERVING,
    );
    cli.child.kill("SIGINT");
    expect(await cli.exited).toBe(0);
  }, 30_000);

  it("runs against a Hrana server over HTTP and never prints the auth token", async () => {
    const token = "secret-token-4f9c1d";
    const server = await startHranaServer({ authToken: token });
    try {
      const cli = startCli(["--backend", "libsql", "--libsql-url", server.httpUrl, "--port", "0"], {
        DURABLETASK_LIBSQL_AUTH_TOKEN: token,
        DURABLETASK_HOST: "127.0.0.1",
      });
      const port = await cli.listening();
      const { host } = new URL(server.httpUrl);
      expect(cli.stderr()).toContain(host);
      await expect(runOneOrchestration(`127.0.0.1:${port}`)).resolves.toEqual([
        "Hello, libsql!",
        "Hello, Hrana!",
      ]);
      cli.child.kill("SIGTERM");
      expect(await cli.exited).toBe(0);
      expect(cli.stderr()).not.toContain(token);
    } finally {
      await server.close();
    }
  }, 60_000);

  it("sends a token given inside the URL, and masks it in the logs", async () => {
    const token = "url-token-77a0e2";
    const server = await startHranaServer({ authToken: token });
    try {
      const cli = startCli([
        "--backend",
        "libsql",
        "--libsql-url",
        `${server.httpUrl}?authToken=${token}`,
        "--port",
        "0",
        "--host",
        "127.0.0.1",
        "--log-level",
        "debug",
      ]);
      const port = await cli.listening();
      // The server checks the token: the orchestration runs only if the sidecar sent it.
      await expect(runOneOrchestration(`127.0.0.1:${port}`)).resolves.toHaveLength(2);
      cli.child.kill("SIGTERM");
      expect(await cli.exited).toBe(0);
      expect(cli.stderr()).not.toContain(token);
    } finally {
      await server.close();
    }
  }, 60_000);

  it("fails to start without the token the server requires (exit 1, the reason)", async () => {
    const server = await startHranaServer({ authToken: "required" });
    try {
      const cli = startCli([
        "--backend",
        "libsql",
        "--libsql-url",
        server.httpUrl,
        "--port",
        "0",
        "--host",
        "127.0.0.1",
      ]);
      expect(await cli.exited).toBe(1);
      expect(cli.stderr()).toMatch(/failed to start/);
    } finally {
      await server.close();
    }
  }, 60_000);
});
