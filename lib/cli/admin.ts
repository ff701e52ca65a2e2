/**
 * `npm run admin -- user add|list|passwd|remove`: manages users in the local table (through the
 * running `npm start` of this folder, on disk or in memory, or else a DynamoDB Local it starts for
 * the moment on the folder's data) or, with `TABLE_NAME` set and no `DYNAMODB_ENDPOINT`, in a
 * deployed table.
 */
import { generatePassword, hashPassword } from "../auth/password.js";
import { ensureTable } from "../store/bootstrap.js";
import { createDynamoClient } from "../store/client.js";
import { AlreadyExists, NotFound } from "../store/errors.js";
import {
  createUser,
  getUser,
  listUsers,
  removeUser,
  setPassword,
  USER_NAME,
  type Store,
} from "../store/users.js";
import { newAppPassword } from "../auth/app-passwords.js";
import { ShareRefused } from "../store/shares.js";
import { shareCommand, SHARE_USAGE } from "./shares.js";
import { listAppPasswords, revokeAppPassword } from "../store/app-passwords.js";
import { startDynamoLocal } from "../local/dynamodb-local.js";
import { dataDirFromEnv, LOCAL_TABLE, readInstance } from "../local/instance.js";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { mobileconfig } from "../accounts/mobileconfig.js";
import { receiveMail } from "../scheduling/inbound.js";
import { defaultServerConfig } from "../webdav/context.js";
import type { OnConflict } from "../store/tasks.js";
import { exportFile, importFile } from "./transfer.js";

export interface AdminIO {
  out(line: string): void;
  err(line: string): void;
  /** On a terminal: redraw one progress line. */
  progress?(line: string): void;
}

const USAGE = `usage: npm run admin -- user add NAME [--password P] [--email E]
       npm run admin -- user list
       npm run admin -- user passwd NAME [--password P]
       npm run admin -- user remove NAME
       npm run admin -- import USER/COLLECTION FILE [--on-conflict skip|replace|fail]
       npm run admin -- export USER/COLLECTION [FILE]
       npm run admin -- imip-receive FILE   (an e-mailed iMIP reply, as raw MIME)
       npm run admin -- app-password add USER NAME | list USER | revoke USER ID
       npm run admin -- mobileconfig USER --host HOST [FILE]   (an Apple profile with a new app password)
       ${SHARE_USAGE}`;

/** The CLI cannot do what was asked, and says why. */
class Refused extends Error {}

interface Target {
  store: Store;
  describe: string;
  close(): Promise<void>;
}

async function openTarget(env: NodeJS.ProcessEnv): Promise<Target> {
  if (env.TABLE_NAME && !env.DYNAMODB_ENDPOINT) {
    const client = createDynamoClient({
      tableName: env.TABLE_NAME,
      region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
    });
    return {
      store: { client, tableName: env.TABLE_NAME },
      describe: `table ${env.TABLE_NAME}`,
      close: async () => client.destroy(),
    };
  }
  if (env.DYNAMODB_ENDPOINT) {
    const tableName = env.TABLE_NAME ?? LOCAL_TABLE;
    const client = createDynamoClient({ tableName, endpoint: env.DYNAMODB_ENDPOINT });
    return {
      store: { client, tableName },
      describe: `${env.DYNAMODB_ENDPOINT}`,
      close: async () => client.destroy(),
    };
  }
  const dataDir = dataDirFromEnv(env);
  const running = readInstance(dataDir);
  if (running) {
    // Its DynamoDB Local, whether that keeps the data in the data dir or in memory.
    const client = createDynamoClient({ tableName: running.tableName, endpoint: running.dynamoEndpoint });
    return {
      store: { client, tableName: running.tableName },
      describe: `the running local server at ${running.url} (${running.inMemory ? "in memory" : dataDir})`,
      close: async () => client.destroy(),
    };
  }
  if (env.DAV_IN_MEMORY === "1") {
    throw new Refused(`no local server is running on ${dataDir}, so there is no in-memory data to change`);
  }
  // No server running on this data dir: open its database ourselves for the moment.
  mkdirSync(dataDir, { recursive: true });
  const dynamo = await startDynamoLocal({ dataDir });
  const client = createDynamoClient({ tableName: LOCAL_TABLE, endpoint: dynamo.endpoint });
  await ensureTable(client, LOCAL_TABLE);
  return {
    store: { client, tableName: LOCAL_TABLE },
    describe: `local data in ${dataDir} (no local server is running on it)`,
    close: async () => {
      client.destroy();
      await dynamo.stop();
    },
  };
}

