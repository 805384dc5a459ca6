import { parseArgs } from "node:util";
import type { LogLevel } from "@durabletask/api";
import { defaultMaxEpisodeAttempts } from "@durabletask/backend";
import { type LogFormat, logFormats, logLevels } from "./logger.js";
import {
  type BackendKind,
  maxMessageBytesLimit,
  type SidecarOptions,
  type SqliteSynchronous,
  sqliteSynchronousModes,
} from "./sidecar.js";
import { UsageError } from "./usage-error.js";

/** What the command line asks for. */
export type Command =
  | { readonly kind: "help" }
  | { readonly kind: "version" }
  | { readonly kind: "run"; readonly options: SidecarOptions };

interface FlagSpec {
  readonly env: string;
  readonly value: string;
  readonly help: string;
}

/** Every flag with its environment variable, value name and help text. */
export const flags = {
  host: {
    env: "DURABLETASK_HOST",
    value: "<host>",
    help: "address to listen on (default: localhost)",
  },
  port: {
    env: "DURABLETASK_PORT",
    value: "<port>",
    help: "port to listen on, 0 = any free port (default: 4001)",
  },
  db: {
    env: "DURABLETASK_DB",
    value: "<file>",
    help: "SQLite database file (default: in-memory); --backend sqlite only",
  },
  "sqlite-synchronous": {
    env: "DURABLETASK_SQLITE_SYNCHRONOUS",
    value: "<mode>",
    help: "NORMAL | FULL: SQLite's synchronous setting (default: FULL); --backend sqlite only",
  },
  backend: {
    env: "DURABLETASK_BACKEND",
    value: "<kind>",
    help: "sqlite | libsql (default: sqlite)",
  },
  "libsql-url": {
    env: "DURABLETASK_LIBSQL_URL",
    value: "<url>",
    help: "libsql database URL (libsql://, http(s)://, ws(s)://, file:); required with --backend libsql",
  },
  "libsql-auth-token": {
    env: "DURABLETASK_LIBSQL_AUTH_TOKEN",
    value: "<token>",
    help: "libsql auth token (never logged); --backend libsql only",
  },
  "tls-cert": {
    env: "DURABLETASK_TLS_CERT",
    value: "<file>",
    help: "PEM certificate (chain) to serve TLS with; needs --tls-key",
  },
  "tls-key": {
    env: "DURABLETASK_TLS_KEY",
    value: "<file>",
    help: "PEM private key of --tls-cert",
  },
  "auth-token": {
    env: "DURABLETASK_AUTH_TOKEN",
    value: "<token>",
    help: "require 'authorization: Bearer <token>' on every call (health stays open)",
  },
  insecure: {
    env: "DURABLETASK_INSECURE",
    value: "",
    help: "allow a non-loopback --host without both TLS and a token (warns); env =1",
  },
  "max-episode-attempts": {
    env: "DURABLETASK_MAX_EPISODE_ATTEMPTS",
    value: "<n>",
    help: "fail an orchestration (or activity) whose work item fails n times outside user code (default: 10)",
  },
  "lock-timeout-ms": {
    env: "DURABLETASK_LOCK_TIMEOUT_MS",
    value: "<ms>",
    help: "lease of a work item; a crashed sidecar's work is taken over after it (default: 30000)",
  },
  "max-message-bytes": {
    env: "DURABLETASK_MAX_MESSAGE_BYTES",
    value: "<bytes>",
    help: "largest request accepted; larger get RESOURCE_EXHAUSTED (default: 268435456 = 256 MiB)",
  },
  "log-level": {
    env: "DURABLETASK_LOG_LEVEL",
    value: "<level>",
    help: "debug | info | warn | error (default: info)",
  },
  "log-format": {
    env: "DURABLETASK_LOG_FORMAT",
    value: "<format>",
    help: "text | json (default: text)",
  },
} as const satisfies Record<string, FlagSpec>;

type FlagName = keyof typeof flags;

