import { createInterface } from "node:readline";
import { DurableTaskError } from "@durabletask/api";
import type { TaskHubClient } from "@durabletask/backend";
import { createTaskRegistry, type OrchestrationContext } from "@durabletask/task";
import {
  outputOf,
  type SampleOptions,
  sampleTimeoutMs,
  withSampleEngine,
} from "./sample-engine.js";

/** How long the orchestration waits for the `approval` event. */
export const approvalTimeoutMs = 30_000;

/** Options of the `external-events` sample. */
export interface ExternalEventsOptions extends SampleOptions {
  /** Read the approver's name from `input` instead of raising the event automatically. */
  readonly interactive?: boolean | undefined;
  /** Where `--interactive` reads from; default `process.stdin`. */
  readonly input?: NodeJS.ReadableStream | undefined;
  /** The name the sample approves with when not interactive; default `"Ada"`. */
  readonly approver?: string | undefined;
}

/** Orchestrator: waits up to 30 s for an `approval` event carrying the approver's name. */
export async function awaitApproval(ctx: OrchestrationContext): Promise<string> {
  try {
    const approver = await ctx.waitForExternalEvent<string>("approval", {
      timeoutMs: approvalTimeoutMs,
    });
    return `Approved by ${approver}`;
  } catch (error) {
    if (DurableTaskError.is(error, "TaskCanceled")) return "Not approved: timed out";
    throw error;
  }
}

/**
 * The `external-events` sample (durabletask-go `samples/externalevents`): an orchestration that
 * waits for a human. The sample raises `approval` itself once the instance has started, or with
 * `interactive` reads the approver's name from stdin. Returns the orchestration's verdict.
 */
export async function main(options: ExternalEventsOptions = {}): Promise<string> {
  const registry = createTaskRegistry().addOrchestrator("AwaitApproval", awaitApproval);
  return withSampleEngine(registry, options, async ({ client, print }) => {
    const id = await client.scheduleNewOrchestration("AwaitApproval");
    await client.waitForOrchestrationStart(id, { timeoutMs: sampleTimeoutMs });
    print(`Orchestration ${id} is waiting for an 'approval' event.`);
    await approve(client, id, options, print);
    const metadata = await client.waitForOrchestrationCompletion(id, {
      timeoutMs: approvalTimeoutMs + sampleTimeoutMs,
    });
    const verdict = outputOf<string>(metadata);
    print(`Orchestration completed: ${verdict}`);
    return verdict;
  });
}

async function approve(
  client: TaskHubClient,
  id: string,
  options: ExternalEventsOptions,
  print: (line: string) => void,
): Promise<void> {
  if (!options.interactive) {
    await client.raiseEvent(id, "approval", options.approver ?? "Ada");
    return;
  }
  print(`Enter your name to approve (within ${approvalTimeoutMs / 1000} s):`);
  const name = await readLine(options.input ?? process.stdin);
  // No input at all (stdin closed): raise nothing and let the orchestration time out.
  if (name !== undefined) await client.raiseEvent(id, "approval", name.trim() || "anonymous");
}

/** The first line of `input`, or `undefined` when it ends first. */
function readLine(input: NodeJS.ReadableStream): Promise<string | undefined> {
  const lines = createInterface({ input, terminal: false });
  return new Promise((resolve) => {
    lines.once("line", (line) => {
      resolve(line);
      lines.close();
    });
    lines.once("close", () => resolve(undefined));
  });
}
