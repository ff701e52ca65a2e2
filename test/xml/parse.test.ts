import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderError, XmlWriter } from "../../lib/xml/build.js";
import { renderMultistatus } from "../../lib/xml/multistatus.js";
import { dav, NS } from "../../lib/xml/names.js";
import { MAX_DEPTH, parseXml, XmlParseError, type XmlElement } from "../../lib/xml/parse.js";
import { serializeContent } from "../../lib/xml/serialize.js";
import { errorConditions, parseMultistatus, propStatus } from "../helpers/xml.js";

const XML_NS = "http://www.w3.org/XML/1998/namespace";

/** Namespace-aware structure of an element's content. */
function shape(el: XmlElement): unknown[] {
  return el.nodes.map((n) =>
    typeof n === "string" ? n : { name: n.name, attrs: n.attrs, content: shape(n) },
  );
}

describe("XML parsing (Namespaces in XML 1.0, RFC 4918 §8.2)", () => {
  it("Namespaces in XML §3: a prefix is just a prefix — names resolve to namespace + local name", () => {
    const forms = [
      `<x:propfind xmlns:x="DAV:"><x:prop><x:displayname/></x:prop></x:propfind>`,
      `<propfind xmlns="DAV:"><prop><displayname/></prop></propfind>`,
      `<D:propfind xmlns:D="DAV:"><prop xmlns="DAV:"><y:displayname xmlns:y="DAV:"/></prop></D:propfind>`,
    ];
    for (const f of forms) {
      const el = parseXml(f);
      assert.equal(el.name, dav("propfind"), f);
      assert.equal(el.children[0].name, dav("prop"), f);
      assert.equal(el.children[0].children[0].name, dav("displayname"), f);
    }
    // The usual prefix bound to another namespace is not DAV:.
    assert.equal(parseXml(`<D:propfind xmlns:D="urn:not-dav"/>`).name, "{urn:not-dav}propfind");
    // No default namespace: the empty namespace.
    assert.equal(parseXml(`<propfind/>`).name, "{}propfind");
  });

  it("Namespaces in XML §6.3: unprefixed attributes have no namespace; prefixed ones have theirs", () => {
    const el = parseXml(
      `<c:comp xmlns:c="${NS.CALDAV}" xmlns:q="urn:q" name="VEVENT" q:x="1" xml:lang="de"/>`,
    );
    assert.deepEqual(el.attrs, { "{}name": "VEVENT", "{urn:q}x": "1", [`{${XML_NS}}lang`]: "de" });
  });

  it("XML 1.0 §4.6, §2.7: predefined entities, character references and CDATA are text", () => {
    const el = parseXml(`<a>&lt;&amp;&gt;&quot;&apos;&#x41;&#66;<![CDATA[<not-an-element/>]]></a>`);
    assert.equal(el.text, `<&>"'AB<not-an-element/>`);
    assert.equal(el.children.length, 0);
  });

  it("XXE (CWE-611): a DTD with an external entity is refused, nothing is fetched or expanded", () => {
    const body = `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><d>&xxe;</d>`;
    assert.throws(
      () => parseXml(body),
      (e: Error) => e instanceof XmlParseError && /DTD/.test(e.message),
    );
  });

  it("Billion laughs (CWE-776): entity declarations are refused before any expansion", () => {
    const decls = ['<!ENTITY lol0 "lol">'];
    for (let i = 1; i <= 9; i++) decls.push(`<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`);
    const body = `<?xml version="1.0"?><!DOCTYPE lolz [${decls.join("")}]><lolz>&lol9;</lolz>`;
    const started = performance.now();
    assert.throws(() => parseXml(body), XmlParseError);
    assert.ok(performance.now() - started < 500, "refused without expanding");
  });

  it("XML 1.0 §4.1 WFC: Entity Declared — an undeclared entity reference is not well-formed", () => {
    assert.throws(() => parseXml(`<a>&nbsp;</a>`), XmlParseError);
  });

  it("XML 1.0 §2.1: documents that are not well-formed are refused with a reason", () => {
    for (const bad of [
      `<a>`,
      `<a></b>`,
      `<a/><b/>`,
      `text`,
      ``,
      `<x:a/>`,
      `<a b="1" b="2"/>`,
      `<a b=1/>`,
      `<a>&</a>`,
      `<a><!-- -- --></a>`,
    ]) {
      assert.throws(
        () => parseXml(bad),
        (e: Error) => e instanceof XmlParseError && e.message.length > 0,
        JSON.stringify(bad),
      );
    }
  });

  it("resource limits: nesting deeper than MAX_DEPTH is refused at once (no quadratic namespace walk)", () => {
    const nested = (depth: number) => "<a>".repeat(depth) + "</a>".repeat(depth);
    assert.equal(parseXml(nested(MAX_DEPTH)).name, "{}a");
    const started = performance.now();
    assert.throws(
      () => parseXml(nested(50_000)),
      (e: Error) => e instanceof XmlParseError && /nested/.test(e.message),
    );
    assert.throws(() => parseXml(nested(MAX_DEPTH + 1)), XmlParseError);
    assert.ok(performance.now() - started < 1000, "refused without parsing the rest");
  });

  it("XML 1.0 §4.3.3: a UTF-8 byte-order mark before the declaration is accepted", () => {
    const body = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(`<?xml version="1.0"?><a xmlns="DAV:"/>`),
    ]);
    assert.equal(parseXml(body).name, dav("a"));
  });
});

