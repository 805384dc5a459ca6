import { describe, expect, it } from "vitest";
import { createConsoleLogger, formatLine } from "./console-logger.js";

describe("createConsoleLogger", () => {
  it("drops lines below the threshold and formats fields", () => {
    const lines: string[] = [];
    const logger = createConsoleLogger({ level: "info", write: (line) => lines.push(line) });
    logger.debug("hidden");
    logger.info("worker started", { backend: "sqlite::x.db", count: 3, reason: "two words" });
    logger.error("boom", { error: new Error("bad thing") });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^\d{4}-\d\d-\d\dT[\d:.]+Z INFO {2}worker started backend=sqlite::x.db count=3 reason="two words"$/,
    );
    expect(lines[1]).toMatch(/ERROR boom error="bad thing"$/);
  });

  it("writes a bare message without fields", () => {
    expect(formatLine("warn", "careful")).toMatch(/Z WARN {2}careful$/);
  });
});
