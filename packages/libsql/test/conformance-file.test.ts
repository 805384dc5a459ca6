import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeBackendConformance } from "@durabletask/testing";
import { afterAll } from "vitest";
import { createLibsqlBackend } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "durabletask-libsql-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

// A fresh database file per backend, so tests never see each other's instances.
describeBackendConformance("libsql file:", (options) =>
  createLibsqlBackend({ ...options, url: `file:${join(dir, `hub-${++files}.db`)}` }),
);

// A private in-memory database per client (libSQL gives it a single connection).
describeBackendConformance("libsql file::memory:", (options) =>
  createLibsqlBackend({ ...options, url: "file::memory:" }),
);
