// Shared by the per-SDK scenario programs (microsoft.mjs, dapr.mjs). Loads no SDK: each program
// runs in its own process because the two SDKs cannot share one (protocol.md §6).
//
// Protocol with the test (src/scenario-process.ts): every line on stdout that starts with "@@ "
// is one JSON message — {scenario, ok, value} or {scenario, ok: false, error}, {event, ...}, and
// {done: true} last. The SDKs' own console output goes to stderr.
import { parseArgs } from "node:util";

const realLog = console.log.bind(console);
// The dapr SDK logs through console.log; keep stdout for the protocol.
console.log = (...args) => console.error(...args);
console.info = (...args) => console.error(...args);
console.debug = () => {};

/** Writes one protocol message. */
export function emit(message) {
  realLog(`@@ ${JSON.stringify(message)}`);
}

/** The command line: --address host:port --group name [--ids a,b] [--run id]. */
export function options() {
  const { values } = parseArgs({
    options: {
      address: { type: "string" },
      group: { type: "string" },
      ids: { type: "string", default: "" },
      run: { type: "string", default: String(Date.now()) },
      only: { type: "string", default: "" },
    },
  });
  if (values.address === undefined || values.group === undefined) {
    throw new Error("usage: <sdk>.mjs --address host:port --group <name> [--ids a,b] [--run id]");
  }
  return {
    ...values,
    ids: values.ids === "" ? [] : values.ids.split(","),
    only: values.only === "" ? [] : values.only.split(","),
  };
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` every 50 ms until it returns a truthy value; throws after `timeoutMs`. */
export async function until(probe, what, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** Runs the named scenarios one after another, emitting each outcome; never throws. */
export async function runScenarios(scenarios, names) {
  for (const name of names) {
    const started = Date.now();
    try {
      const value = await scenarios[name]();
      emit({ scenario: name, ok: true, value, ms: Date.now() - started });
    } catch (error) {
      emit({
        scenario: name,
        ok: false,
        error: String(error?.stack ?? error),
        ms: Date.now() - started,
      });
    }
  }
}

/** Resolves with the next line the test writes to stdin. */
export function nextLine() {
  return new Promise((resolve) => {
    let text = "";
    const onData = (chunk) => {
      text += chunk;
      const end = text.indexOf("\n");
      if (end < 0) return;
      process.stdin.off("data", onData);
      process.stdin.pause();
      resolve(text.slice(0, end));
    };
    process.stdin.setEncoding("utf8").on("data", onData);
    process.stdin.resume();
  });
}

/** Runs `main`, then exits: the dapr client keeps timers alive that would hold the process open. */
export function runMain(main) {
  process.on("unhandledRejection", (error) => {
    console.error("unhandled rejection:", error);
    emit({ event: "unhandled-rejection", error: String(error?.stack ?? error) });
  });
  main().then(
    () => {
      emit({ done: true });
      process.exit(0);
    },
    (error) => {
      emit({ done: true, error: String(error?.stack ?? error) });
      process.exit(1);
    },
  );
}