/** The target, or undefined when the CLI refuses (having said why). */
async function openOrSay(env: NodeJS.ProcessEnv, io: AdminIO): Promise<Target | undefined> {
  try {
    return await openTarget(env);
  } catch (err) {
    if (!(err instanceof Refused)) throw err;
    io.err(err.message);
    return undefined;
  }
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

export async function runAdmin(
  args: string[],
  io: AdminIO,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const [noun, verb, name] = args;
  if (noun === "import" || noun === "export") return transfer(args, io, env);
  if (noun === "imip-receive") return imipReceive(args[1], io, env);
  if (noun === "app-password") return appPasswords(args.slice(1), io, env);
  if (noun === "mobileconfig") return profile(args.slice(1), io, env);
  if (noun === "share") return shares(args.slice(1), io, env);
  if (noun !== "user" || !["add", "list", "passwd", "remove"].includes(verb ?? "")) {
    io.err(USAGE);
    return 2;
  }
  if (verb !== "list" && (!name || !USER_NAME.test(name))) {
    io.err(name ? `invalid user name '${name}': use letters, digits and . _ @ - (at most 64)` : USAGE);
    return 2;
  }
  const target = await openOrSay(env, io);
  if (!target) return 1;
  try {
    switch (verb) {
      case "list": {
        for (const user of await listUsers(target.store)) io.out(user);
        return 0;
      }
      case "add":
      case "passwd": {
        const given = option(args, "--password");
        const password = given ?? generatePassword();
        const hash = await hashPassword(password);
        if (verb === "add") {
          const email = option(args, "--email");
          await createUser(target.store, {
            name,
            passwordHash: hash,
            email,
            created: new Date().toISOString(),
          });
          io.out(`added user ${name} to ${target.describe}`);
        } else {
          await setPassword(target.store, name, hash);
          io.out(`changed the password of ${name} in ${target.describe}`);
        }
        if (!given) io.out(`password (shown once): ${password}`);
        return 0;
      }
      case "remove": {
        await removeUser(target.store, name);
        io.out(`removed user ${name} from ${target.describe}`);
        return 0;
      }
    }
    return 2;
  } catch (err) {
    if (err instanceof AlreadyExists || err instanceof NotFound) {
      io.err(err.message);
      return 1;
    }
    // Name what the CLI was talking to, e.g. a running server that has gone away meanwhile.
    throw new Error(`${target.describe}: ${(err as Error).message}`, { cause: err });
  } finally {
    await target.close();
  }
}

/** App passwords of a user: made (shown once), listed (never shown again), revoked. */
async function appPasswords(args: string[], io: AdminIO, env: NodeJS.ProcessEnv): Promise<number> {
  const [verb, user, arg] = args;
  if (
    !user ||
    !USER_NAME.test(user) ||
    !["add", "list", "revoke"].includes(verb ?? "") ||
    (verb !== "list" && !arg)
  ) {
    io.err(USAGE);
    return 2;
  }
  return withUser(env, io, user, async (store) => {
    switch (verb) {
      case "add": {
        const { id, password } = await newAppPassword(store, user, arg!);
        io.out(`added app password ${id} (${arg}) for ${user}`);
        io.out(`password (shown once): ${password}`);
        return 0;
      }
      case "list": {
        for (const p of await listAppPasswords(store, user)) {
          const used = p.lastUsed ? new Date(p.lastUsed).toISOString() : "never";
          io.out(`${p.id}  ${p.name}  created ${p.created}  last used ${used}`);
        }
        return 0;
      }
      default:
        await revokeAppPassword(store, user, arg!);
        io.out(`revoked app password ${arg} of ${user}`);
        return 0;
    }
  });
}

/** Sharing between users (cli/shares.ts). */
async function shares(args: string[], io: AdminIO, env: NodeJS.ProcessEnv): Promise<number> {
  const target = await openOrSay(env, io);
  if (!target) return 1;
  try {
    const code = await shareCommand(target.store, args, (line) => io.out(line));
    if (code === 2) io.err(USAGE);
    return code;
  } catch (err) {
    if (err instanceof NotFound || err instanceof RangeError || err instanceof ShareRefused) {
      io.err(err.message);
      return 1;
    }
    throw err;
  } finally {
    await target.close();
  }
}

/** Work on one existing user's data: 1 (with the reason) when there is no such user, or it refuses. */
async function withUser(
  env: NodeJS.ProcessEnv,
  io: AdminIO,
  user: string,
  work: (store: Store) => Promise<number>,
): Promise<number> {
  const target = await openOrSay(env, io);
  if (!target) return 1;
  try {
    if (!(await getUser(target.store, user))) {
      io.err(`no user ${user}`);
      return 1;
    }
    return await work(target.store);
  } catch (err) {
    if (err instanceof NotFound || err instanceof RangeError) {
      io.err(err.message);
      return 1;
    }
    throw err;
  } finally {
    await target.close();
  }
}

/** An Apple configuration profile for a user, carrying an app password made for it. */
async function profile(args: string[], io: AdminIO, env: NodeJS.ProcessEnv): Promise<number> {
  const user = args[0];
  const host = option(args, "--host");
  const file = args.slice(1).find((a, i, all) => !a.startsWith("--") && all[i - 1] !== "--host");
  if (!user || !USER_NAME.test(user) || !host || !/^[A-Za-z0-9.-]+$/.test(host)) {
    io.err(USAGE);
    return 2;
  }
  return withUser(env, io, user, async (store) => {
    const name = `Apple profile ${new Date().toISOString().slice(0, 10)}`;
    const { id, password } = await newAppPassword(store, user, name);
    const text = mobileconfig({ host, user, password, id });
    if (file) {
      writeFileSync(file, text, { mode: 0o600 });
      io.err(`wrote ${file}: open it on the iPhone or Mac (it holds app password ${id}, "${name}")`);
    } else io.out(text);
    return 0;
  });
}

/** Apply an e-mailed reply to an invitation (what SES receiving hands the function when deployed). */
async function imipReceive(file: string | undefined, io: AdminIO, env: NodeJS.ProcessEnv): Promise<number> {
  if (!file) {
    io.err(USAGE);
    return 2;
  }
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (err) {
    io.err(`cannot read ${file}: ${(err as Error).message}`);
    return 1;
  }
  const target = await openOrSay(env, io);
  if (!target) return 1;
  try {
    const result = await receiveMail({ store: target.store, config: defaultServerConfig(env) }, raw);
    if (!result.applied) {
      io.err(`not applied: ${result.reason}`);
      return 1;
    }
    io.out(`applied the reply to ${result.uid} to ${result.organizer}'s calendar`);
    return 0;
  } finally {
    await target.close();
  }
}

async function transfer(args: string[], io: AdminIO, env: NodeJS.ProcessEnv): Promise<number> {
  const [noun, spec, file] = args;
  const onConflict = option(args, "--on-conflict") ?? "skip";
  if (!spec || (noun === "import" && !file) || !["skip", "replace", "fail"].includes(onConflict)) {
    io.err(USAGE);
    return 2;
  }
  const target = await openOrSay(env, io);
  if (!target) return 1;
  try {
    if (noun === "import") return await importFile(target.store, spec, file!, onConflict as OnConflict, io);
    // Without a file the export goes to stdout, so the messages go to stderr.
    const quiet = file ? io : { ...io, out: io.err, progress: undefined };
    return await exportFile(target.store, spec, file?.startsWith("--") ? undefined : file, quiet);
  } finally {
    await target.close();
  }
}
