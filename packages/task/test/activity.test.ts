import { create } from "@bufbuild/protobuf";
import { DurableTaskError } from "@durabletask/api";
import { ActivityRequestSchema } from "@durabletask/api/proto";
import { describe, expect, it } from "vitest";
import {
  type ActivityContext,
  createTaskExecutor,
  createTaskRegistry,
  type TaskRegistry,
} from "../src/index.js";

function request(name: string, input?: string) {
  return create(ActivityRequestSchema, {
    name,
    input,
    taskId: 7,
    orchestrationInstance: { instanceId: "inst-1", executionId: "exec-1" },
  });
}

function execute(registry: TaskRegistry, name: string, input?: string, signal?: AbortSignal) {
  return createTaskExecutor({ registry }).executeActivity(request(name, input), { signal });
}

describe("executeActivity", () => {
  it("returns the JSON result with the instance id and task id", async () => {
    const registry = createTaskRegistry().addActivity(async function greet(
      ctx: ActivityContext,
      who: string,
    ) {
      return `hello ${who} from ${ctx.name}#${ctx.taskId}@${ctx.instanceId}`;
    });
    const response = await execute(registry, "greet", '"bob"');
    expect(response.instanceId).toBe("inst-1");
    expect(response.taskId).toBe(7);
    expect(response.result).toBe('"hello bob from greet#7@inst-1"');
    expect(response.failureDetails).toBeUndefined();
  });

  it("leaves result absent when the activity returns undefined", async () => {
    const registry = createTaskRegistry().addActivity("noop", () => undefined);
    const response = await execute(registry, "noop");
    expect(response.result).toBeUndefined();
    expect(response.failureDetails).toBeUndefined();
  });

  it("reports a thrown error as failure details", async () => {
    const registry = createTaskRegistry().addActivity("fail", () => {
      throw new RangeError("out of range");
    });
    const response = await execute(registry, "fail");
    expect(response.result).toBeUndefined();
    expect(response.failureDetails?.errorType).toBe("RangeError");
    expect(response.failureDetails?.errorMessage).toBe("out of range");
    expect(response.failureDetails?.stackTrace).toContain("RangeError: out of range");
  });

  it("reports ActivityNotRegistered for an unknown name", async () => {
    const response = await execute(createTaskRegistry(), "ghost");
    expect(response.taskId).toBe(7);
    expect(response.failureDetails?.errorType).toBe("ActivityNotRegistered");
    expect(response.failureDetails?.errorMessage).toBe("No activity named 'ghost' is registered");
  });

  it("falls back to the wildcard activity", async () => {
    const registry = createTaskRegistry().addActivity("*", (ctx) => ctx.name.toUpperCase());
    expect((await execute(registry, "shout")).result).toBe('"SHOUT"');
  });

  it("fails on input that is not JSON", async () => {
    const registry = createTaskRegistry().addActivity("echo", (_ctx, input: unknown) => input);
    const response = await execute(registry, "echo", "{nope");
    expect(response.failureDetails?.errorMessage).toBe("input: is not valid JSON");
  });

  it("fails on a result that cannot be serialized", async () => {
    const registry = createTaskRegistry().addActivity("big", () => 1n);
    const response = await execute(registry, "big");
    expect(response.failureDetails?.errorMessage).toBe(
      "result: cannot be serialized to JSON (bigint)",
    );
  });

  it("passes the abort signal to the activity and gives up when it fires", async () => {
    const controller = new AbortController();
    let sawAbort = false;
    const registry = createTaskRegistry().addActivity("wait", (ctx) => {
      return new Promise((resolve) => {
        ctx.signal.addEventListener("abort", () => {
          sawAbort = true;
          // Resolves late on purpose: the call must not wait for it.
          setTimeout(() => resolve("too late"), 50);
        });
      });
    });
    const pending = execute(registry, "wait", undefined, controller.signal);
    setTimeout(() => controller.abort(new Error("shutdown")), 5);
    const error = await pending.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(sawAbort).toBe(true);
    expect(DurableTaskError.is(error, "Aborted")).toBe(true);
  });

  it("does not start an activity whose signal already fired", async () => {
    let ran = false;
    const registry = createTaskRegistry().addActivity("work", () => {
      ran = true;
    });
    const error = await execute(registry, "work", undefined, AbortSignal.abort()).catch(
      (err: unknown) => err,
    );
    expect(DurableTaskError.is(error, "Aborted")).toBe(true);
    expect(ran).toBe(false);
  });
});
