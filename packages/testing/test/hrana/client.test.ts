import { createClient, LibsqlBatchError, LibsqlError } from "@libsql/client";
import { describe, expect, test } from "vitest";
import { startHranaServer } from "../../src/hrana/index.js";
import { rejectionOf, transports, useHranaServer } from "./helpers.js";

describe.each(transports)("@libsql/client over %s", (transport) => {
  const hrana = useHranaServer();

  test("round-trips every value type, with integers beyond 2^53 as bigint", async () => {
    const client = hrana.client(transport, { intMode: "bigint" });
    await client.execute("CREATE TABLE v (id INTEGER PRIMARY KEY, x)");
    const blob = new Uint8Array([0, 1, 2, 127, 128, 254, 255]);
    const values: unknown[] = [
      null,
      9223372036854775807n,
      -9223372036854775808n,
      9007199254740993n, // 2^53 + 1
      0n,
      3.25,
      -0.5,
      1e300,
      "héllo ✓ 🚀",
      "",
      blob,
    ];
    for (const [i, x] of values.entries()) {
      await client.execute({
        sql: "INSERT INTO v (id, x) VALUES (?, ?)",
        args: [BigInt(i), x as null],
      });
    }
    const rs = await client.execute("SELECT x, typeof(x) AS t FROM v ORDER BY id");
    expect(rs.columns).toEqual(["x", "t"]);
    expect(rs.rows.map((row) => row.t)).toEqual([
      "null",
      "integer",
      "integer",
      "integer",
      "integer",
      "real",
      "real",
      "real",
      "text",
      "text",
      "blob",
    ]);
    const got = rs.rows.map((row) => row.x);
    expect(got.slice(0, 10)).toEqual([
      null,
      9223372036854775807n,
      -9223372036854775808n,
      9007199254740993n,
      0n,
      3.25,
      -0.5,
      1e300,
      "héllo ✓ 🚀",
      "",
    ]);
    expect(new Uint8Array(got[10] as ArrayBuffer)).toEqual(blob);
  });

  test("binds a JS number as REAL and a bigint as INTEGER, as sqld does", async () => {
    const client = hrana.client(transport, { intMode: "bigint" });
    const rs = await client.execute({
      sql: "SELECT typeof(?) AS a, typeof(?) AS b, ? + 0 AS c, ? AS d",
      args: [5, 5n, 5, true],
    });
    expect(rs.rows[0]).toMatchObject({ a: "real", b: "integer", c: 5, d: 1n });
  });

  test("reads integers as numbers by default and throws RangeError beyond 2^53", async () => {
    const client = hrana.client(transport);
    const small = await client.execute("SELECT 42 AS n, 1.5 AS f");
    expect(small.rows[0]).toMatchObject({ n: 42, f: 1.5 });
    await expect(client.execute("SELECT 9223372036854775807 AS n")).rejects.toBeInstanceOf(
      RangeError,
    );
    const asString = hrana.client(transport, { intMode: "string" });
    const rs = await asString.execute("SELECT 9223372036854775807 AS n");
    expect(rs.rows[0]?.n).toBe("9223372036854775807");
  });

  test("binds named arguments with and without their prefix, and numbered ones", async () => {
    const client = hrana.client(transport, { intMode: "bigint" });
    const named = await client.execute({
      sql: "SELECT :a AS a, @b AS b, $c AS c, :a || '!' AS again",
      args: { a: "x", "@b": 2n, $c: null },
    });
    expect(named.rows[0]).toMatchObject({ a: "x", b: 2n, c: null, again: "x!" });
    const numbered = await client.execute({
      sql: "SELECT ?2 AS two, ?1 AS one, ?2 AS twoAgain",
      args: [1n, 2n],
    });
    expect(numbered.rows[0]).toMatchObject({ two: 2n, one: 1n, twoAgain: 2n });
  });

  test("returns RETURNING rows with the affected count and last insert rowid", async () => {
    const client = hrana.client(transport, { intMode: "bigint" });
    await client.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, n INTEGER)");
    const inserted = await client.execute({
      sql: "INSERT INTO t (name, n) VALUES (?, 1), (?, 2) RETURNING id, name",
      args: ["a", "b"],
    });
    expect(inserted.columns).toEqual(["id", "name"]);
    expect(inserted.columnTypes).toEqual(["INTEGER", "TEXT"]);
    expect(inserted.rows.map((row) => [row.id, row.name])).toEqual([
      [1n, "a"],
      [2n, "b"],
    ]);
    expect(inserted.rowsAffected).toBe(2);
    expect(inserted.lastInsertRowid).toBe(2n);

    const updated = await client.execute("UPDATE t SET n = n * 10 RETURNING name, n");
    expect(updated.rows.map((row) => [row.name, row.n])).toEqual([
      ["a", 10n],
      ["b", 20n],
    ]);
    expect(updated.rowsAffected).toBe(2);

    const plain = await client.execute({ sql: "INSERT INTO t (name) VALUES (?)", args: ["c"] });
    expect(plain.rowsAffected).toBe(1);
    expect(plain.lastInsertRowid).toBe(3n);
    expect(plain.rows).toEqual([]);

    const nothing = await client.execute("UPDATE t SET n = 0 WHERE name = 'zzz' RETURNING id");
    expect(nothing.rows).toEqual([]);
    expect(nothing.rowsAffected).toBe(0);

    const select = await client.execute("SELECT count(*) AS c FROM t");
    expect(select.rowsAffected).toBe(0);
    expect(select.lastInsertRowid).toBeUndefined();
  });

  test('batch(…, "write") commits all statements in one request', async () => {
    const client = hrana.client(transport, { intMode: "bigint" });
    await client.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)");
    const results = await client.batch(
      [
        { sql: "INSERT INTO t (name) VALUES (?)", args: ["a"] },
        { sql: "INSERT INTO t (name) VALUES (:name)", args: { name: "b" } },
        "SELECT name FROM t ORDER BY id",
      ],
      "write",
    );
    expect(results).toHaveLength(3);
    expect(results[0]?.rowsAffected).toBe(1);
    expect(results[1]?.lastInsertRowid).toBe(2n);
    expect(results[2]?.rows.map((row) => row.name)).toEqual(["a", "b"]);
  });

  test('batch(…, "write") is atomic: a failing statement rolls back the earlier ones', async () => {
    const client = hrana.client(transport);
    await client.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)");
    await client.execute("INSERT INTO t (name) VALUES ('existing')");
    const error = await rejectionOf(
      client.batch(
        [
          "INSERT INTO t (name) VALUES ('a')",
          "UPDATE t SET name = 'renamed' WHERE name = 'existing'",
          "INSERT INTO t (name) VALUES ('a')",
          "INSERT INTO t (name) VALUES ('never')",
        ],
        "write",
      ),
    );
    expect(error).toBeInstanceOf(LibsqlBatchError);
    expect((error as LibsqlBatchError).statementIndex).toBe(2);
    expect(error.code).toBe("SQLITE_CONSTRAINT");
    expect(error.message).toContain("UNIQUE constraint failed: t.name");
    const rows = await client.execute("SELECT name FROM t ORDER BY id");
    expect(rows.rows.map((row) => row.name)).toEqual(["existing"]);
  });

  test('batch(…, "read") reads but refuses writes; "deferred" writes', async () => {
    const client = hrana.client(transport);
    await client.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)");
    const [count] = await client.batch(["SELECT count(*) AS c FROM t"], "read");
    expect(count?.rows[0]?.c).toBe(0);
    const error = await rejectionOf(client.batch(["INSERT INTO t VALUES (1)"], "read"));
    expect(error.code).toBe("SQLITE_READONLY");
    await client.batch(["INSERT INTO t VALUES (2)", "INSERT INTO t VALUES (3)"], "deferred");
    const rows = await client.execute("SELECT id FROM t ORDER BY id");
    expect(rows.rows.map((row) => row.id)).toEqual([2, 3]);
  });

  test("an interactive transaction commits", async () => {
    const client = hrana.client(transport);
    await client.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    const tx = await client.transaction("write");
    try {
      await tx.execute("INSERT INTO t (v) VALUES ('one')");
      const seen = await tx.execute("SELECT count(*) AS c FROM t");
      expect(seen.rows[0]?.c).toBe(1);
      const [second, third] = await tx.batch([
        "INSERT INTO t (v) VALUES ('two')",
        { sql: "INSERT INTO t (v) VALUES (?) RETURNING id", args: ["three"] },
      ]);
      expect(second?.rowsAffected).toBe(1);
      expect(third?.rows[0]?.id).toBe(3);
      // not visible outside the transaction before the commit
      const outside = await client.execute("SELECT count(*) AS c FROM t");
      expect(outside.rows[0]?.c).toBe(0);
      await tx.commit();
    } finally {
      tx.close();
    }
    const rows = await client.execute("SELECT v FROM t ORDER BY id");
    expect(rows.rows.map((row) => row.v)).toEqual(["one", "two", "three"]);
  });

  test("an interactive transaction rolls back, and a failed statement does not end it", async () => {
    const client = hrana.client(transport);
    await client.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)");
    const rolledBack = await client.transaction("write");
    await rolledBack.execute("INSERT INTO t (v) VALUES ('gone')");
    await rolledBack.rollback();
    expect(rolledBack.closed).toBe(true);
    expect((await client.execute("SELECT count(*) AS c FROM t")).rows[0]?.c).toBe(0);

    const tx = await client.transaction("write");
    try {
      await tx.execute("INSERT INTO t (v) VALUES ('kept')");
      const error = await rejectionOf(tx.execute("INSERT INTO t (v) VALUES ('kept')"));
      expect(error.code).toBe("SQLITE_CONSTRAINT");
      await tx.execute("INSERT INTO t (v) VALUES ('also kept')");
      await tx.commit();
    } finally {
      tx.close();
    }
    const rows = await client.execute("SELECT v FROM t ORDER BY id");
    expect(rows.rows.map((row) => row.v)).toEqual(["kept", "also kept"]);
  });

  test('transaction("read") reads a snapshot and refuses writes', async () => {
    const client = hrana.client(transport);
    await client.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)");
    await client.execute("INSERT INTO t VALUES (1)");
    const tx = await client.transaction("read");
    try {
      expect((await tx.execute("SELECT count(*) AS c FROM t")).rows[0]?.c).toBe(1);
      await client.execute("INSERT INTO t VALUES (2)");
      // WAL snapshot: the read transaction still sees one row
      expect((await tx.execute("SELECT count(*) AS c FROM t")).rows[0]?.c).toBe(1);
      const error = await rejectionOf(tx.execute("INSERT INTO t VALUES (3)"));
      expect(error.code).toBe("SQLITE_READONLY");
      // the refused write took no write lock: other writers go on while the reader is open
      await client.batch(["INSERT INTO t VALUES (9)"], "write");
      await tx.commit();
    } finally {
      tx.close();
    }
    expect((await client.execute("SELECT count(*) AS c FROM t")).rows[0]?.c).toBe(3);
    // the connection's read-only mode ended with the transaction
    await client.execute("INSERT INTO t VALUES (4)");
  });

  test("executeMultiple runs a script without a transaction, stopping at the first error", async () => {
    const client = hrana.client(transport);
    await client.executeMultiple(`
      CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT); -- a comment; with a semicolon
      CREATE INDEX a_v ON a (v);
      INSERT INTO a (v) VALUES ('x;y'), ('z');
    `);
    const rows = await client.execute("SELECT v FROM a ORDER BY id");
    expect(rows.rows.map((row) => row.v)).toEqual(["x;y", "z"]);
    const error = await rejectionOf(
      client.executeMultiple(
        "INSERT INTO a (v) VALUES ('1'); INSERT INTO nope VALUES (1); INSERT INTO a (v) VALUES ('2');",
      ),
    );
    expect(error.code).toBe("SQLITE_ERROR");
    expect(error.message).toContain("no such table: nope");
    const after = await client.execute("SELECT v FROM a ORDER BY id");
    expect(after.rows.map((row) => row.v)).toEqual(["x;y", "z", "1"]);
  });

  test("reports errors with sqld's codes", async () => {
    const client = hrana.client(transport);
    const syntax = await rejectionOf(client.execute("SELEC 1"));
    expect(syntax).toBeInstanceOf(LibsqlError);
    expect(syntax.code).toBe("SQLITE_ERROR");
    expect(syntax.message).toBe('SQLITE_ERROR: SQLite error: near "SELEC": syntax error');
    const many = await rejectionOf(client.execute("SELECT 1; SELECT 2"));
    expect(many.code).toBe("SQL_MANY_STATEMENTS");
    const none = await rejectionOf(client.execute("   "));
    expect(none.code).toBe("SQL_NO_STATEMENT");
    const args = await rejectionOf(client.execute({ sql: "SELECT ?", args: [1, 2] }));
    expect(args.code).toBe("ARGS_INVALID");
    await client.execute("CREATE TABLE p (id INTEGER PRIMARY KEY)");
    await client.execute("CREATE TABLE c (id INTEGER PRIMARY KEY, p INTEGER REFERENCES p (id))");
    // foreign keys are on, as in libsql/sqld
    const fk = await rejectionOf(client.execute("INSERT INTO c (p) VALUES (42)"));
    expect(fk.code).toBe("SQLITE_CONSTRAINT");
    expect(fk.message).toContain("FOREIGN KEY constraint failed");
  });

  test("migrate() runs its statements with foreign keys off", async () => {
    const client = hrana.client(transport);
    await client.execute("CREATE TABLE p (id INTEGER PRIMARY KEY)");
    await client.execute("CREATE TABLE c (id INTEGER PRIMARY KEY, p INTEGER REFERENCES p (id))");
    await client.migrate(["INSERT INTO c (p) VALUES (7)", "INSERT INTO p (id) VALUES (7)"]);
    const rows = await client.execute("SELECT p FROM c");
    expect(rows.rows.map((row) => row.p)).toEqual([7]);
  });

  test("serves many statements over one client (SQL cache) with the same results", async () => {
    const client = hrana.client(transport);
    await client.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)");
    // more distinct statements than the client's SQL cache holds (30 http / 100 ws)
    for (let round = 0; round < 2; round++) {
      const stmts = Array.from({ length: 120 }, (_, i) => ({
        sql: `INSERT INTO t (v) VALUES (? + ${i})`,
        args: [round * 1000],
      }));
      await client.batch(stmts, "write");
    }
    const rs = await client.execute("SELECT count(*) AS c, sum(v) AS s FROM t");
    // sum over i of (i) twice, plus 120 * 1000 for round 1
    expect(rs.rows[0]).toMatchObject({ c: 240, s: 2 * 7140 + 120_000 });
  });
});

test("HTTP and WebSocket clients see one shared database", async () => {
  const server = await startHranaServer();
  const http = createClient({ url: server.httpUrl });
  const ws = createClient({ url: server.wsUrl });
  try {
    await http.execute("CREATE TABLE shared (v TEXT)");
    await ws.execute("INSERT INTO shared VALUES ('from ws')");
    await http.execute("INSERT INTO shared VALUES ('from http')");
    const fromWs = await ws.execute("SELECT v FROM shared ORDER BY rowid");
    expect(fromWs.rows.map((row) => row.v)).toEqual(["from ws", "from http"]);
  } finally {
    http.close();
    ws.close();
    await server.close();
  }
});
