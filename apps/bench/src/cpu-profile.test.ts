import { describe, expect, it } from "vitest";
import { type CpuProfile, packageOf, shortFile, summarizeProfile } from "./cpu-profile.js";

const repo = "file:///work/main/packages/sqlite/dist/sqlite-driver.js";
const dep =
  "file:///work/main/node_modules/.pnpm/@grpc+grpc-js@1.14.7/node_modules/@grpc/grpc-js/build/src/server.js";

const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: { functionName: "(root)", url: "", lineNumber: -1 } },
    { id: 2, callFrame: { functionName: "execute", url: repo, lineNumber: 41 } },
    { id: 3, callFrame: { functionName: "", url: dep, lineNumber: 9 } },
    { id: 4, callFrame: { functionName: "(idle)", url: "", lineNumber: -1 } },
    { id: 5, callFrame: { functionName: "(garbage collector)", url: "", lineNumber: -1 } },
  ],
  startTime: 1000,
  endTime: 2000,
  // at 1100 (2, 300 µs), 1400 (3, 100 µs), 1500 (2, 200 µs), 1700 (4, 100 µs), 1800 (5, 0 µs)
  samples: [2, 3, 2, 4, 5],
  timeDeltas: [100, 300, 100, 200, 100],
};

describe("summarizeProfile", () => {
  it("charges each sample the time to the next one, by function, file and package", () => {
    const summary = summarizeProfile(profile);
    expect(summary.totalMs).toBeCloseTo(0.6);
    expect(summary.idleMs).toBeCloseTo(0.1);
    expect(summary.byFunction[0]).toMatchObject({
      name: "execute packages/sqlite/dist/sqlite-driver.js:42",
      selfMs: 0.5,
    });
    expect(summary.byFunction[0]?.share).toBeCloseTo(5 / 6);
    expect(summary.byFile.map((row) => row.name)).toEqual([
      "packages/sqlite/dist/sqlite-driver.js",
      "@grpc/grpc-js/build/src/server.js",
      "(garbage collector)",
    ]);
    expect(summary.byPackage.map((row) => row.name)).toEqual([
      "@durabletask/sqlite",
      "@grpc/grpc-js",
      "(garbage collector)",
    ]);
  });

  it("counts only the samples within a window", () => {
    const summary = summarizeProfile(profile, { startUs: 1300, endUs: 1600 });
    expect(summary.byFunction.map((row) => [row.name, row.selfMs])).toEqual([
      ["execute packages/sqlite/dist/sqlite-driver.js:42", 0.2],
      ["(anonymous) @grpc/grpc-js/build/src/server.js:10", 0.1],
    ]);
  });

  it("names files and packages", () => {
    expect(shortFile(dep)).toBe("@grpc/grpc-js/build/src/server.js");
    expect(packageOf("node:internal/http2/core", "x")).toBe("node:internal");
    expect(packageOf("file:///x/node_modules/better-sqlite3/lib/index.js", "x")).toBe(
      "better-sqlite3",
    );
  });
});
