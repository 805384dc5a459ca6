import { describe, expect, test } from "vitest";
import { scanSqlParameters } from "../../src/hrana/sql-params.js";

describe("scanSqlParameters", () => {
  test("numbers anonymous, numbered and named parameters as SQLite does", () => {
    expect(scanSqlParameters("SELECT ?, ?, ?")).toEqual({
      count: 3,
      names: [null, null, null, null],
    });
    expect(scanSqlParameters("SELECT ?2, ?, ?1")).toEqual({
      count: 3,
      names: [null, "?1", "?2", null],
    });
    expect(scanSqlParameters("SELECT :a, @b, $c, :a, ?")).toEqual({
      count: 4,
      names: [null, ":a", "@b", "$c", null],
    });
    expect(scanSqlParameters("SELECT ?5")).toEqual({
      count: 5,
      names: [null, null, null, null, null, "?5"],
    });
    expect(scanSqlParameters("SELECT 1")).toEqual({ count: 0, names: [null] });
  });

  test("ignores look-alikes in strings, identifiers and comments", () => {
    const sql = `SELECT '?:a', "col?", [x:y], \`t@z\`, a$b, 'it''s ?' -- ? :c
      /* ?1 $d */ , :real FROM t WHERE x = ?`;
    expect(scanSqlParameters(sql)).toEqual({ count: 2, names: [null, ":real", null] });
  });

  test("accepts Tcl-style and :: names", () => {
    expect(scanSqlParameters("SELECT $a::b, $arr(1 2), :x")).toEqual({
      count: 3,
      names: [null, "$a::b", "$arr(1 2)", ":x"],
    });
  });
});
