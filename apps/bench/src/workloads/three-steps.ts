import type { ActivityContext, OrchestrationContext, TaskRegistry } from "@durabletask/task";
import type { BenchClient, BenchInstance } from "./bench-client.js";

/** The orchestrator W1 and W1-seq run. */
export const threeStepsName = "ThreeSteps";

/** Activity: appends a mark to a short string. */
export async function benchStep(_ctx: ActivityContext, value: string): Promise<string> {
  return `${value}+`;
}

/** Orchestrator: three activities in sequence, each fed the previous one's output. */
export async function threeSteps(ctx: OrchestrationContext, input: string): Promise<string> {
  const first = await ctx.callActivity<string>("BenchStep", input);
  const second = await ctx.callActivity<string>("BenchStep", first);
  return ctx.callActivity<string>("BenchStep", second);
}

/** Registers {@link threeSteps} and its activity. */
export function registerThreeSteps(registry: TaskRegistry): void {
  registry.addOrchestrator(threeStepsName, threeSteps).addActivity("BenchStep", benchStep);
}

/** The input of orchestration `i` and the output it must produce. */
export function threeStepsCase(i: number): { input: string; output: string } {
  const input = `order-${i}`;
  return { input, output: JSON.stringify(`${input}+++`) };
}

/**
 * How many instances whose id starts with `prefix` are COMPLETED with the output `expected`
 * gives for their id. Run after the clock stops: it reads every instance with payloads.
 */
export async function countCorrect(
  client: BenchClient,
  prefix: string,
  expected: (instanceId: string) => string | undefined,
): Promise<number> {
  return countMatching(
    client,
    prefix,
    (m) => m.runtimeStatus === "COMPLETED" && m.serializedOutput === expected(m.instanceId),
  );
}

/** Pages of the instances whose id starts with `prefix`, with payloads. */
async function* pagesWithPrefix(
  client: BenchClient,
  prefix: string,
): AsyncGenerator<readonly BenchInstance[]> {
  let continuationToken: string | undefined;
  do {
    const page = await client.queryInstances({
      instanceIdPrefix: prefix,
      pageSize: 1000,
      continuationToken,
      fetchPayloads: true,
    });
    yield page.instances;
    continuationToken = page.continuationToken;
  } while (continuationToken !== undefined);
}

/** Every instance whose id starts with `prefix`, with payloads, page by page. */
export async function instancesWithPrefix(
  client: BenchClient,
  prefix: string,
): Promise<BenchInstance[]> {
  const instances: BenchInstance[] = [];
  for await (const page of pagesWithPrefix(client, prefix)) instances.push(...page);
  return instances;
}

/** How many instances whose id starts with `prefix` satisfy `ok` (one page in memory at a time). */
export async function countMatching(
  client: BenchClient,
  prefix: string,
  ok: (instance: BenchInstance) => boolean,
): Promise<number> {
  let correct = 0;
  for await (const page of pagesWithPrefix(client, prefix)) {
    for (const m of page) if (ok(m)) correct++;
  }
  return correct;
}
