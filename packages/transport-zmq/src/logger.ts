/** Where the transport reports what happened. Libraries never print: pass your own. */
export interface Logger {
  debug?(msg: string, fields?: object): void;
  info?(msg: string, fields?: object): void;
  warn(msg: string, fields?: object): void;
  error?(msg: string, fields?: object): void;
}

/** A logger that drops everything. */
export const silentLogger: Logger = { warn() {} };

/**
 * Logs at most `perSecond` warnings per second and summarises the rest, so a
 * flood of bad frames cannot turn into a flood of log lines.
 */
export class RateLimitedWarn {
  private windowStart = 0;
  private count = 0;
  private suppressed = 0;

  constructor(
    private readonly logger: Logger,
    private readonly perSecond = 20,
  ) {}

  warn(msg: string, fields?: object): void {
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      if (this.suppressed > 0) {
        this.logger.warn(`${this.suppressed} more warnings suppressed`, { suppressed: this.suppressed });
      }
      this.windowStart = now;
      this.count = 0;
      this.suppressed = 0;
    }
    if (this.count < this.perSecond) {
      this.count++;
      this.logger.warn(msg, fields);
    } else {
      this.suppressed++;
    }
  }
}