/** The `--help` text. */
export function usage(): string {
  const rows = Object.entries(flags).map(([name, spec]) => {
    const left = `  --${name} ${spec.value}`.trimEnd();
    return `${left.padEnd(34)}${spec.help}\n${"".padEnd(34)}env ${spec.env}`;
  });
  return [
    "Usage: durabletask-sidecar [options]",
    "",
    "A Durable Task gRPC sidecar (TaskHubSidecarService) on SQLite or libSQL, for the official",
    "Durable Task SDKs. Flags override environment variables.",
    "",
    "Options:",
    ...rows,
    `${"  -h, --help".padEnd(34)}show this help`,
    `${"  -v, --version".padEnd(34)}print the version`,
    "",
    "Telemetry (OpenTelemetry, off unless asked for): OTEL_EXPORTER_OTLP_ENDPOINT or",
    "OTEL_EXPORTER_OTLP_{TRACES,METRICS}_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL (http/protobuf,",
    "http/json), OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER(_ARG), OTEL_{TRACES,METRICS}_EXPORTER",
    "(otlp, console, none), OTEL_METRIC_EXPORT_INTERVAL, OTEL_SDK_DISABLED.",
  ].join("\n");
}

/**
 * Reads the command line `args` (without `node` and the script) and the environment `env`.
 * Flags beat environment variables; empty environment variables count as unset. Throws a
 * {@link UsageError} naming the offending flag.
 */
export function parseCommand(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Command {
  const values = parseFlags(args);
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };
  const setting = (name: Exclude<FlagName, "insecure">): Setting | undefined => {
    const fromFlag = values[name];
    if (fromFlag !== undefined) return { value: fromFlag, source: `--${name}` };
    const fromEnv = env[flags[name].env];
    if (fromEnv === undefined || fromEnv === "") return undefined;
    return { value: fromEnv, source: `${flags[name].env} (--${name})` };
  };
  const get = (name: Exclude<FlagName, "insecure">, fallback: string): Setting =>
    setting(name) ?? { value: fallback, source: `--${name}` };
  const backend = oneOf<BackendKind>(get("backend", "sqlite"), ["sqlite", "libsql"]);
  const libsqlUrl = libsqlUrlOf(setting("libsql-url"));
  if (backend === "libsql" && libsqlUrl === undefined) {
    throw new UsageError(
      `--libsql-url (or ${flags["libsql-url"].env}) is required with --backend libsql`,
    );
  }
  const db = setting("db");
  if (backend === "libsql" && db !== undefined) {
    throw new UsageError(
      `${db.source}: applies to --backend sqlite only; use --libsql-url with --backend libsql`,
    );
  }
  const synchronous = setting("sqlite-synchronous");
  if (backend === "libsql" && synchronous !== undefined) {
    throw new UsageError(`${synchronous.source}: applies to --backend sqlite only`);
  }
  const libsqlAuthToken = setting("libsql-auth-token");
  // Without --backend libsql these would be ignored silently, and the data go to SQLite.
  for (const libsqlSetting of [setting("libsql-url"), libsqlAuthToken]) {
    if (backend === "sqlite" && libsqlSetting !== undefined) {
      throw new UsageError(
        `${libsqlSetting.source}: applies to --backend libsql only; add --backend libsql`,
      );
    }
  }
  const tlsCert = setting("tls-cert");
  const tlsKey = setting("tls-key");
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    const [given, missing] =
      tlsCert === undefined ? [tlsKey, "--tls-cert"] : [tlsCert, "--tls-key"];
    throw new UsageError(
      `${given?.source}: needs ${missing} too (TLS takes a certificate and its key)`,
    );
  }
  return {
    kind: "run",
    options: {
      host: hostOf(get("host", "localhost")),
      port: portOf(get("port", "4001")),
      backend,
      db: db?.value,
      sqliteSynchronous:
        backend === "sqlite"
          ? oneOf<SqliteSynchronous>(
              synchronous ?? { value: "FULL", source: "--sqlite-synchronous" },
              sqliteSynchronousModes,
            )
          : undefined,
      libsqlUrl,
      libsqlAuthToken: libsqlAuthToken?.value,
      tlsCert: tlsCert?.value,
      tlsKey: tlsKey?.value,
      authToken: authTokenOf(setting("auth-token")),
      maxMessageBytes: maxMessageBytesOf(setting("max-message-bytes")),
      insecure: values.insecure === true || booleanOf(env[flags.insecure.env], flags.insecure.env),
      maxEpisodeAttempts: attemptsOf(get("max-episode-attempts", `${defaultMaxEpisodeAttempts}`)),
      lockTimeoutMs: lockTimeoutOf(setting("lock-timeout-ms")),
      logLevel: oneOf<LogLevel>(get("log-level", "info"), logLevels),
      logFormat: oneOf<LogFormat>(get("log-format", "text"), logFormats),
    },
  };
}

