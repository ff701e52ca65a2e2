/**
 * The record `npm start` leaves in its data directory, whether it keeps its data there or in
 * memory, so that the admin CLI can find the running DynamoDB Local instance of the same folder.
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

export interface InstanceRecord {
  pid: number;
  dynamoEndpoint: string;
  tableName: string;
  url: string;
  /** The server keeps its data in memory: the data dir holds only this record. */
  inMemory?: boolean;
}

export const LOCAL_TABLE = "dav";

export function dataDirFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.DAV_DATA_DIR || ".data");
}

export const instancePath = (dataDir: string) => join(dataDir, "instance.json");

/** Written to a temporary file and renamed, so a reader never sees half a record. */
export function writeInstance(dataDir: string, record: InstanceRecord): void {
  const path = instancePath(dataDir);
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, JSON.stringify(record, null, 2));
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true, recursive: true });
    throw err;
  }
}

function parse(dataDir: string): InstanceRecord | undefined {
  const path = instancePath(dataDir);
  if (!existsSync(path)) return undefined;
  try {
    const record = JSON.parse(readFileSync(path, "utf8")) as InstanceRecord;
    return typeof record?.pid === "number" && typeof record.dynamoEndpoint === "string" ? record : undefined;
  } catch {
    return undefined;
  }
}

/** Remove the record; given `own`, only while it is still that one (not another server's). */
export function clearInstance(dataDir: string, own?: InstanceRecord): void {
  const current = own && parse(dataDir);
  if (current && (current.pid !== own.pid || current.dynamoEndpoint !== own.dynamoEndpoint)) return;
  rmSync(instancePath(dataDir), { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The running instance of this data dir, if its process is still alive. */
export function readInstance(dataDir: string): InstanceRecord | undefined {
  const record = parse(dataDir);
  return record && alive(record.pid) ? record : undefined;
}
