/**
 * The account page in a real headless Chromium (Debian's `chromium`, driven by puppeteer-core):
 * log in, create a calendar and share it, create and revoke an app password, download the Apple
 * profile; a form posted from another site is refused; nothing the CSP would block is on the page
 * (any violation is recorded and fails the test). Screenshots at desktop and phone width go to the
 * temporary directory named in the test's diagnostics.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import * as plist from "plist";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { getCollection } from "../../lib/store/collections.js";
import { listAppPasswords } from "../../lib/store/app-passwords.js";
import { basic, startTestServer } from "../helpers/server.js";
import { clientMissing, findWorking, run } from "./clients/run.js";

const chromium = await findWorking(
  [process.env.CHROMIUM_PATH ?? "", "chromium", "chromium-browser"].filter(Boolean),
  ["--version"],
);
const server = await startTestServer();
// puppeteer wants the absolute path of what PATH finds.
const executablePath =
  chromium && !chromium.includes("/") ? (await run("which", [chromium])).stdout.trim() : chromium;
const browser: Browser | undefined = executablePath
  ? await puppeteer.launch({
      executablePath,
      headless: true,
      args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
    })
  : undefined;
after(() => browser?.close());
const shots = mkdtempSync(join(tmpdir(), "account-page-"));

/** A page that records every CSP violation and console error. */
async function newPage(): Promise<{ page: Page; violations: string[] }> {
  // A context of its own: no cookies shared with the other tests' pages.
  const page = await (await browser!.createBrowserContext()).newPage();
  const violations: string[] = [];
  await page.exposeFunction("__cspViolation", (v: string) => violations.push(v));
  // (A string: it runs in the page, where the DOM is.)
  await page.evaluateOnNewDocument(
    `document.addEventListener("securitypolicyviolation", (e) => window.__cspViolation(e.violatedDirective + " " + e.blockedURI));`,
  );
  page.on("console", (msg) => {
    if (msg.type() === "error") violations.push(`console: ${msg.text()}`);
  });
  return { page, violations };
}

async function submit(page: Page, selector: string) {
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click(selector)]);
}

