import * as wire from "@durabletask/api/proto";
import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { startRawSidecar } from "./raw-sidecar.js";

describe("sidecar shutdown", () => {
  // Regression: an open long poll kept the server's shutdown waiting for its 5 s grace period
  // and was then cut off with CANCELLED, which clients cannot tell from their own cancel.
  it("ends open long polls at once with UNAVAILABLE so clients retry", async () => {
    const sidecar = await startRawSidecar();
    await sidecar.call("startInstance", wire.CreateInstanceRequestSchema, {
      instanceId: "nobody-runs-me",
      name: "Unregistered",
    });
    const poll = sidecar
      .call("waitForInstanceCompletion", wire.GetInstanceRequestSchema, {
        instanceId: "nobody-runs-me",
      })
      .then(
        () => undefined,
        (error: { code?: number }) => error,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stoppingAt = Date.now();
    await sidecar.stop();
    const error = await poll;
    expect(Date.now() - stoppingAt).toBeLessThan(2000);
    expect(error?.code).toBe(status.UNAVAILABLE);
  });
});
