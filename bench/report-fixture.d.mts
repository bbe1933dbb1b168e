export declare function fateOf(
  i: number,
): "missing" | "rebooted" | "newly-failing" | "recovered" | "failing" | "steady";
export declare function uptimeSecondsOf(i: number): number;
export declare function writeRuns(
  dir: string,
  hosts: number,
  options?: { t0?: number; name?: (i: number) => string },
): {
  files: [string, string];
  expected: {
    rebooted: number;
    newlyFailing: number;
    recovered: number;
    missing: number;
    failed: number;
    ok: number;
  };
};
