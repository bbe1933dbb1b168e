import { defineConfig, type Options } from "tsup";

/**
 * The one build config every package reuses: ESM and CJS, with types for both.
 * Kept tiny on purpose, so a later move to tsdown is a one-line change.
 */
export function packageConfig(entry: string[] = ["src/index.ts"], overrides: Options = {}) {
  return defineConfig({
    entry,
    format: ["esm", "cjs"],
    dts: true,
    sourcemap: true,
    clean: true,
    target: "node20",
    platform: "node",
    splitting: false,
    ...overrides,
  });
}
