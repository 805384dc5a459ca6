import { describe, expect, it } from "vitest";
import { createTaskExecutor, createTaskRegistry, type TaskRegistry } from "../src/index.js";
import { expectInvalid } from "./history.js";

async function myOrchestrator() {
  return 1;
}

function myActivity() {
  return 2;
}

describe("createTaskRegistry", () => {
  it("registers by function name and by explicit name", () => {
    const other = () => 3;
    const registry = createTaskRegistry()
      .addOrchestrator(myOrchestrator)
      .addOrchestrator("named", other)
      .addActivity(myActivity)
      .addActivity("act", other);
    expect(registry.getOrchestrator("myOrchestrator")).toBe(myOrchestrator);
    expect(registry.getOrchestrator("named")).toBe(other);
    expect(registry.getActivity("myActivity")).toBe(myActivity);
    expect(registry.getActivity("act")).toBe(other);
    expect(registry.getActivity("myOrchestrator")).toBeUndefined();
    expect(registry.getOrchestrator("MYORCHESTRATOR")).toBeUndefined();
  });

  it("falls back to the wildcard registration", () => {
    const fallback = () => "any";
    const registry = createTaskRegistry().addActivity("*", fallback).addActivity(myActivity);
    expect(registry.getActivity("unknown")).toBe(fallback);
    expect(registry.getActivity("myActivity")).toBe(myActivity);
    expect(registry.getOrchestrator("unknown")).toBeUndefined();
  });

  it("rejects duplicates", () => {
    const registry = createTaskRegistry().addOrchestrator(myOrchestrator).addActivity(myActivity);
    expectInvalid(() => registry.addOrchestrator(myOrchestrator), "name");
    expectInvalid(() => registry.addActivity("myActivity", () => 0), "name");
    expect(() => registry.addActivity("myOrchestrator", myOrchestrator)).not.toThrow();
  });

  it("rejects anonymous functions, bad names and non-functions", () => {
    const registry: TaskRegistry = createTaskRegistry();
    expectInvalid(() => registry.addOrchestrator(async () => 1), "orchestrator");
    expectInvalid(() => registry.addActivity(() => 1), "activity");
    expectInvalid(() => registry.addOrchestrator("", myOrchestrator), "name");
    expectInvalid(() => registry.addActivity("a".repeat(1025), myActivity), "name");
    expectInvalid(() => registry.addActivity("tab\there", myActivity), "name");
    expectInvalid(() => registry.addOrchestrator("x", "not a function" as never), "orchestrator");
    expectInvalid(() => registry.addActivity(42 as never), "activity");
    const error = expectInvalid(() => registry.addActivity(() => 1), "activity");
    expect(error.message).toContain("anonymous function");
  });
});

describe("createTaskExecutor", () => {
  it("requires a registry", () => {
    expectInvalid(() => createTaskExecutor({} as never), "registry");
    expectInvalid(() => createTaskExecutor({ registry: {} as never }), "registry");
  });
});
