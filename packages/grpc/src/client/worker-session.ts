import { DurableTaskError, type Executor, type Logger } from "@durabletask/api";
import type { WorkItem } from "@durabletask/api/proto";
import type { ClientReadableStream } from "@grpc/grpc-js";
import { historyTailsHeader } from "../history-tails.js";
import { type BackoffOptions, backoffDelayMs, sleep } from "./backoff.js";
import { HeldHistories } from "./held-histories.js";
import {
  createSidecarStub,
  type SidecarConnectionOptions,
  type SidecarStub,
} from "./sidecar-stub.js";
import { WorkItemRunner } from "./work-item-runner.js";

/** The validated settings of one worker run. */
export interface WorkerSessionOptions {
  readonly connection: SidecarConnectionOptions;
  readonly executor: Executor;
  readonly logger: Logger;
  readonly maxConcurrentOrchestrations: number;
  readonly maxConcurrentActivities: number;
  readonly reconnect: BackoffOptions;
  /** Most history events kept for the sidecar's history tails; 0 keeps none. */
  readonly heldHistoryEvents: number;
}

/** Deadline of each `Hello`, so that a black-holed connection does not stall reconnecting. */
const helloTimeoutMs = 10_000;

/**
 * One run of a gRPC worker: a channel, a connect loop and a {@link WorkItemRunner}. The loop
 * calls `Hello`, opens `GetWorkItems` with the concurrency limits, feeds the stream's items to
 * the runner, and when the stream ends or fails (or `Hello` fails, the first time included)
 * waits an exponential back-off with jitter and connects again; the back-off resets after every
 * successful connect.
 */
export class WorkerSession {
  readonly #options: WorkerSessionOptions;
  readonly #stub: SidecarStub;
  readonly #runner: WorkItemRunner;
  readonly #stopping = new AbortController();
  readonly #loop: Promise<void>;
  #lastError: unknown;
  #onConnected: (() => void) | undefined;
  readonly #connected: Promise<void>;

  constructor(options: WorkerSessionOptions) {
    this.#options = options;
    this.#stub = createSidecarStub({
      ...options.connection,
      channelOptions: {
        // Let the channel itself reconnect on the worker's schedule, not gRPC's default (1 s
        // growing to 120 s), so that a restarted sidecar is found again within `maxDelayMs`.
        "grpc.initial_reconnect_backoff_ms": options.reconnect.initialDelayMs,
        "grpc.max_reconnect_backoff_ms": options.reconnect.maxDelayMs,
      },
    });
    this.#runner = new WorkItemRunner({
      stub: this.#stub,
      executor: options.executor,
      logger: options.logger,
      maxConcurrentOrchestrations: options.maxConcurrentOrchestrations,
      maxConcurrentActivities: options.maxConcurrentActivities,
      histories:
        options.heldHistoryEvents > 0 ? new HeldHistories(options.heldHistoryEvents) : undefined,
    });
    this.#connected = new Promise((resolve) => {
      this.#onConnected = resolve;
    });
    this.#loop = this.#run();
  }

  /**
   * Resolves at the first successful connect. Rejects with `Unavailable` (the last connection
   * error as `cause`) after `timeoutMs`, or with `Aborted` if the session is stopped first.
   */
  async waitConnected(timeoutMs: number): Promise<void> {
    const signal = this.#stopping.signal;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: () => void = () => {};
    const failed = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(this.#unreachable(timeoutMs)), timeoutMs);
      onAbort = () =>
        reject(new DurableTaskError("Aborted", "The worker was stopped before it connected."));
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      await Promise.race([this.#connected, failed]);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    }
  }

  /**
   * Stops taking work, cancels the stream, drains the runner (see {@link WorkItemRunner.stop})
   * and closes the channel.
   */
  async stop(drainTimeoutMs: number): Promise<void> {
    const draining = this.#runner.stop(drainTimeoutMs);
    this.#stopping.abort();
    await Promise.all([draining, this.#loop]);
    this.#stub.close();
  }

  async #run(): Promise<void> {
    const { logger, reconnect } = this.#options;
    const signal = this.#stopping.signal;
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        const stream = await this.#connect();
        attempt = 0;
        this.#onConnected?.();
        const outcome = await this.#pump(stream);
        if (!signal.aborted) logger.warn("work item stream closed; reconnecting", { outcome });
      } catch (error) {
        if (signal.aborted) break;
        this.#lastError = error;
        logger.warn("cannot reach the sidecar; retrying", {
          address: this.#stub.address,
          attempt: attempt + 1,
          error: error instanceof Error ? error.message : String(error),
        });
      }
      await sleep(backoffDelayMs(attempt, reconnect), signal);
    }
  }

  async #connect(): Promise<ClientReadableStream<WorkItem>> {
    const signal = this.#stopping.signal;
    await this.#stub.unary("hello", {}, { deadlineMs: Date.now() + helloTimeoutMs, signal });
    const stream = this.#stub.serverStream(
      "getWorkItems",
      {
        maxConcurrentOrchestrationWorkItems: this.#options.maxConcurrentOrchestrations,
        maxConcurrentActivityWorkItems: this.#options.maxConcurrentActivities,
      },
      {
        signal,
        metadata: this.#options.heldHistoryEvents > 0 ? { [historyTailsHeader]: "1" } : undefined,
      },
    );
    this.#options.logger.info("connected to the sidecar", { address: this.#stub.address });
    return stream;
  }

  /** Feeds the stream to the runner; resolves with how the stream ended. */
  #pump(stream: ClientReadableStream<WorkItem>): Promise<string> {
    return new Promise((resolve) => {
      stream.on("data", (item: WorkItem) => this.#runner.accept(item));
      stream.on("error", (error: Error) => resolve(`failed: ${error.message}`));
      stream.on("end", () => resolve("ended by the sidecar"));
      stream.on("close", () => resolve("closed"));
    });
  }

  #unreachable(timeoutMs: number): DurableTaskError {
    const last = this.#lastError;
    const why = last instanceof Error ? `: ${last.message}` : "";
    return new DurableTaskError(
      "Unavailable",
      `Could not connect to the sidecar at ${this.#stub.address} within ${timeoutMs} ms${why}`,
      { cause: last },
    );
  }
}
