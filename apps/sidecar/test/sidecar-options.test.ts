import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { createSidecar } from "../src/sidecar.js";
import { UsageError } from "../src/usage-error.js";

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

describe("createSidecar({ backend: 'libsql' })", () => {
  it("rejects a missing URL and the SQLite-only options with a UsageError", async () => {
    const base = { port: 0, host: "127.0.0.1", logger: quiet, backend: "libsql" } as const;
    await expect(createSidecar(base)).rejects.toThrow(UsageError);
    await expect(createSidecar(base)).rejects.toThrow(/--libsql-url is required/);
    await expect(
      createSidecar({ ...base, libsqlUrl: "file:x.db", db: "x.sqlite3" }),
    ).rejects.toThrow(/^--db: applies to --backend sqlite only/);
    await expect(
      createSidecar({ ...base, libsqlUrl: "file:x.db", sqliteSynchronous: "NORMAL" }),
    ).rejects.toThrow(/^--sqlite-synchronous: applies to --backend sqlite only/);
  });

  it("runs on a file: URL and reports the storage", async () => {
    const dir = mkdtempSync(join(tmpdir(), "durabletask-sidecar-options-"));
    try {
      const sidecar = await createSidecar({
        port: 0,
        host: "127.0.0.1",
        logger: quiet,
        backend: "libsql",
        libsqlUrl: pathToFileURL(join(dir, "options.db")).href,
      });
      expect(sidecar.storage).toContain("options.db");
      await sidecar.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
