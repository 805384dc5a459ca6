interface Lease {
  readonly token: string;
  expiresAtMs: number;
  /** Work for the instance arrived while leased here, and nobody was told yet. */
  deferred: boolean;
}

/**
 * The orchestration leases this backend handed out and that are not yet committed or abandoned.
 * Work that arrives for such an instance (an activity result, a raised event) cannot be locked
 * until the lease ends, so waking the dispatcher for it would only make the lock step walk past
 * the waiting rows again and again (a fan-out of 10,000 results: quadratic). It is announced
 * once, when the lease ends here, instead; a lease that expires unreleased stops deferring, and
 * other processes find the rows by polling as before.
 */
export class LeasedInstances {
  readonly #leases = new Map<string, Lease>();

  /** Records the lease `token` of `instanceId`, valid until `expiresAtMs`. */
  add(instanceId: string, token: string, expiresAtMs: number): void {
    const deferred = this.#leases.get(instanceId)?.deferred ?? false;
    this.#leases.set(instanceId, { token, expiresAtMs, deferred });
  }

  /** The lease `token` of `instanceId` now runs until `expiresAtMs`. */
  renew(instanceId: string, token: string, expiresAtMs: number): void {
    const lease = this.#leases.get(instanceId);
    if (lease?.token === token) lease.expiresAtMs = expiresAtMs;
  }

  /**
   * True when `instanceId` is leased here now: the caller skips the wake-up, and {@link release}
   * reports it instead.
   */
  defer(instanceId: string, nowMs: number): boolean {
    const lease = this.#leases.get(instanceId);
    if (lease === undefined || lease.expiresAtMs <= nowMs) return false;
    lease.deferred = true;
    return true;
  }

  /** True when no orchestration lease handed out here is outstanding. */
  get none(): boolean {
    return this.#leases.size === 0;
  }

  /** True when `instanceId` is leased here now. */
  holds(instanceId: string, nowMs: number): boolean {
    const lease = this.#leases.get(instanceId);
    return lease !== undefined && lease.expiresAtMs > nowMs;
  }

  /** Ends the lease `token` of `instanceId`; true when work for it was deferred meanwhile. */
  release(instanceId: string, token: string): boolean {
    const lease = this.#leases.get(instanceId);
    if (lease?.token !== token) return false;
    this.#leases.delete(instanceId);
    return lease.deferred;
  }
}
