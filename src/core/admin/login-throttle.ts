/**
 * Login rate limiting: at most `maxFailures` failed sign-ins per key in a sliding `windowMs`, counted per
 * client address and per account (the typed UPN, whether or not it exists). A blocked key is refused
 * before the password is checked. A successful sign-in clears the account's count, not the address's.
 *
 * State is in this process's memory: it resets on restart, and several Winroll instances behind one
 * load balancer each count on their own (an attacker spread over N instances gets N times the budget).
 */
import type { Clock } from '../../shared/clock.js';

export interface ThrottleOptions {
  maxFailures: number;
  windowMs: number;
  /** Keys tracked at most; beyond it the oldest are forgotten (memory bound under a spray attack). */
  maxKeys?: number;
}

export const DEFAULT_LOGIN_THROTTLE: ThrottleOptions = { maxFailures: 10, windowMs: 15 * 60 * 1000 };

export class LoginThrottle {
  readonly #clock: Clock;
  readonly #max: number;
  readonly #window: number;
  readonly #maxKeys: number;
  readonly #failures = new Map<string, number[]>();

  constructor(clock: Clock, opts: ThrottleOptions = DEFAULT_LOGIN_THROTTLE) {
    this.#clock = clock;
    this.#max = opts.maxFailures;
    this.#window = opts.windowMs;
    this.#maxKeys = opts.maxKeys ?? 100_000;
  }

  /** Seconds until every given key may try again; 0 when none is blocked. */
  retryAfterSeconds(keys: string[]): number {
    const now = this.#clock.now().getTime();
    let wait = 0;
    for (const key of keys) {
      const times = this.#live(key, now);
      if (times.length >= this.#max) {
        // The oldest failure still counted must leave the window before another attempt is allowed.
        const oldest = times[times.length - this.#max] ?? now;
        wait = Math.max(wait, Math.ceil((oldest + this.#window - now) / 1000));
      }
    }
    return wait;
  }

  recordFailure(keys: string[]): void {
    const now = this.#clock.now().getTime();
    for (const key of keys) {
      const times = this.#live(key, now);
      times.push(now);
      this.#failures.delete(key);
      this.#failures.set(key, times);
    }
    while (this.#failures.size > this.#maxKeys) {
      const oldest = this.#failures.keys().next().value;
      if (oldest === undefined) break;
      this.#failures.delete(oldest);
    }
  }

  reset(key: string): void {
    this.#failures.delete(key);
  }

  #live(key: string, now: number): number[] {
    const times = (this.#failures.get(key) ?? []).filter((t) => t > now - this.#window);
    if (times.length === 0) this.#failures.delete(key);
    return times;
  }
}
