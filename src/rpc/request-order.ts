/**
 * Keeps one client's answers linearizable in request order. JSON-RPC lets responses arrive in any
 * order, but what they say must fit the order the requests were sent in: a read sent before a
 * change is answered with the state before it, a read sent after a change with the state after it,
 * and two changes take effect in the order they were sent — even when all of them arrive in one
 * chunk and some are still waiting for the first read of the credentials.
 *
 * Each request names the state it reads and the state it writes. A request waits only for the
 * earlier requests still in flight that it conflicts with (the same state, at least one of the two
 * writing); everything else — ping, a status answered from the cache — runs at once, synchronously,
 * exactly as without this gate.
 */

/** The state a request reads and the state it changes, by name (e.g. "auth", "login"). */
export interface Access {
  readonly reads?: readonly string[];
  readonly writes?: readonly string[];
  /**
   * false: the request waits for the earlier ones it conflicts with, but later ones do not wait
   * for it. For a read that may take long and reports the state as of its end (a status that
   * asks for a token refresh first): a logout must not hang behind a refresh that hangs.
   */
  readonly holdsLater?: boolean;
}

interface InFlight {
  readonly access: Access;
  /** Settles (never rejects) when the request has finished. */
  readonly finished: Promise<void>;
}

const touches = (names: readonly string[] | undefined, other: readonly string[] | undefined) =>
  !!names && !!other && names.some((name) => other.includes(name));

/** Two requests conflict when one writes what the other reads or writes. */
export const conflicts = (a: Access, b: Access) =>
  touches(a.writes, b.writes) || touches(a.writes, b.reads) || touches(a.reads, b.writes);

const ignore = () => undefined;
const NOTHING: readonly Promise<void>[] = [];

export class RequestOrder {
  private readonly inFlight: InFlight[] = [];

  /**
   * Runs `fn` once every earlier request it conflicts with has finished. With nothing to wait for
   * it runs at once and its own result (a value or a promise) is returned unchanged.
   */
  run<R>(access: Access | undefined, fn: () => R | Promise<R>): R | Promise<R> {
    if (!access) return fn();
    // Nearly always nothing is in flight: then no list is made (this is every request's path).
    const earlier = this.inFlight.length === 0 ? NOTHING : this.inFlight.filter((request) => conflicts(request.access, access)).map((request) => request.finished);
    const outcome = earlier.length === 0 ? fn() : Promise.all(earlier).then(fn);
    // A request answered synchronously is over already: nothing later can come before it.
    if (!(outcome instanceof Promise) || access.holdsLater === false) return outcome;
    const request: InFlight = { access, finished: outcome.then(ignore, ignore) };
    this.inFlight.push(request);
    void request.finished.then(() => this.inFlight.splice(this.inFlight.indexOf(request), 1));
    return outcome;
  }

  /** How many requests are being waited on or run (for tests). */
  get pending(): number {
    return this.inFlight.length;
  }
}
