import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeBackendConformance } from "@durabletask/testing";
import { afterAll } from "vitest";
import { createSqliteBackend } from "../src/index.js";

describeBackendConformance("sqlite :memory:", (options) => createSqliteBackend({ ...options }));

const dir = mkdtempSync(join(tmpdir(), "durabletask-sqlite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

// A fresh database file per backend, so tests never see each other's instances.
describeBackendConformance("sqlite file", (options) =>
  createSqliteBackend({ ...options, path: join(dir, `hub-${++files}.sqlite3`) }),
);
