/** `npm run admin -- …`: see lib/cli/admin.ts. */
import { runAdmin } from "../lib/cli/admin.js";
import { JavaMissingError } from "../lib/local/dynamodb-local.js";

try {
  // On a terminal progress redraws one line of stderr; elsewhere the CLI prints plain lines.
  const progress = process.stderr.isTTY
    ? (line: string) => process.stderr.write(`\r\x1b[K${line}`)
    : undefined;
  const out = (line: string) => {
    if (progress) process.stderr.write("\r\x1b[K");
    console.log(line);
  };
  process.exitCode = await runAdmin(process.argv.slice(2), { out, err: console.error, progress });
} catch (err) {
  console.error(err instanceof JavaMissingError ? err.message : `admin: ${(err as Error).message}`);
  process.exitCode = 1;
}
