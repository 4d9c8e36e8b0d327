/**
 * Registrations admitted per event-loop turn. Admitting one (its session,
 * the `register_ack` write, the registry entry and its events) costs about
 * 0.3 ms of the operator's CPU; when thousands of plugins come back at once
 * (an operator restart), their registers arrive in the same few socket
 * reads, and admitting all of them there would hold every call and ping of
 * the registered plugins behind them. 128 bound that work near 40 ms per
 * turn, under the 50 ms event-loop target, and still let through more
 * registrations a second than one core can admit (32 did not: in turns
 * lengthened by connection setup, it capped the rate below that).
 */
export const REGISTRATIONS_PER_TURN = 128;

/** Options of {@link RegistrationTurns}; `defer` is there for tests. */
export interface RegistrationTurnsOptions {
  /** Registrations let through per turn. Default {@link REGISTRATIONS_PER_TURN}. */
  perTurn?: number;
  /** Runs a function on a later event-loop turn. Default `setImmediate`. */
  defer?: (run: () => void) => void;
}

/**
 * Hands out turns to admit registrations in bounded batches: at most
 * `perTurn` registrations are admitted per event-loop iteration, first come
 * first served. Under that, a registration goes on at once; past it, it
 * waits for a later iteration (after I/O, so the sockets of registered
 * plugins are read in between). Holds no timer while the loop is quiet.
 */
export class RegistrationTurns {
  private readonly waiting: (() => void)[] = [];
  private head = 0;
  /** Admitted since the last turn began. */
  private used = 0;
  private scheduled = false;
  private readonly perTurn: number;
  private readonly defer: (run: () => void) => void;

  constructor(options: RegistrationTurnsOptions = {}) {
    this.perTurn = Math.max(1, options.perTurn ?? REGISTRATIONS_PER_TURN);
    this.defer = options.defer ?? ((run) => setImmediate(run));
  }

  /** Registrations waiting for a turn now. */
  get waitingCount(): number {
    return this.waiting.length - this.head;
  }

  /** Resolves at once while this turn has room, else on a later turn. */
  take(): Promise<void> {
    this.schedule();
    if (this.waitingCount === 0 && this.used < this.perTurn) {
      this.used++;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.waiting.push(resolve);
    });
  }

  /** The next turn begins on the next iteration of the event loop. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.defer(() => this.nextTurn());
  }

  private nextTurn(): void {
    this.scheduled = false;
    const end = Math.min(this.waiting.length, this.head + this.perTurn);
    this.used = end - this.head;
    for (; this.head < end; this.head++) this.waiting[this.head]!();
    if (this.head === this.waiting.length) {
      this.waiting.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.waiting.length) {
      // Compact once the released part dominates, so the array does not keep every registration ever made.
      this.waiting.splice(0, this.head);
      this.head = 0;
    }
    // Those admitted now count against this turn; a new one begins next iteration.
    if (this.used > 0) this.schedule();
  }
}

/**
 * The turns of this process: event-loop responsiveness belongs to the
 * process, so every plugin server in it shares one.
 */
export const registrationTurns = new RegistrationTurns();
