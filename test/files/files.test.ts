/**
 * The files home (/files/<user>/) against DynamoDB Local: folders that nest, arbitrary files with
 * dead properties, and the RFC 4918 rules on them — MKCOL (§9.3), DELETE (§9.6), COPY (§9.8) and
 * MOVE (§9.9) of whole subtrees, PROPPATCH (§9.2) on files, LOCK on an unmapped URL (§7.3) and
 * depth-infinity locks over every folder above (§7.4) — with racing writers on the tree.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { homePk } from "../../lib/store/keys.js";
import { davError, queryPartition } from "../helpers/ical.js";
import { startTestServer, type TestResponse } from "../helpers/server.js";
import { parseMultistatus, XML_HEADERS } from "../helpers/xml.js";

const server = await startTestServer();
const req = (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
  server.request(method, path, { headers, body });
const f = (path: string) => `/files/alice/${path}`;
const mkcol = (path: string) => req("MKCOL", f(path));
const put = (path: string, body: string, headers: Record<string, string> = {}) =>
  req("PUT", f(path), { "content-type": "text/plain", ...headers }, body);
const get = (path: string) => req("GET", f(path));
const send = (method: "COPY" | "MOVE", from: string, to: string, headers: Record<string, string> = {}) =>
  req(method, f(from), { destination: `${server.url}${f(to)}`, ...headers });
const status = (r: TestResponse) => r.status;

async function propfind(path: string, depth: "0" | "1", props = "<D:allprop/>") {
  const res = await req(
    "PROPFIND",
    f(path),
    { ...XML_HEADERS, depth },
    `<D:propfind xmlns:D="DAV:" xmlns:X="urn:x-test">${props}</D:propfind>`,
  );
  assert.equal(res.status, 207, res.body);
  return res;
}
const hrefsOf = async (path: string) => parseMultistatus((await propfind(path, "1")).body).map((r) => r.href);

/** Folder names stored in the home's partition: what a wrong subtree write would leave behind. */
async function storedFolders(): Promise<string[]> {
  const items = await queryPartition(server.ctx.store, homePk("files", "alice"));
  return items
    .filter((i) => i.sk.S!.startsWith("C#"))
    .map((i) => i.name.S!)
    .sort();
}

describe("RFC 4918 §9.3 MKCOL and §9.7 PUT in a files home", () => {
  it("§9.3.1: folders nest (201 at every level, Location with the trailing slash); without the parent → 409; over a file → 405; a file where a folder is → 405", async () => {
    const made = await mkcol("mk/");
    assert.equal(made.status, 201);
    assert.equal(made.headers.get("location"), "/files/alice/mk/");
    // Without a trailing slash MKCOL still makes a folder (the URL names file or folder alike).
    assert.equal(status(await mkcol("mk/sub")), 201);
    assert.equal(status(await mkcol("mk/sub/deeper/")), 201);
    assert.equal(status(await mkcol("mk/none/child/")), 409);
    assert.equal(status(await put("mk/sub/plain.txt", "hello")), 201);
    const over = await mkcol("mk/sub/plain.txt/");
    assert.equal(over.status, 405);
    assert.equal(davError(over).name, "{DAV:}resource-must-be-null");
    assert.equal(status(await put("mk/sub/deeper", "not a folder")), 405);
    assert.equal(status(await put("none/x.txt", "no parent")), 409);
    assert.deepEqual(await hrefsOf("mk/sub/"), [
      "/files/alice/mk/sub/",
      "/files/alice/mk/sub/deeper/",
      "/files/alice/mk/sub/plain.txt",
    ]);
  });

  it("§9.4: a file comes back byte for byte with its media type; a folder URL without its slash is the folder (207, href with the slash); GET on a folder is an HTML index", async () => {
    await mkcol("bytes/");
    const body = Buffer.from([0, 1, 2, 255, 254, 10, 13]);
    const res = await server.request("PUT", f("bytes/b.bin"), {
      headers: { "content-type": "application/x-test" },
      body,
    });
    assert.equal(res.status, 201);
    const back = await get("bytes/b.bin");
    assert.deepEqual(back.raw, body);
    assert.equal(back.headers.get("content-type"), "application/x-test");
    assert.equal(back.headers.get("etag"), res.headers.get("etag"));
    const folder = parseMultistatus((await propfind("bytes", "0")).body);
    assert.deepEqual(
      folder.map((r) => r.href),
      ["/files/alice/bytes/"],
    );
    const index = await get("");
    assert.equal(index.status, 200);
    assert.match(index.headers.get("content-type") ?? "", /^text\/html/);
    assert.match(index.body, /<a href="bytes\/">bytes\/<\/a>/);
  });

  it("the principal names the files home (files-home-set); PROPFIND Depth 1 of /files/ lists it", async () => {
    const res = await req(
      "PROPFIND",
      "/principals/alice/",
      { ...XML_HEADERS, depth: "0" },
      `<D:propfind xmlns:D="DAV:" xmlns:L="http://lambda-dav.invalid/ns/"><D:prop><L:files-home-set/></D:prop></D:propfind>`,
    );
    assert.match(res.body, /files-home-set><D:href>\/files\/alice\/<\/D:href>/);
    const homes = await req("PROPFIND", "/files/", { depth: "1" });
    assert.deepEqual(
      parseMultistatus(homes.body).map((r) => r.href),
      ["/files/", "/files/alice/"],
    );
  });

  it("another user's files home → 403; the files home itself cannot be deleted or moved (403)", async () => {
    assert.equal(
      (await server.request("PROPFIND", f(""), { user: "bob", headers: { depth: "0" } })).status,
      403,
    );
    assert.equal(status(await req("DELETE", f(""))), 403);
    assert.equal(status(await send("MOVE", "", "elsewhere/")), 403);
  });
});

