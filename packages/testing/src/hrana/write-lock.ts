// One writer at a time across all streams, like sqld's write queue: a stream that wants to write
// while another holds the lock waits in FIFO order instead of failing with SQLITE_BUSY.

interface Waiter {
  owner: object;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class WriteLock {
  #owner: object | undefined;
  readonly #waiters: Waiter[] = [];

  get owner(): object | undefined {
    return this.#owner;
  }

  /** Takes the lock at once if nobody holds it or waits for it. */
  tryAcquire(owner: object): boolean {
    if (this.#owner === owner) return true;
    if (this.#owner !== undefined || this.#waiters.length > 0) return false;
    this.#owner = owner;
    return true;
  }

  /** Resolves once `owner` holds the lock; rejects if `cancel(owner, …)` is called meanwhile. */
  acquire(owner: object): Promise<void> {
    if (this.tryAcquire(owner)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#waiters.push({ owner, resolve, reject });
    });
  }

  release(owner: object): void {
    if (this.#owner !== owner) return;
    const next = this.#waiters.shift();
    this.#owner = next?.owner;
    next?.resolve();
  }

  /** Removes `owner`'s pending acquisitions (rejecting them) and releases the lock if it holds it. */
  cancel(owner: object, error: Error): void {
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const waiter = this.#waiters[i];
      if (waiter?.owner === owner) {
        this.#waiters.splice(i, 1);
        waiter.reject(error);
      }
    }
    this.release(owner);
  }

  /** Rejects every waiter (server shutdown). */
  cancelAll(error: Error): void {
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
    this.#owner = undefined;
  }
}
