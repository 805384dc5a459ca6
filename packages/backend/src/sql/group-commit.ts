import { isOutcomeUnknown, type SqlDriver, type SqlResult, type SqlStatement } from "./driver.js";

interface Queued {
  readonly statements: readonly SqlStatement[];
  resolve(results: SqlResult[]): void;
  reject(error: unknown): void;
}

/** Most statements one grouped transaction carries; the rest wait for the next one. */
const maxStatementsPerGroup = 4000;

/**
 * Group commit: write batches requested while another group is being written, or in the same
 * event-loop turn, are applied together as one transaction, so a busy engine pays for one
 * commit (one fsync at `synchronous=FULL`, one round trip to a remote database) instead of one
 * per operation. Each caller still gets exactly its own statements' results, and its promise
 * settles only after the transaction that carried them committed.
 *
 * Every operation's statements are written to be correct whatever ran before them in the same
 * transaction (lease guards, conflicts resolved in SQL), so grouping changes no outcome. If a
 * grouped transaction fails, it was rolled back as a whole; each operation is then retried alone,
 * so only the one at fault sees the error — unless the driver says the outcome is unknown (a
 * lost response), when every member gets the error and nothing is re-run.
 */
export class GroupCommitter {
  readonly #driver: SqlDriver;
  #queue: Queued[] = [];
  #flushing = false;

  constructor(driver: SqlDriver) {
    this.#driver = driver;
  }

  /** Runs `statements` atomically, possibly in one transaction with other callers' writes. */
  write(statements: readonly SqlStatement[]): Promise<SqlResult[]> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ statements, resolve, reject });
      if (!this.#flushing) {
        this.#flushing = true;
        // Let the rest of this turn's writes join the group.
        setImmediate(() => void this.#flush());
      }
    });
  }

  async #flush(): Promise<void> {
    while (this.#queue.length > 0) {
      const group = this.#take();
      if (group.length === 1) await this.#runAlone(group[0] as Queued);
      else await this.#runGroup(group);
    }
    this.#flushing = false;
  }

  #take(): Queued[] {
    let statements = 0;
    let count = 0;
    for (const queued of this.#queue) {
      if (count > 0 && statements + queued.statements.length > maxStatementsPerGroup) break;
      statements += queued.statements.length;
      count++;
    }
    return this.#queue.splice(0, count);
  }

  async #runGroup(group: readonly Queued[]): Promise<void> {
    let results: SqlResult[];
    try {
      results = await this.#driver.batch(
        group.flatMap((q) => q.statements),
        "write",
      );
    } catch (error) {
      if (isOutcomeUnknown(error)) {
        // It may have committed: running the members again could apply them twice. Every
        // member gets the error (leased work is safe to retry: a repeat fails its lease guard).
        for (const queued of group) queued.reject(error);
        return;
      }
      // Rolled back as a whole: find the operation at fault by running each alone.
      for (const queued of group) await this.#runAlone(queued);
      return;
    }
    let offset = 0;
    for (const queued of group) {
      queued.resolve(results.slice(offset, offset + queued.statements.length));
      offset += queued.statements.length;
    }
  }

  async #runAlone(queued: Queued): Promise<void> {
    try {
      queued.resolve(await this.#driver.batch(queued.statements, "write"));
    } catch (error) {
      queued.reject(error);
    }
  }
}
