import { describe, expect, it } from "vitest";
import { chunks, maxRowsPerStatement, placeholderRows, valuesStatements } from "./values.js";

describe("multi-row VALUES statements", () => {
  it("chunk rows at the statement bound", () => {
    expect(maxRowsPerStatement).toBe(500);
    expect(chunks(Array.from({ length: 1201 }, (_, i) => i)).map((c) => c.length)).toEqual([
      500, 500, 201,
    ]);
    expect(chunks([])).toEqual([]);
  });

  it("build placeholders and arguments in text order", () => {
    expect(placeholderRows(2, 3)).toBe("(?, ?), (?, ?), (?, ?)");
    const rows = Array.from({ length: 501 }, (_, i) => [i, `e${i}`]);
    const statements = valuesStatements(
      rows,
      (v) => `SELECT ? FROM (VALUES ${v}) WHERE ?`,
      ["head"],
      ["tail"],
    );
    expect(statements).toHaveLength(2);
    expect(statements[1]).toEqual({
      sql: "SELECT ? FROM (VALUES (?, ?)) WHERE ?",
      args: ["head", 500, "e500", "tail"],
    });
    expect(statements[0]?.args).toHaveLength(1 + 500 * 2 + 1);
    expect(valuesStatements([], (v) => v)).toEqual([]);
  });

  it("give each builder, row count and width its own text, built again for none", () => {
    const build = (v: string) => `VALUES ${v}`;
    const sqlOf = (width: number, count: number) =>
      valuesStatements(
        Array.from({ length: count }, () => Array.from({ length: width }, () => 1)),
        build,
      )[0]?.sql;
    expect(sqlOf(1, 2)).toBe("VALUES (?), (?)");
    expect(sqlOf(2, 1)).toBe("VALUES (?, ?)");
    expect(sqlOf(2, 2)).toBe("VALUES (?, ?), (?, ?)");
    expect(sqlOf(1, 2)).toBe("VALUES (?), (?)");
    expect(valuesStatements([[1]], (v) => `SELECT ${v}`)[0]?.sql).toBe("SELECT (?)");
    expect(sqlOf(1, 40)).toBe(`VALUES ${placeholderRows(1, 40)}`);
  });
});
