import {
  assertInstanceId,
  DurableTaskError,
  type Logger,
  type OrchestrationMetadata,
} from "@durabletask/api";
import { type WaitOptions, waitOptionsOf } from "@durabletask/backend";
import { backoffDelayMs, sleep } from "./backoff.js";
import { fromOrchestrationState } from "./orchestration-state.js";
import type { SidecarStub } from "./sidecar-stub.js";

/** Back-off between re-issued long polls after the connection dropped. */
const reconnectBackoff = { initialDelayMs: 100, maxDelayMs: 2000 };

/**
 * Long-polls `WaitForInstanceStart` / `WaitForInstanceCompletion` until the sidecar answers.
 *
 * - `timeoutMs` becomes the call's gRPC deadline (one deadline across re-issued calls):
 *   DEADLINE_EXCEEDED → `Timeout`.
 * - `signal` cancels the call → `Aborted`.
 * - UNAVAILABLE (the connection dropped, the sidecar restarts) re-issues the call with back-off
 *   until the deadline; without `timeoutMs` it keeps trying until `signal` fires. So does a
 *   CANCELLED that `signal` did not cause: a `@grpc/grpc-js` server that shuts down while the
 *   poll is open (the sidecar's `stop()` after its grace period) cuts calls off that way.
 * - `exists: false` → `InstanceNotFound`.
 */
export async function longPoll(
  stub: SidecarStub,
  method: "waitForInstanceStart" | "waitForInstanceCompletion",
  instanceId: string,
  waitOptions: WaitOptions | undefined,
  logger: Logger,
): Promise<OrchestrationMetadata> {
  assertInstanceId(instanceId);
  const options = waitOptionsOf(waitOptions);
  const deadlineMs = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
  const request = { instanceId, getInputsAndOutputs: options.fetchPayloads ?? true };
  for (let attempt = 0; ; attempt++) {
    checkAborted(options.signal, instanceId);
    try {
      const response = await stub.unary(method, request, { deadlineMs, signal: options.signal });
      if (!response.exists || response.orchestrationState === undefined) {
        throw new DurableTaskError(
          "InstanceNotFound",
          `No orchestration instance with id '${instanceId}'.`,
        );
      }
      return fromOrchestrationState(response.orchestrationState);
    } catch (error) {
      checkAborted(options.signal, instanceId);
      if (DurableTaskError.is(error, "Timeout")) throw timeoutError(instanceId, options, error);
      if (!isConnectionLoss(error)) throw error;
      if (remainingMs(deadlineMs) <= 0) throw timeoutError(instanceId, options, error);
      const delayMs = Math.min(backoffDelayMs(attempt, reconnectBackoff), remainingMs(deadlineMs));
      logger.warn("lost the sidecar while waiting for an instance; calling again", {
        instanceId,
        address: stub.address,
        attempt: attempt + 1,
        delayMs,
        error: error.message,
      });
      await sleep(delayMs, options.signal);
    }
  }
}

function isConnectionLoss(error: unknown): error is DurableTaskError {
  return DurableTaskError.is(error, "Unavailable") || DurableTaskError.is(error, "Aborted");
}

function remainingMs(deadlineMs: number | undefined): number {
  return deadlineMs === undefined ? Number.POSITIVE_INFINITY : deadlineMs - Date.now();
}

function timeoutError(instanceId: string, options: WaitOptions, cause: unknown): DurableTaskError {
  return new DurableTaskError(
    "Timeout",
    `Timed out after ${options.timeoutMs} ms waiting for '${instanceId}'.`,
    { cause },
  );
}

function checkAborted(signal: AbortSignal | undefined, instanceId: string): void {
  if (signal?.aborted) {
    throw new DurableTaskError(
      "Aborted",
      `Stopped waiting for '${instanceId}': the signal was aborted.`,
      { cause: signal.reason },
    );
  }
}
