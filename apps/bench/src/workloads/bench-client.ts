import type { OrchestrationStatus } from "@durabletask/api";

/** An instance as the workloads read it back (`queryInstances`). */
export interface BenchInstance {
  readonly instanceId: string;
  readonly runtimeStatus: OrchestrationStatus;
  readonly serializedOutput?: string | undefined;
}

/**
 * The part of a `TaskHubClient` the workloads use. Every `TaskHubClient` (in process, or
 * `createTaskHubGrpcClient`) is one; the `sidecar-microsoft` mode adapts the official SDK's
 * client to it, so that every mode runs the same workload code.
 */
export interface BenchClient {
  scheduleNewOrchestration(
    orchestrator: string,
    options: { readonly instanceId: string; readonly input: string },
  ): Promise<string>;
  /** Resolves once the instance is terminal; the result is not used. */
  waitForOrchestrationCompletion(
    instanceId: string,
    options: { readonly timeoutMs: number; readonly fetchPayloads: boolean },
  ): Promise<unknown>;
  listInstanceIds(query: {
    readonly statuses: readonly OrchestrationStatus[];
    readonly pageSize: number;
    readonly lastInstanceKey: string | undefined;
  }): Promise<{
    readonly instanceIds: readonly string[];
    readonly lastInstanceKey?: string | undefined;
  }>;
  queryInstances(query: {
    readonly instanceIdPrefix: string;
    readonly pageSize: number;
    readonly continuationToken: string | undefined;
    readonly fetchPayloads: boolean;
  }): Promise<{
    readonly instances: readonly BenchInstance[];
    readonly continuationToken?: string | undefined;
  }>;
  /** Delivers external event `eventName` with `data` (JSON) to the instance (W4). */
  raiseEvent(instanceId: string, eventName: string, data?: unknown): Promise<void>;
  /**
   * The instance's committed history, when the client can read it (W2 and W3 count episodes
   * with it); only the event kinds are used.
   */
  getOrchestrationHistory?(
    instanceId: string,
  ): Promise<readonly { readonly eventType: { readonly case?: string | undefined } }[]>;
  /** Deletes every terminal instance; resolves with how many. */
  purgeInstances(filter: { readonly statuses: readonly OrchestrationStatus[] }): Promise<number>;
}
