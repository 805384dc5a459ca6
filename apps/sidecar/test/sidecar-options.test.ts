import { describe, expect, it } from "vitest";
import { createSidecar } from "../src/sidecar.js";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

describe("createSidecar({ sqliteSynchronous })", () => {
  it("hands the setting to the SQLite backend, which validates it", async () => {
    // The backend, not the flag parser, rejects this: proof that the option reaches it.
    await expect(
      createSidecar({
        port: 0,
        host: "127.0.0.1",
        logger: quiet,
        sqliteSynchronous: "OFF" as "FULL",
      }),
    ).rejects.toThrow(/synchronous/);
    for (const sqliteSynchronous of ["NORMAL", "FULL"] as const) {
      const sidecar = await createSidecar({
        port: 0,
        host: "127.0.0.1",
        logger: quiet,
        sqliteSynchronous,
      });
      expect(sidecar.port).toBeGreaterThan(0);
      await sidecar.stop();
    }
  });
});