/** A value and where it came from, for error messages: `--port` or `DURABLETASK_PORT (--port)`. */
interface Setting {
  readonly value: string;
  readonly source: string;
}

function parseFlags(args: readonly string[]) {
  const string = { type: "string" } as const;
  try {
    const { values } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        host: string,
        port: string,
        db: string,
        "sqlite-synchronous": string,
        backend: string,
        "libsql-url": string,
        "libsql-auth-token": string,
        "tls-cert": string,
        "tls-key": string,
        "auth-token": string,
        insecure: { type: "boolean" },
        "max-episode-attempts": string,
        "lock-timeout-ms": string,
        "max-message-bytes": string,
        "log-level": string,
        "log-format": string,
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "v" },
      },
    });
    return values;
  } catch (error) {
    // parseArgs' messages name the flag ("Unknown option '--x'", "Option '--port <value>' argument missing").
    throw new UsageError((error as Error).message.split("\n")[0] ?? "bad command line");
  }
}

function oneOf<T extends string>({ value, source }: Setting, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`${source}: must be one of ${allowed.join(", ")}, got '${value}'`);
}

/**
 * A setting of decimal digits only, as an integer from `min` to `max`; otherwise a
 * {@link UsageError} saying it `must be <expected>`.
 */
function integerOf({ value, source }: Setting, min: number, max: number, expected: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${source}: must be ${expected}, got '${value}'`);
  }
  return n;
}

function portOf(setting: Setting): number {
  return integerOf(setting, 0, 65535, "an integer from 0 to 65535");
}

function attemptsOf(setting: Setting): number {
  return integerOf(setting, 1, Number.MAX_SAFE_INTEGER, "an integer ≥ 1");
}

function lockTimeoutOf(setting: Setting | undefined): number | undefined {
  if (setting === undefined) return undefined;
  return integerOf(setting, 1, Number.MAX_SAFE_INTEGER, "a number of milliseconds ≥ 1");
}

function maxMessageBytesOf(setting: Setting | undefined): number | undefined {
  if (setting === undefined) return undefined;
  const limit = maxMessageBytesLimit;
  return integerOf(setting, 1, limit, `a number of bytes from 1 to ${limit}`);
}

function hostOf({ value, source }: Setting): string {
  if (value.trim() === "" || /\s/.test(value)) {
    throw new UsageError(`${source}: must be a host name or address, got '${value}'`);
  }
  return value;
}

/** The printable ASCII without spaces that fits in `authorization: Bearer <token>`. */
function authTokenOf(setting: Setting | undefined): string | undefined {
  if (setting === undefined) return undefined;
  // Never echo the value: it is a secret.
  if (!/^[\x21-\x7e]+$/.test(setting.value)) {
    throw new UsageError(`${setting.source}: must be printable ASCII without spaces`);
  }
  return setting.value;
}

function booleanOf(value: string | undefined, source: string): boolean {
  if (value === undefined || value === "" || value === "0" || value === "false") return false;
  if (value === "1" || value === "true") return true;
  throw new UsageError(`${source}: must be 1 or 0 (true or false), got '${value}'`);
}

const libsqlProtocols = ["libsql:", "http:", "https:", "ws:", "wss:", "file:"];

function libsqlUrlOf(setting: Setting | undefined): string | undefined {
  if (setting === undefined) return undefined;
  const { value, source } = setting;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${source}: not a URL: '${value}'`);
  }
  if (!libsqlProtocols.includes(url.protocol)) {
    throw new UsageError(
      `${source}: the scheme must be one of ${libsqlProtocols.join(" ")}, got '${url.protocol}'`,
    );
  }
  return value;
}
