import type { LogFields, Logger } from "@uptime/protocol/check";

/** A logger that drops everything (the default: libraries never print). */
export const silentLogger: Logger = {};

/**
 * Logs at most `perSecond` warnings per second and summarises the rest in one line when the
 * second is over, so a flood of bad frames or refused handshakes cannot turn into a flood of log lines.
 */
export class RateLimitedWarn {
  private windowStart = 0;
  private count = 0;
  private suppressed = 0;
  private summary: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly perSecond = 20,
  ) {}

  warn(msg: string, fields?: LogFields): void {
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      this.flush();
      this.windowStart = now;
      this.count = 0;
    }
    if (this.count < this.perSecond) {
      this.count++;
      this.logger.warn?.(msg, fields);
      return;
    }
    this.suppressed++;
    if (!this.summary) {
      this.summary = setTimeout(() => this.flush(), Math.max(1, this.windowStart + 1000 - now));
      this.summary.unref?.();
    }
  }

  private flush(): void {
    clearTimeout(this.summary);
    this.summary = undefined;
    if (this.suppressed === 0) return;
    const suppressed = this.suppressed;
    this.suppressed = 0;
    this.logger.warn?.(`${suppressed} more warnings suppressed`, { suppressed });
  }
}
