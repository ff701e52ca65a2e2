/**
 * The accounts module: the account page at `/account/` (page.ts), which logs its users in with a
 * form and acts for them through the rest of the server.
 */
import type { DavModule } from "../webdav/registry.js";
import { accountPage } from "./page.js";

export const accounts: DavModule = {
  name: "accounts",
  endpoints: { account: accountPage },
};
