import { describe, expect, it } from "vitest";
import { GroupCommitter } from "../src/sql/group-commit.js";
import {
  markOutcomeUnknown,
  type SqlDriver,
  type SqlResult,
  type SqlStatement,
} from "../src/sql/index.js";

/** A driver that records each transaction and fails any containing a statement "fail". */
function recordingDriver() {
  const transactions: string[][] = [];
  const driver: SqlDriver = {
    description: "recording",
    async batch(statements: readonly SqlStatement[]): Promise<SqlResult[]> {
      transactions.push(statements.map((s) => s.sql));
      if (statements.some((s) => s.sql === "fail"))
        throw Object.assign(new Error("boom"), { code: "SQLITE_CONSTRAINT" });
      return statements.map((s) => ({ rows: [[s.sql]], changes: 1 }));
    },
    close: async () => {},
  };
  return { driver, transactions };
}

const stmt = (sql: string): SqlStatement => ({ sql, args: [] });

describe("GroupCommitter", () => {
  it("applies writes issued together as one transaction and gives each caller its own results", async () => {
    const { driver, transactions } = recordingDriver();
    const group = new GroupCommitter(driver);
    const [a, b, c] = await Promise.all([
      group.write([stmt("a1"), stmt("a2")]),
      group.write([stmt("b1")]),
      group.write([stmt("c1"), stmt("c2"), stmt("c3")]),
    ]);
    expect(transactions).toEqual([["a1", "a2", "b1", "c1", "c2", "c3"]]);
    expect(a?.map((r) => r.rows[0]?.[0])).toEqual(["a1", "a2"]);
    expect(b?.map((r) => r.rows[0]?.[0])).toEqual(["b1"]);
    expect(c?.map((r) => r.rows[0]?.[0])).toEqual(["c1", "c2", "c3"]);
  });

  it("fails only the operation at fault when a grouped transaction fails", async () => {
    const { driver, transactions } = recordingDriver();
    const group = new GroupCommitter(driver);
    const outcomes = await Promise.allSettled([
      group.write([stmt("ok1")]),
      group.write([stmt("fail")]),
      group.write([stmt("ok2")]),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    // The group was rolled back, then each operation ran alone.
    expect(transactions).toEqual([["ok1", "fail", "ok2"], ["ok1"], ["fail"], ["ok2"]]);
  });

  it("keeps one transaction in flight and groups what arrives meanwhile", async () => {
    const transactions: string[][] = [];
    let release: (() => void) | undefined;
    const driver: SqlDriver = {
      description: "slow",
      async batch(statements) {
        transactions.push(statements.map((s) => s.sql));
        if (transactions.length === 1) await new Promise<void>((resolve) => (release = resolve));
        return statements.map(() => ({ rows: [], changes: 1 }));
      },
      close: async () => {},
    };
    const group = new GroupCommitter(driver);
    const first = group.write([stmt("first")]);
    await new Promise((resolve) => setImmediate(resolve));
    const later = [group.write([stmt("x")]), group.write([stmt("y")])];
    await new Promise((resolve) => setImmediate(resolve));
    expect(transactions).toEqual([["first"]]);
    release?.();
    await Promise.all([first, ...later]);
    expect(transactions).toEqual([["first"], ["x", "y"]]);
  });
});

describe("GroupCommitter with a lost response", () => {
  it("rejects every member instead of re-running writes that may have committed", async () => {
    const transactions: string[][] = [];
    const driver: SqlDriver = {
      description: "lossy",
      async batch(statements) {
        transactions.push(statements.map((s) => s.sql));
        throw markOutcomeUnknown(new Error("connection reset after the request was sent"));
      },
      close: async () => {},
    };
    const group = new GroupCommitter(driver);
    const outcomes = await Promise.allSettled([group.write([stmt("a")]), group.write([stmt("b")])]);
    expect(outcomes.map((o) => o.status)).toEqual(["rejected", "rejected"]);
    expect(transactions).toEqual([["a", "b"]]);
  });
});