describe("RFC 4918 §9.6 DELETE and §9.9 MOVE of folders", () => {
  it("§9.6.1: DELETE of a folder removes its whole subtree at once, files and folders (404 after), and nothing of it stays stored", async () => {
    await mkcol("del/");
    await mkcol("del/a/");
    await mkcol("del/a/b/");
    await put("del/a/b/x.txt", "x");
    await put("del/y.txt", "y");
    assert.equal(status(await req("DELETE", f("del/"))), 204);
    for (const p of ["del/", "del/a/", "del/a/b/", "del/a/b/x.txt", "del/y.txt"]) {
      assert.equal(status(await req("PROPFIND", f(p), { depth: "0" })), 404, p);
    }
    assert.deepEqual(
      (await storedFolders()).filter((n) => n.startsWith("del")),
      [],
    );
    // The names are free again: a new folder there is empty.
    assert.equal(status(await mkcol("del/")), 201);
    assert.deepEqual(await hrefsOf("del/"), ["/files/alice/del/"]);
  });

  it("§9.9: MOVE of a folder renames its subtree (files keep their ETags); Overwrite: T onto a folder replaces that subtree (204), F → 412; into itself → 403; without the destination's parent → 409", async () => {
    await mkcol("mv/");
    await mkcol("mv/src/");
    await mkcol("mv/src/inner/");
    const etag = (await put("mv/src/inner/f.txt", "moved")).headers.get("etag");
    await mkcol("mv/dst/");
    await mkcol("mv/dst/inner/");
    await put("mv/dst/inner/old.txt", "replaced");
    await mkcol("mv/dst/only-there/");
    assert.equal(status(await send("MOVE", "mv/src/", "mv/dst/", { overwrite: "F" })), 412);
    assert.equal(status(await send("MOVE", "mv/src/", "mv/src/inner/below/")), 403);
    assert.equal(status(await send("MOVE", "mv/src/", "mv/nowhere/dst/")), 409);
    assert.equal(status(await send("MOVE", "mv/src/", "mv/dst/")), 204);
    assert.equal(status(await req("PROPFIND", f("mv/src/"), { depth: "0" })), 404);
    const moved = await get("mv/dst/inner/f.txt");
    assert.equal(moved.body, "moved");
    assert.equal(moved.headers.get("etag"), etag);
    assert.equal(status(await get("mv/dst/inner/old.txt")), 404);
    assert.deepEqual(
      (await storedFolders()).filter((n) => n.startsWith("mv/")),
      ["mv/dst", "mv/dst/inner"],
    );
    // The destination without its trailing slash names the folder all the same.
    assert.equal(status(await req("MOVE", f("mv/dst/"), { destination: f("mv/again") })), 201);
    assert.deepEqual(await hrefsOf("mv/again/"), ["/files/alice/mv/again/", "/files/alice/mv/again/inner/"]);
  });

  it("more folders below than one transaction holds → 403 with the reason, and nothing is deleted or moved", async () => {
    await mkcol("big/");
    for (let i = 0; i < 21; i++) await mkcol(`big/f${i}/`);
    const del = await req("DELETE", f("big/"));
    assert.equal(del.status, 403);
    assert.match(del.body, /21 folders/);
    assert.equal(status(await send("MOVE", "big/", "big2/")), 403);
    assert.equal((await hrefsOf("big/")).length, 22);
  });
});

