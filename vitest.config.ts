import { defineConfig } from "vitest/config";

// One runner for every workspace member; each package's own vitest.config.ts says where its
// tests live. Run through `pnpm test` (scripts/test.mjs), which builds first.
export default defineConfig({
  test: {
    projects: ["packages/*", "apps/*"],
  },
});