if (!browser) clientMissing("chromium", "apt-get install -y --no-install-recommends chromium");
else
  describe("the account page in headless Chromium", () => {
    it("log in, create and share a calendar, create and revoke an app password, download the profile; the CSP blocks nothing", async (t) => {
      const { page, violations } = await newPage();
      await page.setViewport({ width: 1280, height: 900 });
      await page.goto(`${server.url}/account/`, { waitUntil: "load" });
      await page.type("#u", "alice");
      await page.type("#p", "alice-pw");
      await submit(page, "button[type=submit]");
      assert.equal(await page.$eval("h1", (h) => h.textContent), "alice");

      await page.type('form[action="/account/create"] input[name=name]', "garden");
      await page.type('form[action="/account/create"] input[name=displayname]', "Garden");
      await submit(page, 'form[action="/account/create"] button');
      assert.match(await page.$eval(".note", (n) => n.textContent ?? ""), /Created Garden/);
      assert.ok(await getCollection(server.ctx.store, { kind: "calendar", owner: "alice", name: "garden" }));

      // The new calendar's share form is on screen; sharing it with bob lists him as invited.
      const shareForm = 'form[action="/account/share"]:has(input[name=target][value="calendar:garden"])';
      const box = await (await page.$(`${shareForm} input[name=sharee]`))?.boundingBox();
      assert.ok(box && box.width > 0 && box.height > 0, "the share form is visible");
      await page.type(`${shareForm} input[name=sharee]`, "bob");
      await page.select(`${shareForm} select[name=access]`, "read-write");
      await submit(page, `${shareForm} button`);
      assert.match(
        await page.$eval(".note", (n) => n.textContent ?? ""),
        /Shared garden with bob \(read-write\)/,
      );
      assert.equal(
        (await getCollection(server.ctx.store, { kind: "calendar", owner: "alice", name: "garden" }))?.shares
          ?.bob?.status,
        "pending",
      );

      await page.type('form[action="/account/app-password"] input[name=name]', "Test phone");
      await submit(page, 'form[action="/account/app-password"] button');
      const secret = await page.$eval(".secret", (s) => s.textContent ?? "");
      const dav = () =>
        server.request("PROPFIND", "/calendars/alice/", {
          user: null,
          headers: { depth: "0", authorization: basic("alice", secret) },
        });
      assert.equal((await dav()).status, 207);

      // The screenshots without the flash that shows the new password.
      await page.goto(`${server.url}/account/`, { waitUntil: "load" });
      await page.screenshot({ path: join(shots, "desktop.png"), fullPage: true });
      // (Only the width: switching isMobile would reload the page, posting its last form again.)
      await page.setViewport({ width: 390, height: 844 });
      // (A reload would post the last form again.)
      await page.goto(`${server.url}/account/`, { waitUntil: "load" });
      await page.screenshot({ path: join(shots, "phone.png"), fullPage: true });
      t.diagnostic(`screenshots: ${join(shots, "desktop.png")}, ${join(shots, "phone.png")}`);

      await submit(page, 'form[action="/account/revoke"] button');
      assert.match(await page.$eval(".note", (n) => n.textContent ?? ""), /Revoked/);
      assert.equal(
        (await listAppPasswords(server.ctx.store, "alice")).length,
        0,
        "the one app password is gone",
      );
      assert.equal((await dav()).status, 401);

      // The download: the button clicked, the browser saving what it answers.
      const downloads = mkdtempSync(join(tmpdir(), "account-download-"));
      // Downloads are allowed per browser context (this page has one of its own).
      const cdp = await browser!.target().createCDPSession();
      await cdp.send("Browser.setDownloadBehavior", {
        behavior: "allow",
        downloadPath: downloads,
        browserContextId: page.browserContext().id,
      });
      const answered = page.waitForResponse((r) => r.url().endsWith("/account/mobileconfig"));
      await page.click('form[action="/account/mobileconfig"] button');
      const type = (await answered).headers()["content-type"];
      let saved: string[] = [];
      for (let i = 0; i < 50 && !(saved = readdirSync(downloads)).includes("alice.mobileconfig"); i++)
        await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(saved, ["alice.mobileconfig"], "saved under the name the answer gives");
      const profile = { type, text: readFileSync(join(downloads, "alice.mobileconfig"), "utf8") };
      assert.equal(profile.type, "application/x-apple-aspen-config");
      const root = plist.parse(profile.text) as { PayloadContent: { PayloadType: string }[] };
      assert.deepEqual(
        root.PayloadContent.map((p) => p.PayloadType),
        ["com.apple.caldav.account", "com.apple.carddav.account"],
      );
      assert.deepEqual(violations, [], "nothing the CSP blocks, no script errors");
      await page.close();
    });

    it("a form another site posts to the page is refused (SameSite=Strict, Origin), and changes nothing", async () => {
      const { page } = await newPage();
      await page.goto(`${server.url}/account/`, { waitUntil: "load" });
      await page.type("#u", "bob");
      await page.type("#p", "bob-pw");
      await submit(page, "button[type=submit]");
      // Another origin (another port) with a form that posts itself to the account page.
      const evil = createServer((_req, res) => {
        res.setHeader("content-type", "text/html");
        res.end(
          `<form id="f" method="post" action="${server.url}/account/create"><input name="kind" value="calendar"><input name="name" value="evil"><input name="csrf" value="guess"></form><script>document.getElementById("f").submit()</script>`,
        );
      });
      await new Promise<void>((r) => evil.listen(0, "127.0.0.1", () => r()));
      const port = (evil.address() as { port: number }).port;
      const response = page.waitForResponse((r) => r.url().startsWith(`${server.url}/account/create`));
      await page.goto(`http://localhost:${port}/`);
      assert.equal((await response).status(), 403);
      assert.equal(
        await getCollection(server.ctx.store, { kind: "calendar", owner: "bob", name: "evil" }),
        undefined,
      );
      await new Promise<void>((r) => evil.close(() => r()));
      await page.close();
    });
  });
