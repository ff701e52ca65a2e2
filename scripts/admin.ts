/** `npm run admin -- …`: see lib/cli/admin.ts. */
import { runAdmin } from "../lib/cli/admin.js";
import { JavaMissingError } from "../lib/local/dynamodb-local.js";

try {
  process.exitCode = await runAdmin(process.argv.slice(2), { out: console.log, err: console.error });
} catch (err) {
  console.error(err instanceof JavaMissingError ? err.message : `admin: ${(err as Error).message}`);
  process.exitCode = 1;
}
