// A Hrana v2 test server (`startHranaServer` of @durabletask/testing) as a child process of the
// benchmark, so that its CPU is not the engine's. Started by hrana-server-process.ts as
//
//   node hrana-server-child.js <database file> <latency ms>
//
// It writes one JSON message per stdout line, prefixed with "@@ ", and answers one command per
// stdin line:
//
//   child: {event: "listening", httpUrl, wsUrl}
//   bench: stats                      child: {event: "stats", stats: HranaCounters}
//   bench: stop (or stdin closes)     child: closes the server, exits 0
//
// A child that fails writes {event: "error", error} and exits 1.
import { createInterface } from "node:readline";
import { startHranaServer } from "@durabletask/testing";
import { messagePrefix } from "../sidecar/child-protocol.js";
import type { HranaChildMessage } from "./hrana-server-process.js";

function send(message: HranaChildMessage): void {
  process.stdout.write(`${messagePrefix}${JSON.stringify(message)}\n`);
}

const [path, latency] = process.argv.slice(2);
try {
  if (path === undefined) throw new Error("usage: hrana-server-child.js <db file> <latency ms>");
  const server = await startHranaServer({ path, latencyMs: Number(latency ?? 0) });
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= server.close().then(() => process.exit(0));
    return closing;
  };
  const lines = createInterface({ input: process.stdin });
  lines.on("line", (line) => {
    if (line === "stats") {
      const { httpRequests, wsMessages, statements, batches } = server.stats;
      send({ event: "stats", stats: { httpRequests, wsMessages, statements, batches } });
    } else if (line === "stop") void close();
  });
  lines.on("close", () => void close());
  send({ event: "listening", httpUrl: server.httpUrl, wsUrl: server.wsUrl });
} catch (error) {
  send({ event: "error", error: (error as Error).stack ?? String(error) });
  process.exit(1);
}
