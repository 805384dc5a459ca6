import { LibsqlError } from "@libsql/client";
import { describe, expect, it } from "vitest";
import { faultOf, isBusy } from "../src/fault.js";
import { retryDelayMs } from "../src/retry-delay.js";

function fetchFailure(code: string): TypeError {
  const cause = Object.assign(new Error(`connect ${code}`), { code });
  return new TypeError("fetch failed", { cause });
}

function serverError(status: number): LibsqlError {
  const cause = Object.assign(new Error(`Server returned HTTP status ${status}`), { status });
  return new LibsqlError(
    `SERVER_ERROR: Server returned HTTP status ${status}`,
    "SERVER_ERROR",
    undefined,
    undefined,
    cause,
  );
}

describe("faultOf", () => {
  it("re-sends what the database refused before committing", () => {
    for (const code of [
      "SQLITE_BUSY",
      "SQLITE_BUSY_SNAPSHOT",
      "SQLITE_LOCKED",
      "TRANSACTION_TIMEOUT",
      "TRANSACTION_BUSY",
      "STREAM_EXPIRED",
    ]) {
      expect(faultOf(new LibsqlError(code, code)), code).toBe("refused");
    }
    expect(faultOf(new LibsqlError("x", "SQLITE_ERROR", "SQLITE_BUSY_RECOVERY"))).toBe("refused");
    expect(faultOf(fetchFailure("ECONNREFUSED"))).toBe("refused");
    const aggregate = new AggregateError([Object.assign(new Error("a"), { code: "ECONNREFUSED" })]);
    expect(faultOf(new TypeError("fetch failed", { cause: aggregate }))).toBe("refused");
    expect(faultOf(serverError(503))).toBe("refused");
    expect(faultOf(serverError(429))).toBe("refused");
  });

  it("calls a connection that broke in flight lost", () => {
    expect(faultOf(fetchFailure("ECONNRESET"))).toBe("lost");
    expect(faultOf(fetchFailure("UND_ERR_SOCKET"))).toBe("lost");
    expect(faultOf(new TypeError("terminated"))).toBe("lost");
    expect(faultOf(serverError(502))).toBe("lost");
    expect(faultOf(serverError(500))).toBe("lost");
    const ws = new LibsqlError("WebSocket was closed with code 1006", "HRANA_WEBSOCKET_ERROR");
    expect(faultOf(ws)).toBe("lost");
  });

  it("recognizes size limits and leaves everything else alone", () => {
    expect(faultOf(new LibsqlError("too large", "RESPONSE_TOO_LARGE"))).toBe("tooLarge");
    expect(faultOf(serverError(413))).toBe("tooLarge");
    const ws = new LibsqlError("WebSocket was closed with code 1009", "HRANA_WEBSOCKET_ERROR");
    expect(faultOf(ws)).toBe("tooLarge");
    expect(faultOf(new LibsqlError("c", "SQLITE_CONSTRAINT", "SQLITE_CONSTRAINT_UNIQUE"))).toBe(
      "fatal",
    );
    expect(faultOf(new LibsqlError("p", "SQL_PARSE_ERROR"))).toBe("fatal");
    expect(faultOf(serverError(401))).toBe("fatal");
    expect(faultOf(new RangeError("x"))).toBe("fatal");
    expect(faultOf("boom")).toBe("fatal");
  });

  it("tells SQLITE_BUSY apart", () => {
    expect(isBusy(new LibsqlError("b", "SQLITE_BUSY"))).toBe(true);
    expect(isBusy(new LibsqlError("t", "TRANSACTION_TIMEOUT"))).toBe(false);
  });
});

describe("retryDelayMs", () => {
  it("backs off exponentially from 25 ms to 1 s, jittering the upper half", () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => retryDelayMs(n, () => 0))).toEqual([
      13, 25, 50, 100, 200, 400, 500,
    ]);
    expect([0, 1, 6, 20].map((n) => retryDelayMs(n, () => 1))).toEqual([25, 50, 1000, 1000]);
  });
});
