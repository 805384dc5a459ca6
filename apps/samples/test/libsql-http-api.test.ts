import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { startHranaServer, startOtlpReceiver } from "@durabletask/testing";
import { afterAll, afterEach, describe, expect, it, onTestFinished } from "vitest";
import {
  type LibsqlHttpApi,
  main,
  type OrchestrationStatusJson,
  startLibsqlHttpApi,
} from "../src/libsql-http-api.js";
import {
  createSampleLogger,
  defaultLibsqlFile,
  libsqlDatabaseFromEnv,
  logFormatFromEnv,
  tracingFromEnv,
} from "../src/libsql-settings.js";
import { employeeIds, employees } from "../src/libsql-simple-orchestration.js";

const tmp = mkdtempSync(join(tmpdir(), "durabletask-libsql-sample-"));
const mainJs = fileURLToPath(new URL("../dist/main.js", import.meta.url));
let dbCount = 0;
const freshDbUrl = () => pathToFileURL(join(tmp, `api-${++dbCount}.db`)).href;

const running: LibsqlHttpApi[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((api) => api.stop()));
  for (const child of children.splice(0)) child.kill("SIGKILL");
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function start(url: string): Promise<LibsqlHttpApi> {
  const api = await startLibsqlHttpApi({ url, port: 0, host: "127.0.0.1" });
  running.push(api);
  return api;
}

