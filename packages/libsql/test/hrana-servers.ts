import type { BackendFactory } from "@durabletask/testing";
import { startHranaServer } from "@durabletask/testing";
import { afterAll, afterEach } from "vitest";
import { createLibsqlBackend, type LibsqlBackendOptions } from "../src/index.js";

/** A running Hrana v2 test server. */
export type HranaServer = Awaited<ReturnType<typeof startHranaServer>>;

/** The two ways @libsql/client talks to a server. */
export type Transport = "http" | "ws";

/** The server's URL for `transport`. */
export function urlOf(server: HranaServer, transport: Transport): string {
  return transport === "http" ? server.httpUrl : server.wsUrl;
}

/**
 * Starts Hrana test servers on demand; each is closed after the test that started it (after the
 * test's own cleanup stopped its backends), any left over after the file.
 */
export function hranaServers(): () => Promise<HranaServer> {
  const open: HranaServer[] = [];
  const closeAll = async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  };
  afterEach(closeAll);
  afterAll(closeAll);
  return async () => {
    const server = await startHranaServer();
    open.push(server);
    return server;
  };
}

/**
 * A conformance factory: every backend gets a server (a fresh, empty database) of its own,
 * reached over `transport`, with `latencyMs` added to every request.
 */
export function remoteFactory(
  transport: Transport,
  latencyMs = 0,
  extra: Partial<LibsqlBackendOptions> = {},
): BackendFactory {
  const startServer = hranaServers();
  return async (options) => {
    const server = await startServer();
    if (latencyMs > 0) server.setLatencyMs(latencyMs);
    return createLibsqlBackend({ ...extra, ...options, url: urlOf(server, transport) });
  };
}
