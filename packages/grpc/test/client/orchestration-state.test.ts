import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { DurableTaskError } from "@durabletask/api";
import * as wire from "@durabletask/api/proto";
import { describe, expect, it } from "vitest";
import { fromOrchestrationState } from "../../src/client/orchestration-state.js";
import { fromServiceError } from "../../src/client/service-error.js";

describe("fromOrchestrationState", () => {
  it("maps every field of a wire state", () => {
    const m = fromOrchestrationState(
      create(wire.OrchestrationStateSchema, {
        instanceId: "i",
        name: "N",
        version: "1.0",
        orchestrationStatus: wire.OrchestrationStatus.FAILED,
        scheduledStartTimestamp: timestampFromMs(1000),
        createdTimestamp: timestampFromMs(2000),
        lastUpdatedTimestamp: timestampFromMs(3500),
        completedTimestamp: timestampFromMs(3400),
        input: '"in"',
        output: '"out"',
        customStatus: '{"s":1}',
        executionId: "e",
        parentInstanceId: "p",
        tags: { a: "b" },
        failureDetails: {
          errorType: "TypeError",
          errorMessage: "boom",
          stackTrace: "at x",
          isNonRetriable: true,
          innerFailure: { errorType: "Inner", errorMessage: "deep" },
        },
      }),
    );
    expect(m).toEqual({
      instanceId: "i",
      name: "N",
      version: "1.0",
      runtimeStatus: "FAILED",
      scheduledStartAt: new Date(1000),
      createdAt: new Date(2000),
      lastUpdatedAt: new Date(3500),
      completedAt: new Date(3400),
      serializedInput: '"in"',
      serializedOutput: '"out"',
      serializedCustomStatus: '{"s":1}',
      executionId: "e",
      parentInstanceId: "p",
      tags: { a: "b" },
      failureDetails: {
        errorType: "TypeError",
        errorMessage: "boom",
        stackTrace: "at x",
        isNonRetriable: true,
        innerFailure: {
          errorType: "Inner",
          errorMessage: "deep",
          stackTrace: undefined,
          innerFailure: undefined,
          isNonRetriable: undefined,
        },
      },
    });
  });

  it("fills in missing timestamps and leaves absent payloads and tags undefined", () => {
    const m = fromOrchestrationState(
      create(wire.OrchestrationStateSchema, {
        instanceId: "i",
        name: "N",
        orchestrationStatus: wire.OrchestrationStatus.PENDING,
        createdTimestamp: timestampFromMs(5000),
      }),
    );
    expect(m.runtimeStatus).toBe("PENDING");
    expect(m.createdAt.getTime()).toBe(5000);
    expect(m.lastUpdatedAt.getTime()).toBe(5000);
    expect(m.completedAt).toBeUndefined();
    expect(m.serializedInput).toBeUndefined();
    expect(m.tags).toBeUndefined();
    expect(m.failureDetails).toBeUndefined();
  });

  it("rejects a status number it does not know with Internal", () => {
    const state = create(wire.OrchestrationStateSchema, {
      instanceId: "odd",
      orchestrationStatus: 42 as wire.OrchestrationStatus,
    });
    expect(() => fromOrchestrationState(state)).toThrow(
      expect.objectContaining({ code: "Internal", message: expect.stringContaining("42") }),
    );
  });
});

describe("fromServiceError", () => {
  it("passes DurableTaskErrors through and wraps anything else as Internal", () => {
    const original = new DurableTaskError("Timeout", "late");
    expect(fromServiceError(original)).toBe(original);
    const plain = fromServiceError(new Error("socket hang up"));
    expect(plain.code).toBe("Internal");
    expect(plain.message).toBe("socket hang up");
    expect(fromServiceError("weird").message).toBe("weird");
  });
});
