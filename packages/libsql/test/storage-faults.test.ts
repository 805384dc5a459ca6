// Storage faults under a running engine on an embedded libSQL file (file:): full, locked,
// read-only (the shared suite in @durabletask/testing says what each must do).
import { describeStorageFaults } from "@durabletask/testing";
import { createClient } from "@libsql/client";
import { createLibsqlDriver } from "../src/index.js";

describeStorageFaults("libsql file:", {
  // Few re-sends: the locked case must see the refusal within the test.
  driver: (path, { busyTimeoutMs }) =>
    createLibsqlDriver({ url: `file:${path}`, busyTimeoutMs, maxRetries: 1 }),
  child: {
    module: new URL("../dist/index.js", import.meta.url).href,
    backend: 'm.createLibsqlBackend({ url: "file:" + path })',
  },
  async lock(path) {
    const client = createClient({ url: `file:${path}` });
    const tx = await client.transaction("write");
    return async () => {
      await tx.commit();
      tx.close();
      client.close();
    };
  },
  lockedMessage:
    /^libsql:file:.*: the database is unavailable after 2 attempts: SQLITE_BUSY: database is locked/,
});
