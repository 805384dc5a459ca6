import { DurableTaskError } from "@durabletask/api";
import { describe, expect, it } from "vitest";
import { poisonFailure } from "../src/poison.js";

describe("poisonFailure", () => {
  const check = { retryCount: 3, maxAttempts: 4 };

  it("gives an item more attempts while it is below the limit", () => {
    expect(poisonFailure("x", new Error("boom"), { ...check, retryCount: 2 })).toBeUndefined();
  });

  it("ends an item on its last attempt with the attempts and the last error", () => {
    const failure = poisonFailure("orchestration 'p'", new TypeError("boom"), check);
    expect(failure).toMatchObject({
      errorType: "PoisonWorkItem",
      innerFailure: { errorType: "TypeError", errorMessage: "boom" },
      isNonRetriable: true,
    });
    expect(failure?.errorMessage).toBe(
      "orchestration 'p' failed 4 times outside user code (limit maxEpisodeAttempts = 4); " +
        "last error: TypeError: boom",
    );
  });

  it("never ends an item for shutdown, a lost lease or unavailable storage", () => {
    for (const code of ["Aborted", "WorkItemLockLost", "Unavailable", "NotInitialized"] as const) {
      expect(poisonFailure("x", new DurableTaskError(code, "transient"), check), code).toBe(
        undefined,
      );
    }
    const invalid = new DurableTaskError("InvalidArgument", "result too large");
    expect(poisonFailure("x", invalid, check)?.errorType).toBe("PoisonWorkItem");
  });
});
