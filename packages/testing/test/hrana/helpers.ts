import { type Client, type Config, createClient } from "@libsql/client";
import { afterEach, beforeEach } from "vitest";
import {
  type HranaServer,
  type HranaServerOptions,
  startHranaServer,
} from "../../src/hrana/index.js";

export type Transport = "http" | "ws";
export const transports: Transport[] = ["http", "ws"];

export interface HranaFixture {
  readonly server: HranaServer;
  /** A @libsql/client connected to the server over `transport`; closed after the test. */
  client(transport: Transport, config?: Omit<Config, "url">): Client;
}

/** Starts a fresh server before each test of the enclosing suite and closes it (and its clients) after. */
export function useHranaServer(options?: HranaServerOptions): HranaFixture {
  let current: HranaServer | undefined;
  const clients: Client[] = [];
  beforeEach(async () => {
    current = await startHranaServer(options);
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await current?.close();
    current = undefined;
  });
  return {
    get server(): HranaServer {
      if (current === undefined) throw new Error("the server runs only inside a test");
      return current;
    },
    client(transport, config = {}) {
      const server = this.server;
      const url = transport === "http" ? server.httpUrl : server.wsUrl;
      const client = createClient({ ...config, url });
      clients.push(client);
      return client;
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves to "pending" if `promise` has not settled within `ms`, else to how it settled. */
export async function stateAfter(
  promise: Promise<unknown>,
  ms: number,
): Promise<"pending" | "fulfilled" | "rejected"> {
  let state: "pending" | "fulfilled" | "rejected" = "pending";
  promise.then(
    () => {
      state = "fulfilled";
    },
    () => {
      state = "rejected";
    },
  );
  await sleep(ms);
  return state;
}

/** The rejection of `promise` (fails if it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error("expected the promise to reject, but it resolved");
}
