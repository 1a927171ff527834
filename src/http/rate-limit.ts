// Token buckets per client (access key, or IP for anonymous requests): O(1) per request, no
// locks (one event loop), memory bounded by the number of recently active clients.

interface Bucket {
  tokens: number;
  /** Milliseconds of the last refill. */
  at: number;
  rate: number;
}

export interface RateLimitOptions {
  /** Requests per second. 0 turns limiting off. */
  rate: number;
  /** Requests allowed at once above the rate (the bucket size). */
  burst: number;
  /** Most clients tracked; the least recently seen are forgotten first. */
  maxClients?: number;
}

export class RateLimiter {
  private readonly rate: number;
  private readonly burst: number;
  private readonly maxClients: number;
  private readonly buckets = new Map<string, Bucket>();

  constructor(options: RateLimitOptions) {
    this.rate = options.rate;
    this.burst = Math.max(1, options.burst);
    this.maxClients = options.maxClients ?? 100_000;
  }

  /**
   * Takes one token for `client`. Returns 0 when the request may go ahead, or the seconds to wait
   * (for Retry-After) when it must be refused. `rate` overrides the default for this client.
   */
  take(client: string, override?: number, now = Date.now()): number {
    const rate = override ?? this.rate;
    if (rate <= 0) return 0;
    // An account's own rate brings its own burst: one second's worth.
    const size = override !== undefined ? Math.max(1, override) : this.burst;
    let b = this.buckets.get(client);
    if (b) {
      // Re-insert to keep the Map in least-recently-seen order for eviction.
      this.buckets.delete(client);
      b.tokens = Math.min(size, b.tokens + ((now - b.at) / 1000) * rate);
      b.at = now;
      b.rate = rate;
    } else {
      if (this.buckets.size >= this.maxClients) this.buckets.delete(this.buckets.keys().next().value!);
      b = { tokens: size, at: now, rate };
    }
    this.buckets.set(client, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / rate));
  }

  get trackedClients(): number {
    return this.buckets.size;
  }
}
