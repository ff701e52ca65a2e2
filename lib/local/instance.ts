/**
 * The record `npm start` leaves in its data directory so that the admin CLI can find the running
 * DynamoDB Local instance of the same folder.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

export interface InstanceRecord {
  pid: number;
  dynamoEndpoint: string;
  tableName: string;
  url: string;
}

export const LOCAL_TABLE = "dav";

export function dataDirFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.DAV_DATA_DIR || ".data");
}

const recordPath = (dataDir: string) => join(dataDir, "instance.json");

export function writeInstance(dataDir: string, record: InstanceRecord): void {
  writeFileSync(recordPath(dataDir), JSON.stringify(record, null, 2));
}

export function clearInstance(dataDir: string): void {
  rmSync(recordPath(dataDir), { force: true });
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
  const path = recordPath(dataDir);
  if (!existsSync(path)) return undefined;
  try {
    const record = JSON.parse(readFileSync(path, "utf8")) as InstanceRecord;
    return alive(record.pid) ? record : undefined;
  } catch {
    return undefined;
  }
}