describe("RFC 4918 §9.8 COPY, and a file and a folder at one name", () => {
  it("§9.8.3: COPY Depth infinity copies the subtree with its files and their dead properties; Depth 0 copies the folder alone", async () => {
    await mkcol("cp/");
    await mkcol("cp/src/");
    await mkcol("cp/src/sub/");
    await put("cp/src/sub/a.txt", "a");
    await req(
      "PROPPATCH",
      f("cp/src/sub/a.txt"),
      XML_HEADERS,
      `<D:propertyupdate xmlns:D="DAV:" xmlns:X="urn:x-test"><D:set><D:prop><X:tag>kept</X:tag></D:prop></D:set></D:propertyupdate>`,
    );
    assert.equal(status(await send("COPY", "cp/src/", "cp/deep/")), 201);
    assert.equal((await get("cp/deep/sub/a.txt")).body, "a");
    assert.match((await propfind("cp/deep/sub/a.txt", "0")).body, /<\w+:tag>kept<\/\w+:tag>/);
    assert.equal((await get("cp/src/sub/a.txt")).body, "a");
    assert.equal(status(await send("COPY", "cp/src/", "cp/shallow/", { depth: "0" })), 201);
    assert.deepEqual(await hrefsOf("cp/shallow/"), ["/files/alice/cp/shallow/"]);
  });

  it("§9.8.4, §9.9.3: Overwrite: T puts a file over a folder (the folder's subtree goes) and a folder over a file (204); under F both are 412 and nothing changes", async () => {
    await mkcol("x/");
    await put("x/file.txt", "file");
    await mkcol("x/folder/");
    await put("x/folder/inside.txt", "inside");
    assert.equal(status(await send("COPY", "x/file.txt", "x/folder", { overwrite: "F" })), 412);
    assert.equal((await get("x/folder/inside.txt")).body, "inside");
    assert.equal(status(await send("COPY", "x/file.txt", "x/folder")), 204);
    assert.equal((await get("x/folder")).body, "file");
    assert.equal(status(await get("x/folder/inside.txt")), 404);
    await mkcol("x/other/");
    assert.equal(status(await send("MOVE", "x/other/", "x/file.txt", { overwrite: "F" })), 412);
    assert.equal(status(await send("MOVE", "x/other/", "x/file.txt")), 204);
    assert.deepEqual(
      parseMultistatus((await propfind("x/file.txt", "0")).body).map((r) => r.href),
      ["/files/alice/x/file.txt/"],
    );
  });
});

describe("RFC 4918 §9.2 PROPPATCH on files", () => {
  it("dead properties are kept on a file through PROPFIND, a PUT of new content, and a MOVE; live ones are protected (403, the rest 424, nothing written)", async () => {
    await mkcol("pp/");
    const first = await put("pp/doc.txt", "v1");
    const set = await req(
      "PROPPATCH",
      f("pp/doc.txt"),
      XML_HEADERS,
      `<D:propertyupdate xmlns:D="DAV:" xmlns:X="urn:x-test"><D:set><D:prop><X:author>Ann</X:author><X:deep><X:a x="1">b</X:a></X:deep></D:prop></D:set></D:propertyupdate>`,
    );
    assert.equal(set.status, 207);
    assert.match(set.body, /HTTP\/1.1 200 OK/);
    // The content did not change: the ETag stays.
    assert.equal((await get("pp/doc.txt")).headers.get("etag"), first.headers.get("etag"));
    const refused = await req(
      "PROPPATCH",
      f("pp/doc.txt"),
      XML_HEADERS,
      `<D:propertyupdate xmlns:D="DAV:" xmlns:X="urn:x-test"><D:set><D:prop><D:getetag>"x"</D:getetag><X:author>Bob</X:author></D:prop></D:set></D:propertyupdate>`,
    );
    assert.match(refused.body, /403 Forbidden/);
    assert.match(refused.body, /424 Failed Dependency/);
    await put("pp/doc.txt", "v2");
    assert.equal(status(await send("MOVE", "pp/doc.txt", "pp/renamed.txt")), 201);
    const props = (await propfind("pp/renamed.txt", "0", "<D:prop><X:author/><X:deep/></D:prop>")).body;
    assert.match(props, /<\w+:author>Ann<\/\w+:author>/);
    assert.match(props, /<\w+:a x="1">b<\/\w+:a>/);
    const removed = await req(
      "PROPPATCH",
      f("pp/renamed.txt"),
      XML_HEADERS,
      `<D:propertyupdate xmlns:D="DAV:" xmlns:X="urn:x-test"><D:remove><D:prop><X:author/></D:prop></D:remove></D:propertyupdate>`,
    );
    assert.equal(removed.status, 207);
    assert.match(
      (await propfind("pp/renamed.txt", "0", "<D:prop><X:author/></D:prop>")).body,
      /404 Not Found/,
    );
  });

  it("a file's dead properties are bounded (16 KB): more → 507, nothing written", async () => {
    await mkcol("ppbig/");
    await put("ppbig/f.txt", "x");
    const res = await req(
      "PROPPATCH",
      f("ppbig/f.txt"),
      XML_HEADERS,
      `<D:propertyupdate xmlns:D="DAV:" xmlns:X="urn:x-test"><D:set><D:prop><X:big>${"y".repeat(17 * 1024)}</X:big></D:prop></D:set></D:propertyupdate>`,
    );
    assert.match(res.body, /507 Insufficient Storage/);
    assert.doesNotMatch((await propfind("ppbig/f.txt", "0", "<D:prop><X:big/></D:prop>")).body, /yyyy/);
  });
});

