import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WebSocketServer } from "ws";
import { HttpFrontend } from "./http-frontend.js";
import { HranaError } from "./protocol.js";
import { type HranaStats, ServerState } from "./server-state.js";
import { openConnection } from "./sql-stream.js";
import { chooseSubprotocol, WsSession } from "./ws-frontend.js";

export interface HranaServerOptions {
  /** SQLite file served to every stream and connection; default: a temp file removed on close. */
  path?: string;
  /** Delay added before every HTTP response and every WebSocket reply (simulates RTT). */
  latencyMs?: number;
  /** When set, HTTP needs `Authorization: Bearer <token>` (401 otherwise) and WS the hello jwt. */
  authToken?: string;
  /** Initial value of {@link HranaServer.setTransactionTimeoutMs} (default: none). */
  transactionTimeoutMs?: number;
  /** Initial value of {@link HranaServer.setMaxResponseBytes} (default: none). */
  maxResponseBytes?: number;
  /**
   * An HTTP stream (baton) with no request for this long expires like on sqld, rolling back its
   * transaction (default 10 000 ms, sqld's value; `null` = never). WebSocket streams live as
   * long as their socket.
   */
  httpStreamIdleTimeoutMs?: number | null;
}

export interface HranaServer {
  /** "http://127.0.0.1:<port>" */
  readonly httpUrl: string;
  /** "ws://127.0.0.1:<port>" */
  readonly wsUrl: string;
  /** The SQLite file the server serves. */
  readonly path: string;
  /** Delay added before every response / WebSocket reply. */
  setLatencyMs(ms: number): void;
  /** The next `count` statement executions fail with SQLITE_BUSY ("SQLite error: database is locked"). */
  failNextWithBusy(count: number): void;
  /**
   * Every open stream expires: its transaction is rolled back, and its next use fails with
   * STREAM_EXPIRED (HTTP: status 500 with a JSON error, like sqld; WS: a response_error).
   */
  expireStreams(): void;
  /**
   * A stream holding the write lock longer than this has its transaction rolled back and the lock
   * released; its next request fails with TRANSACTION_TIMEOUT (every step of a batch), as on sqld.
   * Applies to locks taken after the call. `undefined` = no timeout.
   */
  setTransactionTimeoutMs(ms: number | undefined): void;
  /** A statement whose result would take the response past this many bytes fails with RESPONSE_TOO_LARGE. */
  setMaxResponseBytes(bytes: number | undefined): void;
  readonly stats: HranaStats;
  close(): Promise<void>;
}

/** Starts a Hrana v2 server (HTTP and WebSocket on one port) on 127.0.0.1 over a SQLite file. */
export async function startHranaServer(options: HranaServerOptions = {}): Promise<HranaServer> {
  let tempDir: string | undefined;
  let path = options.path;
  if (path === undefined) {
    tempDir = mkdtempSync(join(tmpdir(), "hrana-"));
    path = join(tempDir, "db.sqlite");
  }
  // One connection kept for the server's lifetime: sets WAL (persistent in the file) once.
  const admin = openConnection(path);
  admin.pragma("journal_mode = WAL");

  const state = new ServerState(path, options.authToken);
  state.latencyMs = options.latencyMs ?? 0;
  state.transactionTimeoutMs = options.transactionTimeoutMs;
  state.maxResponseBytes = options.maxResponseBytes;
  const idle = options.httpStreamIdleTimeoutMs;
  const http = new HttpFrontend(state, idle === null ? undefined : (idle ?? 10_000));
  const sessions = new Set<WsSession>();

  const server = createServer((req, res) => {
    void http.handle(req, res);
  });
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => chooseSubprotocol(protocols),
  });
  server.on("upgrade", (req, socket, head) => {
    if (state.closed) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      state.stats.wsConnections++;
      const session = new WsSession(state, ws, () => sessions.delete(session));
      sessions.add(session);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  const close = async () => {
    state.closed = true;
    for (const session of sessions) session.terminate();
    sessions.clear();
    http.closeAll();
    for (const stream of [...state.streams]) stream.close();
    state.writeLock.cancelAll(new HranaError("SERVER_CLOSED", "The server is shutting down"));
    await new Promise<void>((resolve) => {
      wss.close(() => resolve());
    });
    server.closeAllConnections();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
    });
    admin.close();
    if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
  };

  return {
    httpUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    path,
    stats: state.stats,
    setLatencyMs(ms) {
      state.latencyMs = Math.max(0, ms);
    },
    failNextWithBusy(count) {
      state.busyRemaining = Math.max(0, Math.floor(count));
    },
    expireStreams() {
      for (const stream of [...state.streams]) stream.expire();
    },
    setTransactionTimeoutMs(ms) {
      state.transactionTimeoutMs = ms;
    },
    setMaxResponseBytes(bytes) {
      state.maxResponseBytes = bytes;
    },
    close() {
      closing ??= close();
      return closing;
    },
  };
}
