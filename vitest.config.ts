import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (dir: string) => fileURLToPath(new URL(`./${dir}/src/index.ts`, import.meta.url));
const report = process.env.UPTIME_TEST_REPORT;

export default defineConfig({
  resolve: {
    // Tests run against the sources of workspace packages, not their dist.
    alias: {
      // Before "@uptime/protocol", which would otherwise match it as a prefix.
      "@uptime/protocol/check": fileURLToPath(new URL("./packages/protocol/src/check.ts", import.meta.url)),
      "@uptime/protocol": src("packages/protocol"),
      "@uptime/inventory": src("packages/inventory"),
      "@uptime/ssh-probe": src("packages/ssh-probe"),
      "@uptime/transport-zmq": src("packages/transport-zmq"),
      "@uptime/sink-store": src("packages/sink-store"),
      "@uptime/test-fleet": src("packages/test-fleet"),
      "@uptime/test-utils": src("packages/test-utils"),
      "@uptime/cli-kit": src("packages/cli-kit"),
      "@uptime/report-core": src("packages/report-core"),
    },
  },
  test: {
    include: [
      "packages/*/src/**/*.test.ts",
      "packages/*/test/**/*.test.ts",
      "apps/*/src/**/*.test.ts",
      "apps/*/test/**/*.test.ts",
      "tests/**/*.test.ts",
    ],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    reporters: report ? ["default", ["json", { outputFile: report }]] : ["default"],
  },
});
