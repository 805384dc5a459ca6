#!/usr/bin/env node
// The samples CLI: `node apps/samples/dist/main.js [sample] [--db <file>]`. See cli.ts.
import { runCli } from "./cli.js";

process.exitCode = await runCli(process.argv.slice(2));
