import { parseArgs } from "node:util";
import type { LogLevel } from "@durabletask/api";
import { samples } from "./catalogue.js";
import { createConsoleLogger, logLevels } from "./console-logger.js";

/** The database the CLI uses without `--db`: a file in the current directory. */
export const defaultDbPath = "durabletask-samples.sqlite3";

/** Exit code for a command line that could not be understood. */
const usageError = 2;

/** The `--help` text. */
export function usage(): string {
  const width = Math.max(...[...samples.keys()].map((name) => name.length));
  const list = [...samples].map(([name, s]) => `  ${name.padEnd(width)}  ${s.description}`);
  return [
    "Usage: node apps/samples/dist/main.js [sample] [options]",
    "",
    "Samples (default: sequence):",
    ...list,
    "",
    "Options:",
    `  --db <file>          SQLite database file, or :memory: (default: ./${defaultDbPath})`,
    "  --interactive        external-events: read the approver's name from stdin",
    "  --seed <n>           retries: seed of the activity's random failures (default 1)",
    "  --log-level <level>  debug | info | warn | error (default: warn)",
    "  -h, --help           show this help",
  ].join("\n");
}

/**
 * Runs the samples CLI on `args` (without `node` and the script). Returns the process exit code:
 * 0 on success, 1 when the sample failed, 2 for an unknown sample or a bad command line.
 */
export async function runCli(args: readonly string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    console.error(`error: ${(error as Error).message}\n\n${usage()}`);
    return usageError;
  }
  const { name, values } = parsed;
  if (values.help) {
    console.log(usage());
    return 0;
  }
  const sample = samples.get(name);
  if (sample === undefined) {
    console.error(`error: unknown sample '${name}'\n\n${usage()}`);
    return usageError;
  }
  const logger = createConsoleLogger({ level: values.logLevel });
  try {
    await sample.run({ ...values, dbPath: values.db, logger });
    return 0;
  } catch (error) {
    console.error(`error: sample '${name}' failed: ${(error as Error).message ?? String(error)}`);
    return 1;
  }
}

function parse(args: readonly string[]) {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      db: { type: "string", default: defaultDbPath },
      interactive: { type: "boolean", default: false },
      seed: { type: "string" },
      "log-level": { type: "string", default: "warn" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (positionals.length > 1) throw new Error(`expected one sample, got ${positionals.join(" ")}`);
  const logLevel = values["log-level"] as LogLevel;
  if (!logLevels.includes(logLevel)) throw new Error(`--log-level: unknown level '${logLevel}'`);
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  if (seed !== undefined && !Number.isInteger(seed)) throw new Error("--seed: must be an integer");
  const { db, interactive, help } = values;
  return { name: positionals[0] ?? "sequence", values: { db, interactive, help, seed, logLevel } };
}
