import { WriteLock } from "./write-lock.js";

/** Counters for asserting round trips in tests. */
export interface HranaStats {
  /** HTTP requests received (pipelines, version probes, 404s…); WebSocket upgrades not included. */
  readonly httpRequests: number;
  /** WebSocket messages received from clients (hello and every request). */
  readonly wsMessages: number;
  /** WebSocket connections accepted. */
  readonly wsConnections: number;
  /** `POST /v2/pipeline` bodies processed. */
  readonly pipelines: number;
  /** SQL statements run (each executed batch step, each `execute`, each `sequence` script counts one). */
  readonly statements: number;
  /** `batch` requests (HTTP and WebSocket). */
  readonly batches: number;
  /** Sets every counter back to 0. */
  reset(): void;
}

export class MutableStats implements HranaStats {
  httpRequests = 0;
  wsMessages = 0;
  wsConnections = 0;
  pipelines = 0;
  statements = 0;
  batches = 0;

  reset(): void {
    this.httpRequests = 0;
    this.wsMessages = 0;
    this.wsConnections = 0;
    this.pipelines = 0;
    this.statements = 0;
    this.batches = 0;
  }
}

/** Anything that holds a database connection and can be expired or closed by the server. */
export interface ClosableStream {
  expire(): void;
  close(): void;
}

/** State shared by the HTTP and WebSocket front ends and every stream. */
export class ServerState {
  readonly writeLock = new WriteLock();
  readonly stats = new MutableStats();
  readonly streams = new Set<ClosableStream>();
  latencyMs = 0;
  busyRemaining = 0;
  transactionTimeoutMs: number | undefined;
  maxResponseBytes: number | undefined;
  closed = false;

  constructor(
    readonly dbPath: string,
    readonly authToken: string | undefined,
  ) {}

  /** True (and counts down) when the next statement must fail with SQLITE_BUSY. */
  takeBusy(): boolean {
    if (this.busyRemaining <= 0) return false;
    this.busyRemaining--;
    return true;
  }
}
