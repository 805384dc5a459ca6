// One "process" of the shared-file race: opens its own connection to the database file and
// locks orchestration work items until none are left, then reports the instance ids it got.
import { register } from "node:module";
import { parentPort, workerData } from "node:worker_threads";

register("./ts-resolve-hook.mjs", import.meta.url);
const { createSqliteBackend } = await import("../src/index.ts");

const backend = createSqliteBackend({ path: workerData.path, workerName: workerData.name });
await backend.start();
const ids = [];
// Bounded, so that a broken lease (handing instances out again and again) ends the race.
while (ids.length < 400) {
  const items = await backend.lockOrchestrationWorkItems(workerData.batchSize);
  if (items.length === 0) break;
  ids.push(...items.map((item) => item.instanceId));
}
await backend.stop();
parentPort?.postMessage(ids);
