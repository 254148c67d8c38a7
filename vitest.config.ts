import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    // The read tests measure heap growth, which needs an explicit garbage collection.
    poolOptions: { forks: { execArgv: ["--expose-gc"] } }
  }
})
