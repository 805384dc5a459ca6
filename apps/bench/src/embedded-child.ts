// One embedded benchmark run in a fresh Node process, for workloads whose figures describe the
// process's memory (runner.ts starts it). Argument: an EmbeddedRunRequest as JSON. Writes
// `@@ {event: "measured", figures, orchestrations}` (or `{event: "error"}`, exit 1); the store
// directory is the benchmark's to remove.

import { type EmbeddedRunRequest, runEmbeddedRequest } from "./runner.js";
import { messagePrefix } from "./sidecar/child-protocol.js";

function send(message: object): void {
  process.stdout.write(`${messagePrefix}${JSON.stringify(message)}\n`);
}

try {
  const request = JSON.parse(process.argv[2] ?? "") as EmbeddedRunRequest;
  const figures = await runEmbeddedRequest(request);
  send({ event: "measured", figures, orchestrations: figures.completed ?? 0 });
} catch (error) {
  send({ event: "error", error: error instanceof Error ? error.stack : String(error) });
  process.exitCode = 1;
}
