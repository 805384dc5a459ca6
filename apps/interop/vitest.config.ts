import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // Each file starts a sidecar and SDK child processes; scenarios take seconds.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