const lockBody = (scope = "exclusive") =>
  `<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:${scope}/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>`;
const tokenOf = (r: TestResponse) => /<([^>]+)>/.exec(r.headers.get("lock-token") ?? "")?.[1];

describe("RFC 4918 §7 locks in a files home", () => {
  it("§7.3: LOCK on an unmapped URL in a folder makes an empty file (201) that GET finds; without the parent → 409", async () => {
    await mkcol("lk/");
    const res = await req("LOCK", f("lk/new.txt"), { ...XML_HEADERS, timeout: "Second-60" }, lockBody());
    assert.equal(res.status, 201, res.body);
    const got = await get("lk/new.txt");
    assert.equal(got.status, 200);
    assert.equal(got.body, "");
    // Locked: a PUT without the token → 423; with it → 204.
    assert.equal(status(await put("lk/new.txt", "x")), 423);
    assert.equal(status(await put("lk/new.txt", "x", { if: `(<${tokenOf(res)}>)` })), 204);
    assert.equal(status(await req("LOCK", f("lk/none/new.txt"), XML_HEADERS, lockBody())), 409);
  });

  it("§7.4: a depth-infinity lock on a folder covers every folder and file below it: a PUT or MKCOL deep inside without the token → 423, with it → 201", async () => {
    await mkcol("deep/");
    await mkcol("deep/a/");
    await mkcol("deep/a/b/");
    const res = await req("LOCK", f("deep/"), { ...XML_HEADERS, depth: "infinity" }, lockBody());
    assert.equal(res.status, 200);
    const token = tokenOf(res)!;
    const locked = await put("deep/a/b/x.txt", "x");
    assert.equal(locked.status, 423);
    assert.deepEqual(davError(locked).hrefs, ["/files/alice/deep/"]);
    assert.equal(status(await mkcol("deep/a/b/c/")), 423);
    assert.equal(status(await put("deep/a/b/x.txt", "x", { if: `(<${token}>)` })), 201);
    assert.equal(status(await req("MKCOL", f("deep/a/b/c/"), { if: `(<${token}>)` })), 201);
    // Moving the locked folder's subfolder away is a write inside the lock too.
    assert.equal(status(await send("MOVE", "deep/a/", "moved-out/")), 423);
    assert.equal(status(await req("UNLOCK", f("deep/"), { "lock-token": `<${token}>` })), 204);
  });
});

