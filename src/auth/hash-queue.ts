/**
 * Password hashes wait here for a slot. scrypt runs in libuv's thread pool, which has no queue
 * limit and no notion of fairness: left alone, one client sending a thousand logins puts a
 * thousand hashes ahead of everyone else's. Here at most `concurrency` hashes run at once, the
 * waiting line is bounded (full → the caller is refused, never an unbounded backlog), and waiting
 * logins are served round-robin by client, so a client's login waits behind at most one hash of
 * each other client that is waiting, however many that client sent.
 */
export class HashQueueFull extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('too many logins are waiting for a password check');
  }
}

interface Waiter {
  readonly start: () => void;
}

export class HashQueue {
  /** Waiting logins per client, in arrival order; the map's order is the round-robin order. */
  private readonly waiting = new Map<string, Waiter[]>();
  private waitingCount = 0;
  private running = 0;
  /** No client may hold more than this share of the waiting line, so one client cannot fill it for all. */
  private readonly perClient: number;

  constructor(
    private readonly concurrency: number,
    private readonly capacity: number,
    /** A typical hash's duration, for the `Retry-After` of a refusal. */
    private readonly hashMs = 70,
  ) {
    this.perClient = Math.max(1, Math.ceil(capacity / 4));
  }

  /** Runs `hash` when a slot is free; throws HashQueueFull when the line (or this client's share of it) is full. */
  async run<T>(client: string, hash: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency || this.waitingCount > 0) await this.wait(client);
    else this.running += 1;
    try {
      return await hash();
    } finally {
      this.release();
    }
  }

  private wait(client: string): Promise<void> {
    const line = this.waiting.get(client) ?? [];
    if (this.waitingCount >= this.capacity || line.length >= this.perClient) {
      const seconds = Math.max(1, Math.ceil(((this.waitingCount + 1) * this.hashMs) / this.concurrency / 1000));
      throw new HashQueueFull(seconds);
    }
    return new Promise<void>((resolve) => {
      line.push({ start: resolve });
      this.waiting.set(client, line);
      this.waitingCount += 1;
    });
  }

  /** Hands the slot to the first waiter of the next client in turn (or frees it). */
  private release(): void {
    const next = this.waiting.entries().next();
    if (next.done) {
      this.running -= 1;
      return;
    }
    const [client, line] = next.value;
    const waiter = line.shift()!;
    this.waiting.delete(client);
    // Re-inserting moves the client to the back of the turn order.
    if (line.length > 0) this.waiting.set(client, line);
    this.waitingCount -= 1;
    waiter.start(); // the slot passes on: `running` is unchanged
  }
}
