#!/usr/bin/env node
// Lifeboat runs its TypeScript sources directly, which needs Node.js 24 (type stripping).
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(
    `Lifeboat needs Node.js 24 or newer; this is ${process.version}.\n` +
      "Run it through npm (npm start, npx lifeboat …), which puts the project's Node 24 first on the PATH.",
  );
  process.exit(1);
}
// node-postgres takes its default user name from $USER, which services and CI may not set;
// libpq (psql, pg_dump) falls back to the OS user, and so does Lifeboat.
if (!process.env.USER) {
  const { userInfo } = await import('node:os');
  process.env.USER = userInfo().username;
}
// A crash is an exit too: with --json it still ends with one JSON line saying so.
const crash = (error) => {
  process.stderr.write(`lifeboat: unexpected error: ${error?.stack ?? error}\n`);
  if (process.argv.includes('--json')) {
    const message = error instanceof Error ? error.message : String(error);
    process.stdout.write(
      `${JSON.stringify({ status: 'failed', error: message, code: 'internal' })}\n`,
    );
  }
  process.exit(1);
};
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);
const { runCli } = await import('../src/cli/main.ts');
process.exitCode = await runCli(process.argv.slice(2));
// The run is over and closed what it opened. Should a library still hold a timer or a socket
// (a Redis client retrying a server that is gone), the command still ends, with its own code.
setTimeout(() => process.exit(), 3_000).unref();
