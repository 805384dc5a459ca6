import { describe, expect, it } from "vitest";
import { createLogger } from "../src/logger.js";

const at = Date.parse("2026-01-02T03:04:05.678Z");

function capture(options: Parameters<typeof createLogger>[0] = {}) {
  const lines: string[] = [];
  const logger = createLogger({ now: () => at, write: (line) => lines.push(line), ...options });
  return { logger, lines };
}

describe("createLogger", () => {
  it("writes text lines: time, level, message, key=value fields", () => {
    const { logger, lines } = capture();
    logger.info("listening", {
      port: 4001,
      address: "localhost:4001",
      note: "two words",
      skipped: undefined,
    });
    logger.warn("failed", { error: new Error("boom"), data: { a: [1] } });
    expect(lines).toEqual([
      '2026-01-02T03:04:05.678Z INFO listening port=4001 address=localhost:4001 note="two words"',
      '2026-01-02T03:04:05.678Z WARN failed error="boom" data={"a":[1]}',
    ]);
  });

  it("drops lines below the level (default info)", () => {
    const { logger, lines } = capture();
    logger.debug("hidden");
    const warnOnly = capture({ level: "warn" });
    warnOnly.logger.info("hidden");
    warnOnly.logger.error("shown");
    expect(lines).toEqual([]);
    expect(warnOnly.lines).toHaveLength(1);
  });

  it("writes one JSON object per line with time, level, msg and the fields", () => {
    const { logger, lines } = capture({ format: "json", level: "debug" });
    logger.debug("a message", { instanceId: "i-1", count: 3, big: 10n });
    const cause = new Error("root");
    const error = Object.assign(new RangeError("outer", { cause }), { code: "Internal" });
    logger.error("failed", { error, msg: "does not replace the message", level: "neither" });
    const [first, second] = lines.map((line) => JSON.parse(line));
    expect(first).toEqual({
      time: "2026-01-02T03:04:05.678Z",
      level: "debug",
      msg: "a message",
      instanceId: "i-1",
      count: 3,
      big: "10",
    });
    expect(second).toMatchObject({
      time: "2026-01-02T03:04:05.678Z",
      level: "error",
      msg: "failed",
      error: {
        name: "RangeError",
        message: "outer",
        code: "Internal",
        cause: { name: "Error", message: "root" },
      },
    });
    expect(second.error.stack).toContain("RangeError: outer");
    expect(Object.keys(second).slice(0, 3)).toEqual(["time", "level", "msg"]);
  });

  it("survives fields JSON cannot write", () => {
    const { logger, lines } = capture({ format: "json" });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    logger.info("odd", { circular });
    expect(JSON.parse(lines[0] ?? "")).toMatchObject({ level: "info", msg: "odd" });
  });
});
