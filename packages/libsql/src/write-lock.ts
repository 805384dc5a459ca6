/** A FIFO async mutex: {@link WriteLock.run} runs one function at a time, in call order. */
export class WriteLock {
  #tail: Promise<void> = Promise.resolve();

  /** Runs `fn` once every earlier `run` has settled; returns (or throws) what `fn` does. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn);
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

// One lock per database file in this process, so that several drivers (backends) on one file
// never overlap their write transactions either: libSQL would answer SQLITE_BUSY at once.
const fileLocks = new Map<string, { lock: WriteLock; users: number }>();

/**
 * The process-wide write lock of the database file `key`; call the returned `release` when the
 * driver is done with it (the lock is forgotten when its last user releases it).
 */
export function acquireFileLock(key: string): { lock: WriteLock; release: () => void } {
  let entry = fileLocks.get(key);
  if (entry === undefined) {
    entry = { lock: new WriteLock(), users: 0 };
    fileLocks.set(key, entry);
  }
  entry.users++;
  const held = entry;
  let released = false;
  return {
    lock: held.lock,
    release: () => {
      if (released) return;
      released = true;
      if (--held.users === 0 && fileLocks.get(key) === held) fileLocks.delete(key);
    },
  };
}
