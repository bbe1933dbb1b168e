import { packageConfig } from "../../tsup.config.base.js";

// The private CLI kit is bundled in, as in the apps.
export default packageConfig(["src/index.ts", "src/cli.ts"], {
  format: ["esm"],
  noExternal: ["@uptime/cli-kit"],
});
