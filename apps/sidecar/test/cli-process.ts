// Runs the built sidecar (`dist/main.js`) as a child process, as a user would.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { create } from "@bufbuild/protobuf";
import * as wire from "@durabletask/api/proto";
import { health } from "@durabletask/api/proto";
import { grpcServiceDefinition } from "@durabletask/grpc";
import {
  type ChannelCredentials,
  type Client,
  type ClientReadableStream,
  credentials,
  Metadata,
  makeGenericClientConstructor,
  type ServiceError,
} from "@grpc/grpc-js";

export const mainJs = fileURLToPath(new URL("../dist/main.js", import.meta.url));

/**
 * Which storage engines' native libraries the running process `pid` has mapped (Linux
 * `/proc/<pid>/maps`): better-sqlite3's and libSQL's.
 */
export function nativeStorageLibraries(pid: number): { betterSqlite3: boolean; libsql: boolean } {
  const paths = readFileSync(`/proc/${pid}/maps`, "utf8")
    .split("\n")
    .map((line) => line.split(/\s+/).at(-1) ?? "")
    .filter((path) => path.endsWith(".node"));
  return {
    betterSqlite3: paths.some((path) => path.includes("better-sqlite3")),
    libsql: paths.some((path) => path.includes("libsql")),
  };
}

/** A sidecar process and what it printed. */
export interface CliProcess {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves with the port of the `durabletask sidecar listening on host:port` line; rejects if the process exits first. */
  listening(): Promise<number>;
  /** Resolves with the exit code (or signal name). */
  readonly exited: Promise<number | string>;
}

const started = new Set<ChildProcess>();

/** Kills every sidecar process still running (call in `afterEach`). */
export async function killAll(): Promise<void> {
  await Promise.all(
    [...started].map(
      (child) =>
        new Promise<void>((resolve) => {
          started.delete(child);
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once("exit", () => resolve());
          child.kill("SIGKILL");
        }),
    ),
  );
}

/** Starts `node dist/main.js …args` with `env` added to a clean environment. */
export function startCli(args: readonly string[], env: Record<string, string> = {}): CliProcess {
  if (!existsSync(mainJs)) throw new Error(`${mainJs} is missing: build the sidecar first`);
  const cleanEnv = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith("DURABLETASK_")),
  );
  const child = spawn(process.execPath, [mainJs, ...args], {
    env: { ...cleanEnv, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  started.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => {
      started.delete(child);
      resolve(code ?? signal ?? "unknown");
    }),
  );
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    listening: () =>
      new Promise((resolve, reject) => {
        const check = () => {
          const match = /durabletask sidecar listening on [^\s:]+:(\d+)/.exec(stderr);
          if (match) {
            child.stderr?.off("data", check);
            resolve(Number(match[1]));
          }
        };
        child.stderr?.on("data", check);
        check();
        void exited.then((code) =>
          reject(new Error(`sidecar exited (${code}) before listening:\n${stderr}`)),
        );
      }),
  };
}

type HealthClient = Client & {
  check(
    request: unknown,
    callback: (error: ServiceError | null, response: health.HealthCheckResponse) => void,
  ): void;
  watch(request: unknown): ClientReadableStream<health.HealthCheckResponse>;
};

/** A `grpc.health.v1.Health` client of `address`. */
export function healthClient(
  address: string,
  creds: ChannelCredentials = credentials.createInsecure(),
): HealthClient {
  const Constructor = makeGenericClientConstructor(grpcServiceDefinition(health.Health), "Health");
  return new Constructor(address, creds) as unknown as HealthClient;
}

/** The serving status `address` reports for the whole server (service ""). */
export function checkHealth(
  address: string,
  creds?: ChannelCredentials,
): Promise<health.HealthCheckResponse_ServingStatus> {
  const client = healthClient(address, creds);
  return new Promise((resolve, reject) =>
    client.check(create(health.HealthCheckRequestSchema, { service: "" }), (error, response) => {
      client.close();
      if (error) reject(error);
      else resolve(response.status);
    }),
  );
}

type Unary = (
  request: unknown,
  metadata: Metadata,
  callback: (error: ServiceError | null, response: unknown) => void,
) => void;

/** How {@link callSidecar} connects: channel credentials and metadata (e.g. `authorization`). */
export interface CallOptions {
  readonly credentials?: ChannelCredentials;
  readonly metadata?: Record<string, string>;
}

/** Calls a unary `TaskHubSidecarService` method (camelCase name) on `address`. */
export function callSidecar<T>(
  address: string,
  method: string,
  request: unknown,
  options: CallOptions = {},
): Promise<T> {
  const Constructor = makeGenericClientConstructor(
    grpcServiceDefinition(wire.TaskHubSidecarService),
    "Sidecar",
  );
  const client = new Constructor(
    address,
    options.credentials ?? credentials.createInsecure(),
  ) as unknown as Client & Record<string, Unary>;
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(options.metadata ?? {})) metadata.set(key, value);
  return new Promise((resolve, reject) =>
    client[method]?.call(client, request, metadata, (error, response) => {
      client.close();
      if (error) reject(error);
      else resolve(response as T);
    }),
  );
}
