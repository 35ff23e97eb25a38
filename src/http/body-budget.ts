/**
 * The server-wide budget for request bodies held in memory at once (being received, decoded or
 * parsed). A request takes what it holds before holding it; when the budget is spent it waits its
 * turn (first come, first served) for a short while, then gives up, so the process answers 503
 * instead of running out of heap.
 */
export class BodyBudget {
  private used = 0;
  private readonly queue: Waiter[] = [];

  constructor(
    readonly capacity: number,
    /** How long a request may wait for room before it is refused. */
    readonly waitMs: number,
  ) {}

  /** Bytes currently taken (for tests and metrics). */
  get inUse(): number {
    return this.used;
  }

  /**
   * Takes `bytes`, waiting up to waitMs for room. A request alone (`held` is what the caller already
   * holds) always gets its bytes, the per-body limit bounding it, so a budget smaller than one body
   * still serves bodies one at a time.
   */
  async take(bytes: number, held = 0): Promise<boolean> {
    if (this.queue.length === 0 && this.fits(bytes, held)) {
      this.used += bytes;
      return true;
    }
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = {
        bytes,
        held,
        resolve,
        timer: setTimeout(() => {
          this.queue.splice(this.queue.indexOf(waiter), 1);
          resolve(false);
          this.grant(); // the head may have been this waiter, blocking smaller ones behind it
        }, this.waitMs),
      };
      this.queue.push(waiter);
    });
  }

  give(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
    this.grant();
  }

  private fits(bytes: number, held: number): boolean {
    return this.used <= held || this.used + bytes <= this.capacity;
  }

  private grant(): void {
    while (this.queue.length > 0 && this.fits(this.queue[0]!.bytes, this.queue[0]!.held)) {
      const waiter = this.queue.shift()!;
      clearTimeout(waiter.timer);
      this.used += waiter.bytes;
      waiter.resolve(true);
    }
  }
}

interface Waiter {
  readonly bytes: number;
  readonly held: number;
  readonly resolve: (granted: boolean) => void;
  readonly timer: NodeJS.Timeout;
}
