import { packageConfig } from "../../tsup.config.base.js";

// The private CLI kit is bundled in, so the published app does not depend on it.
export default packageConfig(["src/cli.ts"], {
  format: ["esm"],
  noExternal: ["@uptime/cli-kit"],
});
