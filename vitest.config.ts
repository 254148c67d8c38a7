import { defineConfig } from "vitest/config"

export default defineConfig({
  // Inside the repository, `import "stratadb"` (the examples) resolves to the sources, not dist/.
  resolve: { conditions: ["stratadb-source"] },
  ssr: { resolve: { conditions: ["stratadb-source"], externalConditions: ["stratadb-source"] } },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    // The read tests measure heap growth, which needs an explicit garbage collection.
    poolOptions: { forks: { execArgv: ["--expose-gc"] } }
  }
})