/** POSTs `/workflow/simple`, then follows `Location` until the instance is terminal. */
async function runWorkflow(baseUrl: string, body?: string): Promise<OrchestrationStatusJson> {
  const posted = await fetch(`${baseUrl}/workflow/simple`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  expect(posted.status).toBe(202);
  const { id } = (await posted.json()) as { id: string };
  const location = posted.headers.get("location");
  expect(location).toBe(`/status/orchestration/${id}`);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const response = await fetch(new URL(location ?? "", baseUrl));
    expect(response.status).toBe(200);
    const status = (await response.json()) as OrchestrationStatusJson;
    expect(status).toMatchObject({ id, name: "SimpleOrchestration" });
    if (["COMPLETED", "FAILED", "TERMINATED"].includes(status.status)) return status;
    if (Date.now() > deadline) throw new Error(`still ${status.status} after 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const expectedEmployees = employeeIds.map((id) => employees[id]);

describe("libsql-http-api settings", () => {
  it("takes DURABLETASK_DEMO_DB_URL first, then HOST + SCHEME, then a local file", () => {
    expect(
      libsqlDatabaseFromEnv({
        DURABLETASK_DEMO_DB_URL: "ws://127.0.0.1:9000",
        DURABLETASK_DEMO_DB_HOST: "ignored:1",
        DURABLETASK_DEMO_DB_TOKEN: "t",
      }),
    ).toEqual({ url: "ws://127.0.0.1:9000", authToken: "t", source: "DURABLETASK_DEMO_DB_URL" });
    expect(libsqlDatabaseFromEnv({ DURABLETASK_DEMO_DB_HOST: "localhost:8181" })).toEqual({
      url: "http://localhost:8181",
      authToken: undefined,
      source: "DURABLETASK_DEMO_DB_HOST",
    });
    expect(
      libsqlDatabaseFromEnv({
        DURABLETASK_DEMO_DB_HOST: "mydb-me.turso.io",
        DURABLETASK_DEMO_DB_HOST_SCHEME: "libsql",
        DURABLETASK_DEMO_DB_TOKEN: "jwt",
      }),
    ).toMatchObject({ url: "libsql://mydb-me.turso.io", authToken: "jwt" });
    expect(
      libsqlDatabaseFromEnv({ DURABLETASK_DEMO_DB_URL: "", DURABLETASK_DEMO_DB_HOST: "" }),
    ).toEqual({
      url: `file:${defaultLibsqlFile}`,
      source: "default",
    });
    expect(() =>
      libsqlDatabaseFromEnv({
        DURABLETASK_DEMO_DB_HOST: "h",
        DURABLETASK_DEMO_DB_HOST_SCHEME: "ftp",
      }),
    ).toThrow(/^DURABLETASK_DEMO_DB_HOST_SCHEME: must be one of/);
  });

  it("reads the log format and the tracing switch", () => {
    expect(logFormatFromEnv({})).toBe("text");
    expect(logFormatFromEnv({ DURABLETASK_DEMO_LOG_FORMAT: "json" })).toBe("json");
    expect(() => logFormatFromEnv({ DURABLETASK_DEMO_LOG_FORMAT: "xml" })).toThrow(/xml/);
    expect(tracingFromEnv({ DURABLETASK_DEMO_TRACING: "1" })).toBe(true);
    expect(tracingFromEnv({ DURABLETASK_DEMO_TRACING: "0" })).toBe(false);
    expect(tracingFromEnv({})).toBe(false);
  });

  it("writes JSON log lines like the seed's slog handler", () => {
    const lines: string[] = [];
    const logger = createSampleLogger({
      format: "json",
      level: "info",
      write: (line) => lines.push(line),
    });
    logger.debug("dropped");
    logger.info("hello", { instanceId: "abc", msg: "not the message", error: new Error("boom") });
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0] ?? "{}") as Record<string, unknown>;
    expect(Object.keys(line).slice(0, 3)).toEqual(["time", "level", "msg"]);
    expect(line).toMatchObject({ level: "INFO", msg: "hello", instanceId: "abc", error: "boom" });
  });
});

describe("libsql-http-api", () => {
  it("runs SimpleOrchestration on a file: database through POST and Location", async () => {
    const api = await start(freshDbUrl());
    expect(api.port).toBeGreaterThan(0);
    const status = await runWorkflow(api.baseUrl, JSON.stringify({ requestedBy: "test" }));
    expect(status.status).toBe("COMPLETED");
    expect(status.output).toEqual({
      input: { requestedBy: "test" },
      employees: expectedEmployees,
      task2: "Task2 is not doing anything",
    });
    expect(Date.parse(status.createdAt)).not.toBeNaN();
    expect(Date.parse(status.lastUpdatedAt)).toBeGreaterThanOrEqual(Date.parse(status.createdAt));
    // No body: the input is null.
    expect((await runWorkflow(api.baseUrl)).output).toMatchObject({ input: null });
  }, 60_000);

  it("answers 404, 405 and 400 as JSON", async () => {
    const api = await start(freshDbUrl());
    const unknown = await fetch(`${api.baseUrl}/status/orchestration/nope`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: "no orchestration 'nope'" });
    expect((await fetch(`${api.baseUrl}/elsewhere`)).status).toBe(404);
    const get = await fetch(`${api.baseUrl}/workflow/simple`);
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    const bad = await fetch(`${api.baseUrl}/workflow/simple`, { method: "POST", body: "{oops" });
    expect(bad.status).toBe(400);
    expect(bad.headers.get("content-type")).toMatch(/^application\/json/);
  }, 30_000);

  it("keeps instances in the database across restarts", async () => {
    const url = freshDbUrl();
    const first = await start(url);
    const { id } = await runWorkflow(first.baseUrl);
    await first.stop();
    const second = await start(url);
    const response = await fetch(`${second.baseUrl}/status/orchestration/${id}`);
    expect(((await response.json()) as OrchestrationStatusJson).status).toBe("COMPLETED");
  }, 60_000);

  it("runs against a Hrana server over HTTP, configured like the seed (HOST + TOKEN)", async () => {
    const server = await startHranaServer({ authToken: "sample-token" });
    const lines: string[] = [];
    const controller = new AbortController();
    try {
      const done = main({
        env: {
          PORT: "0",
          DURABLETASK_DEMO_DB_HOST: new URL(server.httpUrl).host,
          DURABLETASK_DEMO_DB_TOKEN: "sample-token",
        },
        print: (line) => lines.push(line),
        signal: controller.signal,
      });
      await expect.poll(() => lines[0], { timeout: 20_000 }).toBeDefined();
      expect(lines[0]).toContain(`(libsql:${server.httpUrl}, from DURABLETASK_DEMO_DB_HOST)`);
      const baseUrl = /on (http:\/\/\S+)/.exec(lines[0] ?? "")?.[1] ?? "";
      const status = await runWorkflow(baseUrl, "42");
      expect(status).toMatchObject({ status: "COMPLETED", output: { input: 42 } });
      expect(server.stats.httpRequests).toBeGreaterThan(0);
      controller.abort();
      await done;
      expect(lines.join("\n")).not.toContain("sample-token");
    } finally {
      controller.abort();
      await server.close();
    }
  }, 60_000);

  it("main() reads the environment, exports spans with DURABLETASK_DEMO_TRACING, stops on abort", async () => {
    const receiver = await startOtlpReceiver();
    onTestFinished(() => receiver.close());
    const lines: string[] = [];
    const logs: string[] = [];
    const controller = new AbortController();
    const done = main({
      env: {
        PORT: "0",
        DURABLETASK_DEMO_DB_URL: freshDbUrl(),
        DURABLETASK_DEMO_DB_TOKEN: "never-printed",
        DURABLETASK_DEMO_TRACING: "1",
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_METRICS_EXPORTER: "none",
      },
      logger: createSampleLogger({ level: "warn", write: (line) => logs.push(line) }),
      print: (line) => lines.push(line),
      signal: controller.signal,
    });
    await expect
      .poll(() => lines.some((line) => line.startsWith("libsql-http-api on http://")))
      .toBe(true);
    const baseUrl = /on (http:\/\/\S+)/.exec(lines[0] ?? "")?.[1] ?? "";
    expect((await runWorkflow(baseUrl)).status).toBe("COMPLETED");
    controller.abort();
    await expect(done).resolves.toBeGreaterThan(0);
    expect(lines[0]).toContain("from DURABLETASK_DEMO_DB_URL");
    expect([...lines, ...logs].join("\n")).not.toContain("never-printed");
    // Stopping flushed the spans of the workflow that ran.
    const names = receiver.spans().map((span) => span.name);
    expect(names).toContain("create_orchestration||SimpleOrchestration");
    expect(names).toContain("orchestration||SimpleOrchestration");
  }, 60_000);

  it("runs from the samples CLI until SIGINT (exit 0)", async () => {
    const child = spawn(process.execPath, [mainJs, "libsql-http-api"], {
      cwd: tmp,
      env: {
        ...process.env,
        PORT: "0",
        DURABLETASK_DEMO_DB_URL: freshDbUrl(),
        DURABLETASK_DEMO_LOG_FORMAT: "json",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let stdout = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    await expect
      .poll(() => /on (http:\/\/\S+)/.exec(stdout)?.[1], { timeout: 20_000 })
      .toBeTruthy();
    const baseUrl = /on (http:\/\/\S+)/.exec(stdout)?.[1] ?? "";
    expect((await runWorkflow(baseUrl)).status).toBe("COMPLETED");
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(stdout).toContain("Stopping: draining in-flight work.");
  }, 60_000);
});
