import { createServer, type Server } from "node:net";
import { DurableTaskError } from "@durabletask/api";
import { createSqliteBackend } from "@durabletask/sqlite";
import { afterEach, describe, expect, it } from "vitest";
import { createSidecarServer } from "../../src/sidecar-server.js";

let blocker: Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (blocker ? blocker.close(() => resolve()) : resolve()));
  blocker = undefined;
});

function occupyPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    blocker = createServer();
    blocker.once("error", reject);
    blocker.listen(0, "127.0.0.1", () => {
      const address = blocker?.address();
      resolve(typeof address === "object" && address !== null ? address.port : 0);
    });
  });
}

describe("createSidecarServer", () => {
  // Regression: a failed bind left the task hub worker polling and the database open, so a
  // process whose sidecar could not start never exited.
  it("stops the worker and the backend when the port is taken", async () => {
    const port = await occupyPort();
    const backend = createSqliteBackend();
    await expect(createSidecarServer({ backend, host: "127.0.0.1", port })).rejects.toThrow(
      /EADDRINUSE|No address added/,
    );
    const error = await backend.getOrchestrationMetadata("any").catch((e: unknown) => e);
    expect(DurableTaskError.is(error, "NotInitialized")).toBe(true);
  });
});
