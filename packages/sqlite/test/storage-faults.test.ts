// Storage faults under a running engine on a SQLite file: full, locked, read-only (the shared
// suite in @durabletask/testing says what each must do).
import { describeStorageFaults } from "@durabletask/testing";
import Database from "better-sqlite3";
import { createSqliteDriver } from "../src/index.js";

describeStorageFaults("sqlite", {
  driver: (path, { busyTimeoutMs }) =>
    createSqliteDriver({ path, synchronous: "FULL", busyTimeoutMs }),
  child: {
    module: new URL("../dist/index.js", import.meta.url).href,
    backend: "m.createSqliteBackend({ path })",
  },
  async lock(path) {
    const locker = new Database(path);
    locker.exec("BEGIN EXCLUSIVE");
    return async () => {
      locker.exec("COMMIT");
      locker.close();
    };
  },
  lockedMessage:
    /^createOrchestrationInstance: the database is locked by another connection \(busy timeout exceeded\); retry once that is resolved \(SQLITE_BUSY/,
});
