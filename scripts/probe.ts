/** `npm run probe -- <url> [--user U --password P]`: see lib/cli/probe.ts. */
import { runProbe } from "../lib/cli/probe.js";

try {
  process.exitCode = await runProbe(process.argv.slice(2), { out: console.log, err: console.error });
} catch (err) {
  console.error(`probe: ${(err as Error).message}`);
  process.exitCode = 1;
}
