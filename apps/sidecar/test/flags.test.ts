import { describe, expect, it } from "vitest";
import { flags, parseCommand, usage } from "../src/flags.js";
import { UsageError } from "../src/usage-error.js";

const run = (args: string[], env: Record<string, string> = {}) => {
  const command = parseCommand(args, env);
  if (command.kind !== "run") throw new Error(`expected run, got ${command.kind}`);
  return command.options;
};

const usageError = (args: string[], env: Record<string, string> = {}): string => {
  try {
    parseCommand(args, env);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error("expected a UsageError");
};

describe("parseCommand", () => {
  it("defaults like durabletask-go: localhost:4001, in-memory sqlite, info text logs", () => {
    expect(run([])).toEqual({
      host: "localhost",
      port: 4001,
      backend: "sqlite",
      db: undefined,
      sqliteSynchronous: "FULL",
      libsqlUrl: undefined,
      libsqlAuthToken: undefined,
      tlsCert: undefined,
      tlsKey: undefined,
      authToken: undefined,
      insecure: false,
      maxEpisodeAttempts: 10,
      logLevel: "info",
      logFormat: "text",
    });
  });

  it("--max-episode-attempts / DURABLETASK_MAX_EPISODE_ATTEMPTS: an integer ≥ 1", () => {
    expect(run(["--max-episode-attempts", "3"]).maxEpisodeAttempts).toBe(3);
    expect(run([], { DURABLETASK_MAX_EPISODE_ATTEMPTS: "25" }).maxEpisodeAttempts).toBe(25);
    expect(usageError(["--max-episode-attempts", "0"])).toBe(
      "--max-episode-attempts: must be an integer ≥ 1, got '0'",
    );
    expect(usageError([], { DURABLETASK_MAX_EPISODE_ATTEMPTS: "2.5" })).toBe(
      "DURABLETASK_MAX_EPISODE_ATTEMPTS (--max-episode-attempts): must be an integer ≥ 1, got '2.5'",
    );
  });

  it("--lock-timeout-ms / DURABLETASK_LOCK_TIMEOUT_MS: milliseconds ≥ 1, default the backend's", () => {
    expect(run([]).lockTimeoutMs).toBeUndefined();
    expect(run(["--lock-timeout-ms", "5000"]).lockTimeoutMs).toBe(5000);
    expect(run([], { DURABLETASK_LOCK_TIMEOUT_MS: "1500" }).lockTimeoutMs).toBe(1500);
    expect(usageError(["--lock-timeout-ms", "0"])).toBe(
      "--lock-timeout-ms: must be a number of milliseconds ≥ 1, got '0'",
    );
    expect(usageError([], { DURABLETASK_LOCK_TIMEOUT_MS: "1s" })).toBe(
      "DURABLETASK_LOCK_TIMEOUT_MS (--lock-timeout-ms): must be a number of milliseconds ≥ 1, got '1s'",
    );
  });

  it("reads every flag", () => {
    expect(
      run([
        "--host",
        "0.0.0.0",
        "--port",
        "0",
        "--db",
        "x.sqlite3",
        "--log-level",
        "debug",
        "--log-format",
        "json",
      ]),
    ).toMatchObject({
      host: "0.0.0.0",
      port: 0,
      db: "x.sqlite3",
      logLevel: "debug",
      logFormat: "json",
    });
    expect(run(["--port=5000"]).port).toBe(5000);
  });

  it("reads every environment variable; flags beat them; empty ones count as unset", () => {
    const env = {
      DURABLETASK_HOST: "127.0.0.1",
      DURABLETASK_PORT: "4100",
      DURABLETASK_DB: "env.sqlite3",
      DURABLETASK_LOG_LEVEL: "warn",
      DURABLETASK_LOG_FORMAT: "json",
    };
    expect(run([], env)).toMatchObject({
      host: "127.0.0.1",
      port: 4100,
      db: "env.sqlite3",
      logLevel: "warn",
      logFormat: "json",
    });
    expect(run(["--port", "4200", "--log-format", "text"], env)).toMatchObject({
      port: 4200,
      logFormat: "text",
      db: "env.sqlite3",
    });
    expect(run([], { DURABLETASK_PORT: "", DURABLETASK_DB: "" })).toMatchObject({
      port: 4001,
      db: undefined,
    });
  });

  it("names the flag, or the environment variable, in every error", () => {
    expect(usageError(["--port", "abc"])).toBe(
      "--port: must be an integer from 0 to 65535, got 'abc'",
    );
    expect(usageError(["--port", "65536"])).toMatch(/^--port: /);
    expect(usageError([], { DURABLETASK_PORT: "-1" })).toMatch(
      /^DURABLETASK_PORT \(--port\): must be an integer/,
    );
    expect(usageError(["--log-level", "loud"])).toBe(
      "--log-level: must be one of debug, info, warn, error, got 'loud'",
    );
    expect(usageError(["--log-format", "xml"])).toBe(
      "--log-format: must be one of text, json, got 'xml'",
    );
    expect(usageError(["--backend", "pg"])).toBe(
      "--backend: must be one of sqlite, libsql, got 'pg'",
    );
    expect(usageError(["--host", " "])).toMatch(/^--host: /);
    expect(usageError(["--bogus"])).toMatch(/--bogus/);
    expect(usageError(["--port"])).toMatch(/--port/);
    expect(usageError(["extra"])).toMatch(/extra/);
  });

  it("--sqlite-synchronous / DURABLETASK_SQLITE_SYNCHRONOUS: NORMAL or FULL (default FULL)", () => {
    expect(run(["--sqlite-synchronous", "NORMAL"]).sqliteSynchronous).toBe("NORMAL");
    expect(run([], { DURABLETASK_SQLITE_SYNCHRONOUS: "NORMAL" }).sqliteSynchronous).toBe("NORMAL");
    expect(
      run(["--sqlite-synchronous=FULL"], { DURABLETASK_SQLITE_SYNCHRONOUS: "NORMAL" })
        .sqliteSynchronous,
    ).toBe("FULL");
    expect(run([], { DURABLETASK_SQLITE_SYNCHRONOUS: "" }).sqliteSynchronous).toBe("FULL");
    expect(usageError(["--sqlite-synchronous", "OFF"])).toBe(
      "--sqlite-synchronous: must be one of NORMAL, FULL, got 'OFF'",
    );
    expect(usageError([], { DURABLETASK_SQLITE_SYNCHRONOUS: "normal" })).toBe(
      "DURABLETASK_SQLITE_SYNCHRONOUS (--sqlite-synchronous): must be one of NORMAL, FULL, got 'normal'",
    );
    expect(usageError(["--sqlite-synchronous"])).toMatch(/--sqlite-synchronous/);
    expect(
      usageError([
        "--backend",
        "libsql",
        "--libsql-url",
        "libsql://x",
        "--sqlite-synchronous",
        "NORMAL",
      ]),
    ).toBe("--sqlite-synchronous: applies to --backend sqlite only");
  });

  it("validates the libsql settings", () => {
    expect(usageError(["--backend", "libsql"])).toMatch(
      /^--libsql-url \(or DURABLETASK_LIBSQL_URL\) is required/,
    );
    expect(usageError(["--backend", "libsql", "--libsql-url", "not a url"])).toMatch(
      /^--libsql-url: not a URL/,
    );
    expect(usageError(["--backend", "libsql", "--libsql-url", "ftp://x"])).toMatch(
      /^--libsql-url: the scheme/,
    );
    expect(usageError(["--backend", "libsql", "--libsql-url", "libsql://x", "--db", "a"])).toMatch(
      /^--db: applies to/,
    );
    expect(
      run(["--backend", "libsql", "--libsql-url", "libsql://db.example.turso.io"], {
        DURABLETASK_LIBSQL_AUTH_TOKEN: "t",
      }),
    ).toMatchObject({
      backend: "libsql",
      libsqlUrl: "libsql://db.example.turso.io",
      libsqlAuthToken: "t",
    });
  });

  it("--backend libsql: a URL instead of --db, no SQLite setting, the token kept", () => {
    expect(run(["--backend", "libsql", "--libsql-url", "file:/data/taskhub.db"])).toEqual({
      host: "localhost",
      port: 4001,
      backend: "libsql",
      db: undefined,
      sqliteSynchronous: undefined,
      libsqlUrl: "file:/data/taskhub.db",
      libsqlAuthToken: undefined,
      tlsCert: undefined,
      tlsKey: undefined,
      authToken: undefined,
      insecure: false,
      maxEpisodeAttempts: 10,
      logLevel: "info",
      logFormat: "text",
    });
    expect(
      run([], {
        DURABLETASK_BACKEND: "libsql",
        DURABLETASK_LIBSQL_URL: "http://127.0.0.1:8080",
        DURABLETASK_LIBSQL_AUTH_TOKEN: "from-env",
      }),
    ).toMatchObject({
      backend: "libsql",
      libsqlUrl: "http://127.0.0.1:8080",
      libsqlAuthToken: "from-env",
    });
    expect(
      run(["--libsql-url", "wss://db.example", "--libsql-auth-token", "flag"], {
        DURABLETASK_BACKEND: "libsql",
        DURABLETASK_LIBSQL_URL: "file:ignored.db",
        DURABLETASK_LIBSQL_AUTH_TOKEN: "env",
      }),
    ).toMatchObject({ libsqlUrl: "wss://db.example", libsqlAuthToken: "flag" });
  });

  it("rejects settings of the other backend, naming both flags", () => {
    const libsql = ["--backend", "libsql", "--libsql-url", "file:x.db"];
    expect(usageError([...libsql, "--db", "a.sqlite3"])).toBe(
      "--db: applies to --backend sqlite only; use --libsql-url with --backend libsql",
    );
    expect(usageError(libsql, { DURABLETASK_DB: "a.sqlite3" })).toMatch(
      /^DURABLETASK_DB \(--db\): applies to --backend sqlite only/,
    );
    expect(usageError(libsql, { DURABLETASK_SQLITE_SYNCHRONOUS: "FULL" })).toBe(
      "DURABLETASK_SQLITE_SYNCHRONOUS (--sqlite-synchronous): applies to --backend sqlite only",
    );
    expect(usageError(["--libsql-url", "file:x.db"])).toBe(
      "--libsql-url: applies to --backend libsql only; add --backend libsql",
    );
    expect(usageError(["--backend", "sqlite", "--libsql-auth-token", "t"])).toBe(
      "--libsql-auth-token: applies to --backend libsql only; add --backend libsql",
    );
    expect(usageError([], { DURABLETASK_LIBSQL_URL: "file:x.db" })).toMatch(
      /^DURABLETASK_LIBSQL_URL \(--libsql-url\): applies to --backend libsql only/,
    );
    // Empty variables count as unset, here too.
    expect(run([], { DURABLETASK_LIBSQL_URL: "", DURABLETASK_LIBSQL_AUTH_TOKEN: "" }).backend).toBe(
      "sqlite",
    );
  });

  it("--max-message-bytes / DURABLETASK_MAX_MESSAGE_BYTES: a number of bytes from 1 to 2^31-1", () => {
    expect(run([]).maxMessageBytes).toBeUndefined();
    expect(run(["--max-message-bytes", "65536"]).maxMessageBytes).toBe(65536);
    expect(run([], { DURABLETASK_MAX_MESSAGE_BYTES: "1048576" }).maxMessageBytes).toBe(1048576);
    expect(
      run(["--max-message-bytes", "2"], { DURABLETASK_MAX_MESSAGE_BYTES: "1" }).maxMessageBytes,
    ).toBe(2);
    for (const bad of ["0", "-1", "1.5", "4MiB", "2147483648", " 5"]) {
      expect(usageError([`--max-message-bytes=${bad}`])).toBe(
        `--max-message-bytes: must be a number of bytes from 1 to 2147483647, got '${bad}'`,
      );
    }
    expect(usageError([], { DURABLETASK_MAX_MESSAGE_BYTES: "lots" })).toContain(
      "DURABLETASK_MAX_MESSAGE_BYTES (--max-message-bytes): must be a number of bytes",
    );
  });

  it("--help and --version win over everything else", () => {
    expect(parseCommand(["--help"], { DURABLETASK_PORT: "bad" })).toEqual({ kind: "help" });
    expect(parseCommand(["-v"], {})).toEqual({ kind: "version" });
  });

  it("documents every flag and environment variable", () => {
    const text = usage();
    for (const [name, spec] of Object.entries(flags)) {
      expect(text).toContain(`--${name}`);
      expect(text).toContain(spec.env);
    }
  });

  it("reads the access control flags and their environment variables", () => {
    expect(
      run(["--tls-cert", "c.pem", "--tls-key", "k.pem", "--auth-token", "t0k", "--insecure"]),
    ).toMatchObject({ tlsCert: "c.pem", tlsKey: "k.pem", authToken: "t0k", insecure: true });
    expect(
      run([], {
        DURABLETASK_TLS_CERT: "c.pem",
        DURABLETASK_TLS_KEY: "k.pem",
        DURABLETASK_AUTH_TOKEN: "t0k",
        DURABLETASK_INSECURE: "1",
      }),
    ).toMatchObject({ tlsCert: "c.pem", tlsKey: "k.pem", authToken: "t0k", insecure: true });
    for (const off of ["0", "false", ""]) {
      expect(run([], { DURABLETASK_INSECURE: off }).insecure).toBe(false);
    }
    expect(run([], { DURABLETASK_INSECURE: "true" }).insecure).toBe(true);
    expect(usage()).toContain("--insecure ");
    expect(usage()).toContain("DURABLETASK_AUTH_TOKEN");
  });

  it("refuses one TLS file without the other, a bad token (not echoed) and a bad DURABLETASK_INSECURE", () => {
    expect(usageError(["--tls-cert", "c.pem"])).toBe(
      "--tls-cert: needs --tls-key too (TLS takes a certificate and its key)",
    );
    expect(usageError([], { DURABLETASK_TLS_KEY: "k.pem" })).toBe(
      "DURABLETASK_TLS_KEY (--tls-key): needs --tls-cert too (TLS takes a certificate and its key)",
    );
    const message = usageError(["--auth-token", "my secret"]);
    expect(message).toBe("--auth-token: must be printable ASCII without spaces");
    expect(usageError([], { DURABLETASK_INSECURE: "yes" })).toMatch(
      /^DURABLETASK_INSECURE: must be 1 or 0/,
    );
    expect(usageError(["--insecure=1"])).toMatch(/--insecure/);
  });
});
