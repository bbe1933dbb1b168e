/** One host's latest result in one run, reduced to what a report needs. */
export interface HostRecord {
  /** The target as the operator named it in the inventory. */
  target: string;
  ok: boolean;
  /** When the probe answered, epoch milliseconds. */
  at: number;
  job: string;
  /** Uptime in seconds (ok results whose output was `uptime` output). */
  uptimeSeconds?: number;
  /** The duration part of the `uptime` line, e.g. `65 days, 17:07`. */
  uptimeText?: string;
  /** Boot time, epoch milliseconds: the result's `bootedAt`, or `at - uptime.seconds * 1000`. */
  bootedAt?: number;
  /** How far off `bootedAt` may be, seconds: 60 for minute-precision uptime text, 1 when seconds are known. */
  bootPrecisionS?: number;
  /** Error code of a failed result (`AUTH`, `CONNECT_TIMEOUT`, ...). */
  errorCode?: string;
  errorMessage?: string;
}

/** One run: the results of one NDJSON file, the latest per target. */
export interface Run {
  /** Where the run came from (a file name), for messages. */
  source: string;
  /** Job ids seen in the file, in order of first appearance. */
  jobs: string[];
  hosts: Map<string, HostRecord>;
  /** Result lines read, valid or not (blank lines excluded). */
  lines: number;
  /** Lines that were not a valid result and were skipped. */
  malformed: number;
  /** Earliest and latest `at` of the run's results (undefined when empty). */
  firstAt?: number;
  lastAt?: number;
}

/** What {@link analyzeRuns} checks. */
export interface AnalyzeOptions {
  /**
   * Hosts up longer than this many seconds are over policy; undefined: no policy.
   * @default undefined
   */
  maxUptimeS?: number;
  /**
   * Seconds allowed for clock skew between the probing hosts (and runs), added to the boot
   * time precision before a moved boot time counts as a reboot.
   * @default 120
   */
  clockSkewS?: number;
}

/** A host whose boot time moved later than the tolerance since its previous ok result. */
export interface Reboot {
  target: string;
  previousBootedAt: number;
  bootedAt: number;
  /** When the earlier boot time was observed (epoch ms). */
  previousAt: number;
  at: number;
  /** How much later the boot time is, seconds. */
  movedS: number;
  /** The tolerance applied, seconds: max(precisions) + clock skew. */
  toleranceS: number;
  uptimeSeconds: number;
}

/** A failed host. */
export interface Failure {
  target: string;
  code: string;
  message: string;
  at: number;
}

/** A host over the uptime policy. */
export interface OverPolicy {
  target: string;
  uptimeSeconds: number;
  uptimeText?: string;
  bootedAt?: number;
}

/** Counts of the uptime distribution, one per bucket of {@link UPTIME_BUCKETS}. */
export interface Bucket {
  label: string;
  /** Upper bound (exclusive), seconds; `null` for the last, open-ended bucket. */
  maxS: number | null;
  count: number;
}

/** Everything a report shows, computed from the runs. */
export interface Report {
  /** The runs, oldest first: source, jobs, counts. */
  runs: {
    source: string;
    jobs: string[];
    hosts: number;
    malformed: number;
    firstAt?: number;
    lastAt?: number;
  }[];
  /** Options applied. */
  maxUptimeS?: number;
  clockSkewS: number;
  /** Summary of the newest run. */
  summary: {
    total: number;
    ok: number;
    failed: number;
    /** Ok results without uptime output (a custom command). */
    noUptime: number;
    failuresByCode: { code: string; count: number }[];
    uptime: Bucket[];
  };
  /** Present when there are at least two runs. */
  compared: boolean;
  rebooted: Reboot[];
  overPolicy: OverPolicy[];
  failed: Failure[];
  newlyFailing: Failure[];
  recovered: { target: string; previousCode: string; uptimeSeconds?: number }[];
  missing: { target: string; lastAt: number; lastOk: boolean }[];
  /** Hosts in the newest run that were not in the previous one. */
  added: number;
}
