#!/usr/bin/env node
/**
 * The `stratadb` command (the package's `bin`): see src/internal/cli/main.ts and the README's
 * "Command line" section.
 */
import { main } from "./internal/cli/main.js"

main()
