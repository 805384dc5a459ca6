import { metadataToJson } from "@durabletask/api";
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

/** The cities greeted, in order. */
export const cities = ["Tokyo", "London", "Seattle"] as const;

/** Activity: a greeting for one city. */
export async function sayHello(_ctx: ActivityContext, city: string): Promise<string> {
  return `Hello, ${city}!`;
}

/** Orchestrator: greets every city in turn, each greeting a separate durable activity call. */
export async function helloCities(ctx: OrchestrationContext): Promise<string[]> {
  const greetings: string[] = [];
  for (const city of cities) {
    greetings.push(await ctx.callActivity<string>("SayHello", city));
  }
  return greetings;
}

/**
 * The `sequence` sample (durabletask-go `samples/sequence`): three chained activity calls. Prints
 * the instance's metadata as JSON and returns the greetings.
 */
export async function main(options: SampleOptions = {}): Promise<string[]> {
  const registry = createTaskRegistry()
    .addOrchestrator("HelloCities", helloCities)
    .addActivity("SayHello", sayHello);
  return withSampleEngine(registry, options, async ({ client, print }) => {
    const metadata = await runToCompletion(client, "HelloCities");
    print(JSON.stringify(metadataToJson(metadata), null, 2));
    const greetings = outputOf<string[]>(metadata);
    print(`Orchestration completed: ${greetings.join(" ")}`);
    return greetings;
  });
}