describe("racing writers on the tree (parallel requests at DynamoDB Local)", () => {
  it("MKCOL inside a folder racing the folder's DELETE: never a folder left below a missing parent", async () => {
    for (let round = 0; round < 6; round++) {
      const base = `race-del-${round}`;
      await mkcol(`${base}/`);
      await mkcol(`${base}/a/`);
      const [made, deleted] = await Promise.all([mkcol(`${base}/a/new/`), req("DELETE", f(`${base}/`))]);
      assert.equal(deleted.status, 204);
      assert.ok([201, 409].includes(made.status), `MKCOL answered ${made.status}`);
      assert.deepEqual(
        (await storedFolders()).filter((n) => n.startsWith(`${base}/`) || n === base),
        [],
        `round ${round}: MKCOL ${made.status}`,
      );
    }
  });

  it("two MOVEs of one folder to different names: exactly one wins, the subtree is whole at the winner's name and nowhere else", async () => {
    for (let round = 0; round < 4; round++) {
      const base = `race-mv-${round}`;
      await mkcol(`${base}/`);
      await mkcol(`${base}/src/`);
      await mkcol(`${base}/src/sub/`);
      await put(`${base}/src/sub/f.txt`, "f");
      const answers = await Promise.all([
        send("MOVE", `${base}/src/`, `${base}/one/`),
        send("MOVE", `${base}/src/`, `${base}/two/`),
      ]);
      const won = answers.filter((r) => r.status === 201);
      assert.equal(won.length, 1, answers.map((r) => `${r.status} ${r.body}`).join(" | "));
      const winner = answers[0].status === 201 ? "one" : "two";
      assert.deepEqual(
        (await storedFolders()).filter((n) => n.startsWith(`${base}/`)),
        [`${base}/${winner}`, `${base}/${winner}/sub`],
      );
      assert.equal((await get(`${base}/${winner}/sub/f.txt`)).body, "f");
    }
  });

  it("a PUT of a file racing a MKCOL of a folder of the same name: exactly one exists afterwards", async () => {
    await mkcol("race-name/");
    for (let round = 0; round < 6; round++) {
      const name = `race-name/n${round}`;
      const [file, folder] = await Promise.all([
        put(name, "file", { "if-none-match": "*" }),
        mkcol(`${name}/`),
      ]);
      const wins = [file.status, folder.status].filter((s) => s === 201).length;
      assert.equal(wins, 1, `PUT ${file.status}, MKCOL ${folder.status}`);
      const hrefs = await hrefsOf("race-name/");
      const here = hrefs.filter((h) => h.startsWith(`/files/alice/${name}`));
      assert.equal(here.length, 1, here.join(", "));
    }
  });
});