describe("dead property values: serialising and writing back (RFC 4918 §4.3)", () => {
  it("RFC 4918 §4.3: serializeContent keeps element and attribute namespaces, mixed content and escaping", () => {
    const prop = parseXml(
      `<p:prop xmlns:p="urn:p" xmlns:q="urn:q">lead &amp; &lt;<q:a q:attr="x&quot;y" plain="1" xml:lang="en">` +
        `in<b xmlns="">no ns</b></q:a><p:c/>tail</p:prop>`,
    );
    const raw = serializeContent(prop);
    const reread = parseXml(`<w>${raw}</w>`);
    assert.deepEqual(shape(reread), shape(prop));
  });

  it("RFC 4918 §4.3: the response writer puts a raw value back with its namespaces, whatever prefixes it picks", () => {
    const prop = parseXml(
      `<D:x xmlns:D="urn:not-dav"><D:inner D:flag="on" xml:lang="fr">bonjour</D:inner><e xmlns="DAV:"/></D:x>`,
    );
    const w = new XmlWriter("{DAV:}multistatus");
    w.node(w.root, { name: prop.name, value: { raw: serializeContent(prop) } });
    const out = parseXml(w.toString());
    const written = out.children[0];
    assert.equal(written.name, "{urn:not-dav}x");
    assert.deepEqual(shape(written), shape(prop));
  });

  it("RFC 4918 §13: renderMultistatus escapes hrefs and text and is namespace-correct", () => {
    const body = renderMultistatus([
      {
        href: "/a&b/<c>/",
        propstats: [
          { status: 200, props: [{ name: dav("displayname"), value: `Tom & "Jerry" <3` }] },
          { status: 404, props: [{ name: "{urn:x}missing" }] },
        ],
      },
      { href: "/gone/", status: 404 },
    ]);
    const [r, gone] = parseMultistatus(body);
    assert.equal(r.href, "/a&b/<c>/");
    assert.equal(propStatus(r, dav("displayname")), 200);
    assert.equal(r.propstats[0].props[0].text, `Tom & "Jerry" <3`);
    assert.equal(propStatus(r, "{urn:x}missing"), 404);
    assert.equal(gone.status, 404);
  });

  it("RFC 4918 §16: renderError puts the precondition first inside DAV:error", () => {
    const body = renderError({ name: dav("need-privileges"), hrefs: ["/x/"] }, "no & never");
    const conditions = errorConditions(body);
    assert.equal(conditions[0], dav("need-privileges"));
    assert.equal(parseXml(body).children[0].children[0].text, "/x/");
  });
});

describe("XML 1.0 §4.3.3: encodings of request bodies", () => {
  it("UTF-8 and UTF-16 with a byte-order mark are read; bytes that are neither are refused", () => {
    const xml = `<D:propfind xmlns:D="DAV:"><D:prop><D:displayname>Grüße</D:displayname></D:prop></D:propfind>`;
    for (const body of [
      Buffer.from(xml),
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(xml, "utf16le")]),
      Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(xml, "utf16le").swap16()]),
    ]) {
      assert.equal(parseXml(body).children[0].children[0].text, "Grüße");
    }
    assert.throws(() => parseXml(Buffer.from([0x3c, 0x61, 0xff, 0x2f, 0x3e])), /not valid UTF-8 or UTF-16/);
  });
});
