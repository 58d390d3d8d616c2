/**
 * Throttling of failed logins (POST /api/login and HTTP Basic alike), so that guessing
 * passwords is slow and cannot keep the server busy: a wrong password costs ~33 ms of
 * scrypt, and 300 of them from 16 clients slowed a concurrent C-STORE of 60 CT from 0.7 s
 * to 10-18 s (issue 15). Past a limit the attempt is refused before any hashing.
 *
 * Two counts, each over a sliding window (the last N failures' times):
 *   - per user name *from one address*: a name tried and failed `maxFailuresPerUser` times
 *     from an address is refused from that address. Not per name alone: then anybody could
 *     lock the admin out from anywhere with five wrong passwords, and the admin's right
 *     password from their own desk must still work.
 *   - per address: `maxFailuresPerAddress` failures from one address, whatever the names,
 *     and every further attempt from it is refused. IPv6 clients are counted by their /64
 *     network, since one host is usually given a whole /64 to pick addresses from.
 * An attempt is counted as a failure before its password is hashed, and taken back when
 * it succeeds: else 16 clients at once would all pass the check while the first ones are
 * still hashing, and get 16 + the limit attempts. A success also resets the count of that
 * name from that address. Memory is bounded: at most
 * `maxKeys` keys per count; the least recently failed is forgotten first.
 */
import { isIP } from 'node:net';

export interface ThrottleSettings {
  maxFailuresPerUser: number;
  maxFailuresPerAddress: number;
  windowMs: number;
  /** Keys remembered per count (user-at-address, address). */
  maxKeys: number;
}

export type ThrottleCheck = { blocked: undefined } | { blocked: 'user' | 'address'; retryAfterSeconds: number };

/** Failure times of one key, newest last, at most `max` of them. */
class Window {
  private readonly times: number[] = [];

  add(now: number, max: number): void {
    this.times.push(now);
    if (this.times.length > max) this.times.splice(0, this.times.length - max);
  }

  /** Milliseconds until fewer than `max` failures lie within the window; 0 when already so. */
  blockedFor(now: number, max: number, windowMs: number): number {
    if (this.times.length < max) return 0;
    const oldest = this.times[this.times.length - max];
    return Math.max(0, oldest + windowMs - now);
  }

  removeNewest(): void {
    this.times.pop();
  }

  expired(now: number, windowMs: number): boolean {
    return this.times.length === 0 || this.times[this.times.length - 1] + windowMs <= now;
  }
}

/** A Map used as an LRU: a key touched moves to the end; past `max` keys the first goes. */
class BoundedWindows {
  private readonly map = new Map<string, Window>();

  constructor(private readonly max: number) {}

  get size(): number {
    return this.map.size;
  }

  get(key: string): Window | undefined {
    return this.map.get(key);
  }

  touch(key: string): Window {
    let w = this.map.get(key);
    if (w) this.map.delete(key);
    else w = new Window();
    this.map.set(key, w);
    while (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
    return w;
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  /** Drops windows with no failure inside the window any more, oldest first, stopping at the first live one. */
  prune(now: number, windowMs: number): void {
    for (const [k, w] of this.map) {
      if (!w.expired(now, windowMs)) return;
      this.map.delete(k);
    }
  }
}

/** The key an address is counted under: IPv4 as is, IPv6 by its first 64 bits. */
export function addressKey(address: string): string {
  const v4mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (v4mapped) return v4mapped[1];
  if (isIP(address) !== 6) return address;
  const [head, tail = ''] = address.split('::');
  const h = head ? head.split(':') : [];
  const t = address.includes('::') && tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

export class LoginThrottle {
  private readonly users: BoundedWindows;
  private readonly addresses: BoundedWindows;

  private readonly current: () => ThrottleSettings;

  /** `settings` may be a function: the limits are then read at every check (a registry change applies at once; `maxKeys` from the start). */
  constructor(settings: ThrottleSettings | (() => ThrottleSettings)) {
    this.current = typeof settings === 'function' ? settings : () => settings;
    const { maxKeys } = this.current();
    this.users = new BoundedWindows(maxKeys);
    this.addresses = new BoundedWindows(maxKeys);
  }

  /** Keys remembered (both counts). */
  get size(): number {
    return this.users.size + this.addresses.size;
  }

  /** Whether an attempt for `user` from `address` may go ahead (checked before hashing the password). */
  check(user: string, address: string, now = Date.now()): ThrottleCheck {
    const s = this.current();
    const byAddress = this.checkAddress(address, now);
    if (byAddress.blocked) return byAddress;
    const byUser = this.users.get(userKey(user, address))?.blockedFor(now, s.maxFailuresPerUser, s.windowMs) ?? 0;
    if (byUser > 0) return { blocked: 'user', retryAfterSeconds: Math.ceil(byUser / 1000) };
    return { blocked: undefined };
  }

  /** The address count alone: known before a request's body (and its user name) is read. */
  checkAddress(address: string, now = Date.now()): ThrottleCheck {
    const s = this.current();
    const byAddress = this.addresses.get(addressKey(address))?.blockedFor(now, s.maxFailuresPerAddress, s.windowMs) ?? 0;
    return byAddress > 0 ? { blocked: 'address', retryAfterSeconds: Math.ceil(byAddress / 1000) } : { blocked: undefined };
  }

  /** Records a failure; says which count it brought to its limit (so that is logged once, not every refused attempt). */
  failed(user: string, address: string, now = Date.now()): 'user' | 'address' | undefined {
    const s = this.current();
    this.users.prune(now, s.windowMs);
    this.addresses.prune(now, s.windowMs);
    this.users.touch(userKey(user, address)).add(now, s.maxFailuresPerUser);
    this.addresses.touch(addressKey(address)).add(now, s.maxFailuresPerAddress);
    const after = this.check(user, address, now);
    return after.blocked;
  }

  /**
   * The attempt that was counted (by `failed`, before its password was checked) succeeded:
   * the user name's count from this address starts again, and the address loses that one failure.
   */
  succeeded(user: string, address: string): void {
    this.users.delete(userKey(user, address));
    this.addresses.get(addressKey(address))?.removeNewest();
  }
}

// JSON of the pair: no separator character a user name could contain can make two pairs one key.
const userKey = (user: string, address: string): string => JSON.stringify([user, addressKey(address)]);
