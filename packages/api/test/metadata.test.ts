import { describe, expect, it } from "vitest";
import { DurableTaskError, metadataToJson, type OrchestrationMetadata } from "../src/index.js";

describe("metadataToJson", () => {
  it("serializes durabletask-go's keys, ISO times and nested failure details", () => {
    const metadata: OrchestrationMetadata = {
      instanceId: "abc",
      name: "Orch",
      runtimeStatus: "FAILED",
      createdAt: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)),
      lastUpdatedAt: new Date(Date.UTC(2026, 0, 2, 3, 4, 6)),
      serializedInput: '"in"',
      serializedCustomStatus: '{"step":2}',
      failureDetails: {
        errorType: "TaskFailed",
        errorMessage: "outer",
        stackTrace: "at x",
        innerFailure: { errorType: "TypeError", errorMessage: "inner" },
      },
    };
    const json = JSON.parse(JSON.stringify(metadataToJson(metadata)));
    expect(json).toEqual({
      id: "abc",
      name: "Orch",
      status: "FAILED",
      createdAt: "2026-01-02T03:04:05.006Z",
      lastUpdatedAt: "2026-01-02T03:04:06.000Z",
      serializedInput: '"in"',
      serializedCustomStatus: '{"step":2}',
      failureDetails: {
        type: "TaskFailed",
        message: "outer",
        stackTrace: "at x",
        innerFailure: { type: "TypeError", message: "inner" },
      },
    });
  });
});

describe("DurableTaskError", () => {
  it("is recognised across copies of the package and narrows by code", () => {
    const error = new DurableTaskError("InstanceNotFound", "no such instance");
    const foreign = Object.assign(Object.create(Error.prototype), error);
    Object.defineProperty(foreign, Symbol.for("@durabletask/api/DurableTaskError"), {
      value: true,
    });
    expect(foreign instanceof DurableTaskError).toBe(true);
    expect(DurableTaskError.is(error, "InstanceNotFound")).toBe(true);
    expect(DurableTaskError.is(error, "InstanceExists")).toBe(false);
    expect(DurableTaskError.is(new Error("plain"))).toBe(false);
  });
});
