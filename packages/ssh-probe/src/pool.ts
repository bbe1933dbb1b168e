import type { Connection } from "./connection.js";

/**
 * Idle connections per target, bounded in total (least recently used closed first), each closed after an idle
 * timeout. A connection is either checked out (owned by one probe) or idle here, never both.
 */
export class ConnectionPool {
  private readonly idle = new Map<string, Connection[]>();
  private idleCount = 0;
  /** Every connection alive (idle or in use), for stats and close(). */
  readonly open = new Set<Connection>();

  constructor(
    private readonly maxIdle: number,
    private readonly idleTimeoutMs: number,
  ) {}

  get size(): number {
    return this.idleCount;
  }

  /** Registers a fresh connection so close() can reach it and a remote close is noticed. */
  track(conn: Connection): void {
    this.open.add(conn);
    const onClose = () => {
      conn.closed = true;
      this.open.delete(conn);
      this.remove(conn);
    };
    conn.onClosed = onClose;
    conn.client.once("close", onClose);
    conn.sock.once("close", onClose);
  }

  /** The most recently used live idle connection for `key`, if any. */
  take(key: string): Connection | undefined {
    const list = this.idle.get(key);
    while (list && list.length > 0) {
      const conn = list.pop()!;
      this.idleCount--;
      if (list.length === 0) this.idle.delete(key);
      clearTimeout(conn.idleTimer);
      conn.idleTimer = undefined;
      if (!conn.closed) return conn;
    }
    return undefined;
  }

  /** Returns a healthy connection after use. */
  release(conn: Connection): void {
    if (conn.closed) return;
    let list = this.idle.get(conn.key);
    if (list) {
      // Move the key to the most-recently-used end of the map.
      this.idle.delete(conn.key);
    } else {
      list = [];
    }
    this.idle.set(conn.key, list);
    list.push(conn);
    this.idleCount++;
    conn.idleTimer = setTimeout(() => {
      this.remove(conn);
      destroyConnection(conn);
    }, this.idleTimeoutMs);
    conn.idleTimer.unref();
    while (this.idleCount > this.maxIdle) {
      const oldestKey = this.idle.keys().next().value as string;
      const oldest = this.idle.get(oldestKey)![0]!;
      this.remove(oldest);
      destroyConnection(oldest);
    }
  }

  private remove(conn: Connection): void {
    const list = this.idle.get(conn.key);
    if (!list) return;
    const i = list.indexOf(conn);
    if (i < 0) return;
    list.splice(i, 1);
    this.idleCount--;
    if (list.length === 0) this.idle.delete(conn.key);
    clearTimeout(conn.idleTimer);
    conn.idleTimer = undefined;
  }

  /** Closes every connection, idle or in use. */
  closeAll(): void {
    for (const conn of [...this.open]) {
      this.remove(conn);
      destroyConnection(conn);
    }
  }
}

/** Ends a connection politely and makes sure the socket is gone (an unresponsive peer cannot keep it). */
export function endConnection(conn: Connection): void {
  if (conn.closed) return;
  conn.client.end();
  // After a polite SSH disconnect, drop the socket rather than wait for the peer's FIN.
  setImmediate(() => destroyConnection(conn));
}

export function destroyConnection(conn: Connection): void {
  clearTimeout(conn.idleTimer);
  conn.idleTimer = undefined;
  conn.client.destroy();
  conn.sock.destroy();
  conn.closed = true;
  conn.onClosed?.();
}
