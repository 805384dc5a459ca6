import type { BenchClient } from "./bench-client.js";

/**
 * Episodes the instance ran (its `OrchestratorStarted` events), or `{}` when the client cannot
 * read history. Unmeasured: call it after the clock stopped.
 */
export async function episodesOf(
  client: BenchClient,
  instanceId: string,
): Promise<{ episodes?: number; history_events?: number }> {
  if (client.getOrchestrationHistory === undefined) return {};
  const history = await client.getOrchestrationHistory(instanceId);
  return {
    episodes: history.filter((e) => e.eventType.case === "orchestratorStarted").length,
    history_events: history.length,
  };
}
