#!/usr/bin/env node
/**
 * Entry point of the `zcollection` command (the package `bin`). See
 * `program.ts` for the commands and exit codes.
 *
 * The AWS SDK's Node version notice is silenced before anything loads it;
 * the program is imported afterwards for that reason.
 *
 * @module
 */

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const { main } = await import("./program.js");
await main();

export {};
