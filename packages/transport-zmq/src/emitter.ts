import { EventEmitter } from "node:events";

/** Event name to listener arguments. */
export type EventMap = Record<string, unknown[]>;

/**
 * A typed EventEmitter. Listener exceptions are not ours to handle: they propagate
 * as with EventEmitter. There is no "error" event, so emitting never throws by itself.
 */
export class TypedEmitter<E extends EventMap> {
  private readonly emitter = new EventEmitter();

  /** Adds a listener for `event`. */
  on<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.emitter.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** Adds a listener called once for `event`. */
  once<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.emitter.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** Removes a listener added with {@link on}. */
  off<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.emitter.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  protected emit<K extends keyof E & string>(event: K, ...args: E[K]): void {
    if (this.emitter.listenerCount(event) > 0) this.emitter.emit(event, ...args);
  }
}
