/**
 * The import rules of lib/ (run by `npm run lint`): no cycles anywhere, the store stands alone,
 * the WebDAV core knows no protocol built on it, and protocol modules do not reach into each
 * other (what they share lives in the core). See the README's "Layout" section.
 */
module.exports = {
  forbidden: [
    {
      name: "no-cycle",
      comment: "Dependencies point one way; a cycle means two modules are really one.",
      severity: "error",
      from: { path: "^(lib|functions)/" },
      to: { circular: true },
    },
    {
      name: "store-stands-alone",
      comment:
        "lib/store is the only code that knows DynamoDB and imports nothing but itself, the SDK and Node.",
      severity: "error",
      from: { path: "^lib/store/" },
      to: { pathNot: "^lib/store/|(^|/)node_modules/@aws-sdk/", dependencyTypesNot: ["core"] },
    },
    {
      name: "core-knows-no-protocol",
      comment: "The WebDAV core is what CalDAV, CardDAV and sync build on; it never imports them.",
      severity: "error",
      from: { path: "^lib/(webdav|xml|http|store|text|errors\\.ts)" },
      to: { path: "^lib/(caldav|carddav|sync|locks|files|tasks|scheduling|push|sharing)/" },
    },
    {
      name: "protocols-stay-apart",
      comment: "One protocol module does not import another; what they share belongs in the core.",
      severity: "error",
      from: { path: "^lib/(caldav|carddav|sync|locks|files|tasks|sharing)/" },
      to: {
        path: "^lib/(caldav|carddav|sync|locks|files|tasks|scheduling|push|sharing)/",
        pathNot: "^lib/$1/",
      },
    },
    {
      name: "scheduling-extends-caldav",
      comment:
        "Scheduling (RFC 6638) is an extension of CalDAV: it builds on lib/caldav (calendars, iCalendar, free-busy) and on no other protocol; CalDAV never imports it.",
      severity: "error",
      from: { path: "^lib/scheduling/" },
      to: { path: "^lib/(carddav|sync|locks|files|tasks|push|sharing)/" },
    },
    {
      name: "push-extends-sync",
      comment:
        "WebDAV-Push tells clients that a sync-collection would find changes: it builds on lib/sync (the tokens) and on no other protocol.",
      severity: "error",
      from: { path: "^lib/push/" },
      to: { path: "^lib/(caldav|carddav|locks|files|tasks|scheduling|sharing)/" },
    },
    {
      name: "resolvable",
      comment:
        "Every import names a file or package that exists (aws-lambda is types only: @types/aws-lambda).",
      severity: "error",
      from: {},
      to: { couldNotResolve: true, pathNot: "^aws-lambda$" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js"] },
  },
};