describe("RFC 4331 quota, enforced on every write that adds bytes", async () => {
  const small = await startTestServer({ quotaBytes: 100 });
  const as = (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
    small.request(method, path, { headers, body });

  it("§6: a PUT or COPY past the collection's quota → 507 quota-not-exceeded, nothing written; a smaller replacement, or a MOVE within the folder, still succeeds", async () => {
    assert.equal((await as("MKCOL", f("q/"))).status, 201);
    assert.equal((await as("PUT", f("q/a.txt"), {}, "a".repeat(60))).status, 201);
    const over = await as("PUT", f("q/b.txt"), {}, "b".repeat(50));
    assert.equal(over.status, 507);
    assert.equal(davError(over).name, "{DAV:}quota-not-exceeded");
    assert.equal((await as("GET", f("q/b.txt"))).status, 404);
    assert.equal((await as("PUT", f("q/a.txt"), {}, "a".repeat(90))).status, 204);
    assert.equal((await as("MOVE", f("q/a.txt"), { destination: f("q/renamed.txt") })).status, 201);
    assert.equal((await as("COPY", f("q/renamed.txt"), { destination: f("q/copy.txt") })).status, 507);
    const used = await as(
      "PROPFIND",
      f("q/"),
      { ...XML_HEADERS, depth: "0" },
      `<D:propfind xmlns:D="DAV:"><D:prop><D:quota-used-bytes/><D:quota-available-bytes/></D:prop></D:propfind>`,
    );
    assert.match(used.body, /<D:quota-used-bytes>90<\/D:quota-used-bytes>/);
    assert.match(used.body, /<D:quota-available-bytes>10<\/D:quota-available-bytes>/);
  });
});

describe("review: replacing the other sort, locks on membership, transaction bounds, long names, folder versions", () => {
  it("a file copied or moved onto a folder that holds it → 403, and nothing is deleted", async () => {
    await mkcol("hold/");
    await put("hold/f.txt", "f");
    await put("hold/other.txt", "o");
    assert.equal(status(await send("COPY", "hold/f.txt", "hold")), 403);
    assert.equal(status(await send("MOVE", "hold/f.txt", "hold")), 403);
    assert.deepEqual(await hrefsOf("hold/"), [
      "/files/alice/hold/",
      "/files/alice/hold/f.txt",
      "/files/alice/hold/other.txt",
    ]);
  });

  it("a refused COPY or MOVE onto the other sort leaves the destination standing: a bad Depth (400), a locked source (423)", async () => {
    await mkcol("keep/");
    await put("keep/file.txt", "file");
    await mkcol("keep/dir/");
    assert.equal(status(await send("MOVE", "keep/dir/", "keep/file.txt", { depth: "0" })), 400);
    assert.equal((await get("keep/file.txt")).body, "file");
    await mkcol("keep/target/");
    await put("keep/target/inside.txt", "inside");
    const locked = await req("LOCK", f("keep/file.txt"), XML_HEADERS, lockBody());
    assert.equal(locked.status, 200);
    assert.equal(status(await send("MOVE", "keep/file.txt", "keep/target")), 423);
    assert.equal((await get("keep/target/inside.txt")).body, "inside");
    await req("UNLOCK", f("keep/file.txt"), { "lock-token": `<${tokenOf(locked)}>` });
  });

  it("RFC 4918 §7.5: a depth-0 lock on a folder protects its membership from a MOVE into it too (423 without the token)", async () => {
    await mkcol("g/");
    await mkcol("g/a/");
    await put("g/a/f.txt", "f");
    await mkcol("g/a/sub/");
    const res = await req("LOCK", f("g/"), { ...XML_HEADERS, depth: "0" }, lockBody());
    assert.equal(res.status, 200);
    assert.equal(status(await put("g/new.txt", "n")), 423);
    assert.equal(status(await send("MOVE", "g/a/f.txt", "g/f.txt")), 423);
    assert.equal(status(await send("MOVE", "g/a/sub/", "g/sub/")), 423);
    assert.equal(
      status(
        await send("MOVE", "g/a/f.txt", "g/f.txt", { if: `<${server.url}${f("g/")}> (<${tokenOf(res)}>)` }),
      ),
      201,
    );
    await req("UNLOCK", f("g/"), { "lock-token": `<${tokenOf(res)}>` });
  });

  it("a MOVE that would take more than one transaction holds → 403 with the reason (not a 500), both trees intact", async () => {
    await mkcol("tp/");
    for (const side of ["s", "d"]) {
      await mkcol(`tp/${side}/`);
      for (let i = 0; i < 20; i++) await mkcol(`tp/${side}/f${i}/`);
    }
    const res = await send("MOVE", "tp/s/", "tp/d/");
    assert.equal(res.status, 403, res.body);
    assert.match(res.body, /transaction/);
    assert.equal((await hrefsOf("tp/s/")).length, 21);
    assert.equal((await hrefsOf("tp/d/")).length, 21);
  });

  it("a moved folder's subfolders keep accepting writes after a MOVE that raced a PUT into them (their sequence moves as written)", async () => {
    for (let round = 0; round < 4; round++) {
      const base = `seq-${round}`;
      await mkcol(`${base}/`);
      await mkcol(`${base}/a/`);
      await mkcol(`${base}/a/b/`);
      await put(`${base}/a/b/one.txt`, "1");
      const [moved, written] = await Promise.all([
        send("MOVE", `${base}/a/`, `${base}/x/`),
        put(`${base}/a/b/two.txt`, "2"),
      ]);
      assert.equal(moved.status, 201, moved.body);
      assert.ok([201, 409].includes(written.status), `PUT ${written.status}`);
      assert.equal(status(await put(`${base}/x/b/three.txt`, "3")), 201);
      const names = await hrefsOf(`${base}/x/b/`);
      assert.equal(
        names.includes(`/files/alice/${base}/x/b/two.txt`),
        written.status === 201,
        names.join(", "),
      );
    }
  });

  it("long names: a file whose folder path and name together pass a key's length is stored (201), a MOVE that would make a folder name too long → 403 before anything moves", async () => {
    const long = "d".repeat(500);
    assert.equal(status(await mkcol(`${long}/`)), 201);
    assert.equal(status(await put(`${long}/${"n".repeat(500)}`, "x")), 201);
    await mkcol("ln/");
    await mkcol(`ln/${"s".repeat(400)}/`);
    const res = await send("MOVE", "ln/", `${"m".repeat(200)}/`);
    assert.equal(res.status, 403, res.body);
    assert.equal((await hrefsOf("ln/")).length, 2);
  });

  it("a folder's ETag changes when a folder is made in it or leaves it, so If-Match on the old one fails (412)", async () => {
    await mkcol("ver/");
    const etag = async () => (await get("ver/")).headers.get("etag")!;
    const first = await etag();
    await mkcol("ver/sub/");
    const second = await etag();
    assert.notEqual(second, first);
    assert.equal(status(await req("DELETE", f("ver/"), { "if-match": first })), 412);
    await req("DELETE", f("ver/sub/"));
    assert.notEqual(await etag(), second);
  });
});
