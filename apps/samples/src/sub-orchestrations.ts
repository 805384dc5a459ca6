import {
  type ActivityContext,
  createTaskRegistry,
  type OrchestrationContext,
} from "@durabletask/task";
import {
  outputOf,
  runToCompletion,
  type SampleOptions,
  withSampleEngine,
} from "./sample-engine.js";

/** The regions provisioned, one child orchestration each. */
export const regions = ["americas", "europe", "asia"] as const;

/** Activity: creates a (pretend) virtual machine and returns its name. */
export async function createVm(_ctx: ActivityContext, region: string): Promise<string> {
  return `vm-${region}`;
}

/** Activity: configures a virtual machine and reports it. */
export async function configureVm(_ctx: ActivityContext, vm: string): Promise<string> {
  return `${vm} configured`;
}

/** Child orchestrator: two activities in sequence for one region. */
export async function provisionRegion(ctx: OrchestrationContext, region: string): Promise<string> {
  const vm = await ctx.callActivity<string>("CreateVm", region);
  return ctx.callActivity<string>("ConfigureVm", vm);
}

/** Parent orchestrator: one child per region, all running in parallel. */
export async function provisionRegions(ctx: OrchestrationContext): Promise<string[]> {
  return Promise.all(
    regions.map((region) =>
      ctx.callSubOrchestrator<string>("ProvisionRegion", region, {
        instanceId: `${ctx.instanceId}:${region}`,
      }),
    ),
  );
}

/**
 * The `sub-orchestrations` sample: a parent fans out to three child orchestrations, each running
 * two activities. Returns the children's outputs in region order.
 */
export async function main(options: SampleOptions = {}): Promise<string[]> {
  const registry = createTaskRegistry()
    .addOrchestrator("ProvisionRegions", provisionRegions)
    .addOrchestrator("ProvisionRegion", provisionRegion)
    .addActivity("CreateVm", createVm)
    .addActivity("ConfigureVm", configureVm);
  return withSampleEngine(registry, options, async ({ client, print }) => {
    const results = outputOf<string[]>(await runToCompletion(client, "ProvisionRegions"));
    print(`Provisioned ${results.length} regions: ${results.join(", ")}`);
    return results;
  });
}
