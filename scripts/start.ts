/** `npm start`: the embedded local server. */
import { JavaMissingError } from "../lib/local/dynamodb-local.js";
import { dataDirFromEnv } from "../lib/local/instance.js";
import { localOptionsFromEnv, startLocal } from "../lib/local/runtime.js";

const options = localOptionsFromEnv(process.env, dataDirFromEnv());
try {
  const runtime = await startLocal(options);
  console.log(`lambda-dav is listening on ${runtime.url}`);
  console.log(
    options.inMemory ? "data: in memory (DAV_IN_MEMORY=1), gone on exit" : `data: ${options.dataDir}`,
  );
  if (runtime.createdUser) {
    const { name, password, generated } = runtime.createdUser;
    console.log(`created the first user: ${name}`);
    if (generated) console.log(`password (shown once): ${password}`);
    else console.log("password: the one in DAV_ADMIN_PASSWORD");
  }
  console.log("Press Ctrl-C to stop.");
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    await runtime.stop();
    process.exit(0);
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
  process.on("SIGHUP", shutdown);
} catch (err) {
  if (err instanceof JavaMissingError) console.error(err.message);
  else console.error(`could not start: ${(err as Error).message}`);
  process.exit(1);
}
