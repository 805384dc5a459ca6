import { setTimeout as sleep } from "node:timers/promises";
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

/** How many devices the inventory returns. */
export const deviceCount = 10;

/** Activity: the ids of the devices to update. */
export async function getDevicesToUpdate(_ctx: ActivityContext): Promise<string[]> {
  return Array.from({ length: deviceCount }, (_, i) => `device-${String(i + 1).padStart(2, "0")}`);
}

/**
 * Activity: "updates" one device, taking 10–100 ms. Honours `ctx.signal`, so a worker that shuts
 * down does not wait for it (the call is then delivered again later).
 */
export async function updateDevice(ctx: ActivityContext, deviceId: string): Promise<boolean> {
  await sleep(10 + Math.floor(Math.random() * 90), undefined, { signal: ctx.signal });
  return deviceId.startsWith("device-");
}

/** Orchestrator: fan out one `UpdateDevice` per device, fan in, return how many succeeded. */
export async function updateDevices(ctx: OrchestrationContext): Promise<number> {
  const devices = await ctx.callActivity<string[]>("GetDevicesToUpdate");
  const results = await Promise.all(
    devices.map((id) => ctx.callActivity<boolean>("UpdateDevice", id)),
  );
  return results.filter(Boolean).length;
}

/**
 * The `parallel` sample (durabletask-go `samples/parallel`): fan-out/fan-in over 10 devices.
 * Returns the number of devices updated successfully.
 */
export async function main(options: SampleOptions = {}): Promise<number> {
  const registry = createTaskRegistry()
    .addOrchestrator("UpdateDevices", updateDevices)
    .addActivity("GetDevicesToUpdate", getDevicesToUpdate)
    .addActivity("UpdateDevice", updateDevice);
  return withSampleEngine(registry, options, async ({ client, print }) => {
    const startedAt = Date.now();
    const updated = outputOf<number>(await runToCompletion(client, "UpdateDevices"));
    print(
      `Updated ${updated} of ${deviceCount} devices in parallel (${Date.now() - startedAt} ms).`,
    );
    return updated;
  });
}
