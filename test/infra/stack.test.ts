/**
 * The deploy stack, synthesized offline with the app's own feature flags (infra/cdk.json) and the
 * one handler bundle this file builds. Pins what a deployment must never lose: a retained,
 * recoverable table shaped like lib/store/table.ts, a Node 22 arm64 function with least-privilege
 * IAM, and front doors that hand every DAV method to the function.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { App } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import type { ALBEvent, APIGatewayProxyEventV2 } from "aws-lambda";
import { sharedHandlerBundle } from "../../infra/bundle.js";
import { configFromContext, DEFAULT_CONFIG, type DavStackConfig } from "../../infra/config.js";
import {
  ALB_MAX_RESPONSE_BYTES,
  DAV_METHODS,
  DavStack,
  DYNAMODB_ACTIONS,
  IMIP_HANDLER,
  PUSH_DYNAMODB_ACTIONS,
  PUSH_HANDLER,
} from "../../infra/stack.js";
import { tableShape } from "../../infra/table.js";
import { SERVER_HEADER, SERVER_NAME } from "../../lib/server.js";
import { GSI1, tableDefinition, TTL_ATTRIBUTE } from "../../lib/store/table.js";

const cdkJson = JSON.parse(readFileSync(new URL("../../infra/cdk.json", import.meta.url), "utf8")) as {
  context: Record<string, unknown>;
};

type Resource = { Type: string; Properties?: Record<string, unknown>; [k: string]: unknown };

// Each synthesis writes a cloud assembly (with a copy of the bundle); keep them all in one place.
const outRoot = mkdtempSync(join(tmpdir(), "lambda-dav-synth-"));
after(() => rmSync(outRoot, { recursive: true, force: true }));
let synths = 0;

function synth(overrides: Partial<DavStackConfig> = {}): Template {
  const app = new App({ context: cdkJson.context, outdir: join(outRoot, String(synths++)) });
  // No `code`: the stack uses the process-wide bundle (infra/bundle.ts), built once for this file.
  const stack = new DavStack(app, "Test", { config: { ...DEFAULT_CONFIG, ...overrides } });
  return Template.fromStack(stack);
}

function resources(t: Template, type: string): Array<[string, Resource]> {
  return Object.entries(t.findResources(type)) as Array<[string, Resource]>;
}

function only(t: Template, type: string): [string, Resource] {
  const found = resources(t, type);
  assert.equal(found.length, 1, `exactly one ${type}`);
  return found[0];
}

/** The DAV function (entry point `handler`) or the task worker (`worker`), by its handler. */
function lambdaFn(t: Template, handler: string): [string, Resource] {
  const found = resources(t, "AWS::Lambda::Function").filter(([, r]) => r.Properties!.Handler === handler);
  assert.equal(found.length, 1, `exactly one function with handler ${handler}`);
  return found[0];
}
const davFn = (t: Template) => lambdaFn(t, "index.handler");
const workerFn = (t: Template) => lambdaFn(t, "index.worker");

/** Every IAM statement in the template: policies and roles' inline policies. */
function statements(t: Template): Array<{ Action: string | string[]; Resource: unknown; Effect: string }> {
  const docs: unknown[] = [];
  for (const [, r] of resources(t, "AWS::IAM::Policy")) docs.push(r.Properties!.PolicyDocument);
  for (const [, r] of resources(t, "AWS::IAM::Role")) {
    for (const p of (r.Properties!.Policies as Array<{ PolicyDocument: unknown }> | undefined) ?? []) {
      docs.push(p.PolicyDocument);
    }
  }
  return docs.flatMap((d) => (d as { Statement: never[] }).Statement);
}

const asList = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);

const VARIANTS: Array<[string, Partial<DavStackConfig>]> = [
  ["function-url", { frontDoor: "function-url" }],
  ["http-api", { frontDoor: "http-api" }],
  ["alb", { frontDoor: "alb" }],
];
const templates = new Map<string, Template>();

describe("deploy stack", () => {
  before(() => {
    for (const [name, overrides] of VARIANTS) templates.set(name, synth(overrides));
  });

  describe("table", () => {
    it("is derived from lib/store/table.ts: keys, attribute types, GSI and projection", () => {
      const def = tableDefinition("x");
      for (const t of templates.values()) {
        const [, table] = only(t, "AWS::DynamoDB::Table");
        const p = table.Properties!;
        assert.deepEqual(p.KeySchema, def.KeySchema);
        assert.deepEqual(
          [...(p.AttributeDefinitions as object[])].sort((a, b) =>
            JSON.stringify(a).localeCompare(JSON.stringify(b)),
          ),
          [...def.AttributeDefinitions!].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
        );
        const gsis = p.GlobalSecondaryIndexes as Array<Record<string, unknown>>;
        assert.deepEqual(
          gsis.map((g) => ({ IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection })),
          def.GlobalSecondaryIndexes!.map((g) => ({
            IndexName: g.IndexName,
            KeySchema: g.KeySchema,
            Projection: g.Projection,
          })),
        );
        assert.equal(gsis[0].IndexName, GSI1);
        assert.equal(p.BillingMode, "PAY_PER_REQUEST");
        assert.deepEqual(p.TimeToLiveSpecification, { AttributeName: TTL_ATTRIBUTE, Enabled: true });
      }
    });

    it("follows changes to the shared definition instead of repeating it", () => {
      const def = tableDefinition("x");
      def.GlobalSecondaryIndexes![0].Projection = { ProjectionType: "KEYS_ONLY" };
      def.AttributeDefinitions![1].AttributeType = "N";
      const shape = tableShape(def);
      assert.equal(shape.globalSecondaryIndexes[0].projectionType, "KEYS_ONLY");
      assert.equal(shape.globalSecondaryIndexes[0].nonKeyAttributes, undefined);
      assert.deepEqual(shape.sortKey, { name: "sk", type: "N" });
      assert.throws(() => tableShape({ ...def, BillingMode: "PROVISIONED" }), /on-demand/);
    });

    it("has point-in-time recovery and deletion protection on, and is retained on delete and replace", () => {
      for (const t of templates.values()) {
        const [, table] = only(t, "AWS::DynamoDB::Table");
        assert.deepEqual(table.Properties!.PointInTimeRecoverySpecification, {
          PointInTimeRecoveryEnabled: true,
        });
        assert.equal(table.Properties!.DeletionProtectionEnabled, true);
        assert.equal(table.DeletionPolicy, "Retain");
        assert.equal(table.UpdateReplacePolicy, "Retain");
      }
    });

    it("encrypts with an AWS-owned key by default, or an AWS-managed or retained customer-managed key", () => {
      const [, owned] = only(templates.get("function-url")!, "AWS::DynamoDB::Table");
      const sse = owned.Properties!.SSESpecification as { SSEEnabled?: boolean } | undefined;
      assert.ok(!sse || sse.SSEEnabled === false, "AWS-owned key: no SSE specification");

      const managed = synth({ encryption: "aws-managed" });
      managed.hasResourceProperties("AWS::DynamoDB::Table", { SSESpecification: { SSEEnabled: true } });
      managed.resourceCountIs("AWS::KMS::Key", 0);

      const cmk = synth({ encryption: "customer-managed" });
      const [keyId, key] = only(cmk, "AWS::KMS::Key");
      assert.equal(key.DeletionPolicy, "Retain", "a retained table needs its key");
      assert.equal(key.Properties!.EnableKeyRotation, true);
      cmk.hasResourceProperties("AWS::DynamoDB::Table", {
        SSESpecification: {
          SSEEnabled: true,
          SSEType: "KMS",
          KMSMasterKeyId: { "Fn::GetAtt": [keyId, "Arn"] },
        },
      });
      const kmsStatement = statements(cmk).find((s) => asList(s.Action).some((a) => a.startsWith("kms:")));
      assert.ok(kmsStatement, "the function may use the key");
      assert.deepEqual(kmsStatement.Resource, { "Fn::GetAtt": [keyId, "Arn"] });

      const imported = synth({
        encryption: "customer-managed",
        kmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555",
      });
      imported.resourceCountIs("AWS::KMS::Key", 0);
      imported.hasResourceProperties("AWS::DynamoDB::Table", {
        SSESpecification: {
          KMSMasterKeyId: "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555",
        },
      });
    });

    it("can adopt a retained table instead of creating one", () => {
      const t = synth({ existingTableName: "LambdaDav-TableCD117FA1-OLD" });
      t.resourceCountIs("AWS::DynamoDB::Table", 0);
      t.hasResourceProperties("AWS::Lambda::Function", {
        Environment: { Variables: { TABLE_NAME: "LambdaDav-TableCD117FA1-OLD" } },
      });
      const dynamo = statements(t).find((s) => asList(s.Action).some((a) => a.startsWith("dynamodb:")))!;
      const json = JSON.stringify(dynamo.Resource);
      assert.match(json, /table\/LambdaDav-TableCD117FA1-OLD"/);
      assert.match(json, /table\/LambdaDav-TableCD117FA1-OLD\/index\/\*/);
      assert.ok(!statements(t).some((s) => asList(s.Action).some((a) => a.startsWith("kms:"))));

      const keyArn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555";
      const withKey = synth({ existingTableName: "old", encryption: "customer-managed", kmsKeyArn: keyArn });
      withKey.resourceCountIs("AWS::KMS::Key", 0);
      const kmsGrant = statements(withKey).find((s) => asList(s.Action).includes("kms:Decrypt"));
      assert.equal(kmsGrant?.Resource, keyArn);
    });
  });

  describe("function", () => {
    it("runs the bundled handler on Node.js 22, arm64, wired to the table", () => {
      for (const [name, t] of templates) {
        const [, fn] = davFn(t);
        const p = fn.Properties!;
        assert.equal(p.Runtime, "nodejs22.x");
        assert.deepEqual(p.Architectures, ["arm64"]);
        assert.equal(p.Handler, "index.handler");
        const [tableId] = only(t, "AWS::DynamoDB::Table");
        const [workerId] = workerFn(t);
        assert.deepEqual(p.Environment, {
          Variables: {
            TABLE_NAME: { Ref: tableId },
            DAV_TASK_WORKER: { Ref: workerId },
            // The WebDAV-Push VAPID seed (the transports property names its public key).
            DAV_VAPID_SECRET_ARN: { Ref: only(t, "AWS::SecretsManager::Secret")[0] },
            // Behind an ALB the answer is limited to 1 MB: a larger export is refused with its reason.
            ...(name === "alb" ? { DAV_MAX_RESPONSE_BYTES: String(ALB_MAX_RESPONSE_BYTES) } : {}),
          },
        });
        assert.equal(p.MemorySize, DEFAULT_CONFIG.memoryMb);
        assert.equal(p.Timeout, DEFAULT_CONFIG.timeoutSeconds);
        assert.equal(p.ReservedConcurrentExecutions, undefined, "no reserved concurrency unless asked");
      }
    });

    it("takes memory, timeout, reserved concurrency and log retention as parameters", () => {
      const t = synth({ memoryMb: 1024, timeoutSeconds: 9, reservedConcurrency: 5, logRetentionDays: 90 });
      t.hasResourceProperties("AWS::Lambda::Function", {
        MemorySize: 1024,
        Timeout: 9,
        ReservedConcurrentExecutions: 5,
      });
      t.hasResourceProperties("AWS::Logs::LogGroup", { RetentionInDays: 90 });
    });

    it("logs JSON to its own log group with a retention set (the DAV function, the worker and push each)", () => {
      for (const t of templates.values()) {
        const groups = resources(t, "AWS::Logs::LogGroup");
        assert.equal(groups.length, 3);
        for (const [, log] of groups)
          assert.equal(log.Properties!.RetentionInDays, DEFAULT_CONFIG.logRetentionDays);
        const used = [davFn(t), workerFn(t), lambdaFn(t, PUSH_HANDLER)].map(([, fn]) => {
          const config = fn.Properties!.LoggingConfig as { LogFormat: string; LogGroup: { Ref: string } };
          assert.equal(config.LogFormat, "JSON");
          return config.LogGroup.Ref;
        });
        assert.deepEqual(used.sort(), groups.map(([id]) => id).sort(), "one log group each");
      }
    });

    it("the bundle is a minified ES module exporting handler", () => {
      const bundle = sharedHandlerBundle();
      const text = readFileSync(bundle.file, "utf8");
      assert.ok(bundle.bytes > 10_000, "bundles its dependencies");
      assert.ok(text.length / text.split("\n").length > 2000, "minified: long lines, no indentation");
      assert.match(text, /export\s*\{[^}]*\bhandler\b/);
    });
  });

  describe("IAM", () => {
    it("grants only the DynamoDB actions the code uses, on the table and its indexes", () => {
      for (const [name, t] of templates) {
        const [tableId] = only(t, "AWS::DynamoDB::Table");
        const dynamo = statements(t).filter((s) => asList(s.Action).includes("dynamodb:PutItem"));
        assert.equal(dynamo.length, 2, `${name}: one DynamoDB statement for each function's role`);
        for (const statement of dynamo) {
          assert.deepEqual(asList(statement.Action).sort(), [...DYNAMODB_ACTIONS].sort());
          assert.ok(!asList(statement.Action).includes("dynamodb:Scan"));
          assert.ok(!asList(statement.Action).includes("dynamodb:DescribeTable"), "not needed at runtime");
          assert.deepEqual(statement.Resource, [
            { "Fn::GetAtt": [tableId, "Arn"] },
            { "Fn::Join": ["", [{ "Fn::GetAtt": [tableId, "Arn"] }, "/index/*"]] },
          ]);
        }
      }
    });

    it("has no wildcard action or resource anywhere, and no managed policies", () => {
      for (const [name, t] of [...templates, ["cmk", synth({ encryption: "customer-managed" })] as const]) {
        for (const s of statements(t)) {
          for (const a of asList(s.Action)) {
            assert.ok(a !== "*" && !a.endsWith(":*"), `${name}: wildcard action ${a}`);
          }
          // The one exception: Lambda's stream poller must list streams, which has no resource scope.
          if (s.Action === "dynamodb:ListStreams") continue;
          for (const r of asList(s.Resource))
            assert.notEqual(r, "*", `${name}: "*" resource for ${s.Action}`);
        }
        for (const [, role] of resources(t, "AWS::IAM::Role")) {
          assert.equal(role.Properties!.ManagedPolicyArns, undefined, `${name}: managed policy on a role`);
        }
      }
    });

    it("lets each function write only to its own log group", () => {
      const t = templates.get("function-url")!;
      const logIds = resources(t, "AWS::Logs::LogGroup").map(([id]) => id);
      const logStatements = statements(t).filter((s) => asList(s.Action).some((a) => a.startsWith("logs:")));
      assert.equal(logStatements.length, 3);
      for (const statement of logStatements) {
        assert.deepEqual(asList(statement.Action).sort(), ["logs:CreateLogStream", "logs:PutLogEvents"]);
      }
      assert.deepEqual(
        logStatements
          .map((st) => (st.Resource as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0])
          .sort(),
        logIds.sort(),
      );
    });

    it("the task worker: entry point worker, 15 minutes a turn, no retries; it may invoke only itself, and the DAV function only it", () => {
      const t = templates.get("function-url")!;
      const [workerId, worker] = workerFn(t);
      const p = worker.Properties!;
      assert.equal(p.Timeout, 900);
      assert.equal(p.Runtime, "nodejs22.x");
      t.hasResourceProperties("AWS::Lambda::EventInvokeConfig", { MaximumRetryAttempts: 0 });
      const invokes = statements(t).filter((st) => asList(st.Action).includes("lambda:InvokeFunction"));
      assert.equal(invokes.length, 2);
      const named = JSON.stringify(invokes.map((st) => st.Resource));
      assert.match(named, new RegExp(`function:${String(p.FunctionName)}`), "the worker names itself");
      assert.ok(named.includes(workerId), "the DAV function may invoke the worker");
      assert.ok(!invokes.some((st) => asList(st.Action).some((a) => a !== "lambda:InvokeFunction")));
    });
  });

  describe("scheduling e-mail (iMIP)", () => {
    it("off by default: no SES permission, no inbound function, no mail settings in the environment", () => {
      const t = templates.get("function-url")!;
      assert.ok(!statements(t).some((st) => asList(st.Action).some((x) => x.startsWith("ses:"))));
      assert.equal(
        resources(t, "AWS::Lambda::Function").filter(([, r]) => r.Properties!.Handler === IMIP_HANDLER)
          .length,
        0,
      );
      const env = JSON.stringify(davFn(t)[1].Properties!.Environment);
      assert.doesNotMatch(env, /DAV_MAIL/);
    });

    it("with mailFrom: the DAV function may ses:SendEmail on exactly the verified identity; replies reach a function of their own through SNS", () => {
      const t = synth({ mail: { from: "calendar@example.com", identity: "example.com", perHour: 20 } });
      const ses = statements(t).filter((st) => asList(st.Action).some((x) => x.startsWith("ses:")));
      assert.equal(ses.length, 1);
      assert.deepEqual(asList(ses[0].Action), ["ses:SendEmail"]);
      assert.match(JSON.stringify(ses[0].Resource), /:identity\/example\.com"/);
      assert.deepEqual((ses[0] as { Condition?: unknown }).Condition, {
        StringEquals: { "ses:FromAddress": "calendar@example.com" },
      });
      const inboundDynamo = statements(t).filter(
        (st) =>
          asList(st.Action).includes("dynamodb:PutItem") &&
          !asList(st.Action).includes("dynamodb:BatchGetItem"),
      );
      assert.equal(inboundDynamo.length, 1, "the inbound function's table access has no batches");
      t.hasResourceProperties("AWS::Lambda::Function", {
        Handler: "index.handler",
        Environment: {
          Variables: Match.objectLike({
            DAV_MAIL_FROM: "calendar@example.com",
            DAV_MAIL_TRANSPORT: "ses",
            DAV_MAIL_PER_HOUR: "20",
          }),
        },
      });
      const [imipId] = lambdaFn(t, IMIP_HANDLER);
      t.hasResourceProperties("AWS::SNS::Subscription", {
        Protocol: "lambda",
        Endpoint: { "Fn::GetAtt": [imipId, "Arn"] },
      });
      t.hasOutput("ImipTopicArn", Match.anyValue());
      // The inbound function sends nothing: only the DAV function's role names SES.
      const [, fn] = lambdaFn(t, IMIP_HANDLER);
      const roleId = (fn.Properties!.Role as { "Fn::GetAtt": [string] })["Fn::GetAtt"][0];
      const policies = resources(t, "AWS::IAM::Policy").filter(([, p]) =>
        JSON.stringify(p.Properties!.Roles).includes(roleId),
      );
      assert.ok(!JSON.stringify(policies).includes("ses:"));
    });
  });

  describe("WebDAV-Push", () => {
    it("the table streams keys only; the push function reads the stream through a batching window, with only the table and stream actions it needs and the VAPID seed", () => {
      const t = templates.get("function-url")!;
      t.hasResourceProperties("AWS::DynamoDB::Table", {
        StreamSpecification: { StreamViewType: "KEYS_ONLY" },
      });
      const [pushId, fn] = lambdaFn(t, PUSH_HANDLER);
      assert.equal(fn.Properties!.Runtime, "nodejs22.x");
      t.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
        FunctionName: { Ref: pushId },
        EventSourceArn: { "Fn::GetAtt": [only(t, "AWS::DynamoDB::Table")[0], "StreamArn"] },
        MaximumBatchingWindowInSeconds: 2,
        StartingPosition: "LATEST",
      });
      const roleId = (fn.Properties!.Role as { "Fn::GetAtt": [string] })["Fn::GetAtt"][0];
      const mine = resources(t, "AWS::IAM::Policy")
        .filter(([, pol]) => JSON.stringify(pol.Properties!.Roles).includes(roleId))
        .flatMap(
          ([, pol]) =>
            (pol.Properties!.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement,
        )
        .flatMap((st) => asList(st.Action));
      assert.deepEqual(
        mine.filter((a) => a.startsWith("dynamodb:")).sort(),
        [
          ...PUSH_DYNAMODB_ACTIONS,
          "dynamodb:DescribeStream",
          "dynamodb:GetRecords",
          "dynamodb:GetShardIterator",
          "dynamodb:ListStreams",
        ].sort(),
      );
      assert.ok(mine.includes("secretsmanager:GetSecretValue"));
      // Its table access is kept to the push partitions.
      const scoped = statements(t).find(
        (st) =>
          asList(st.Action).includes("dynamodb:DeleteItem") &&
          !asList(st.Action).includes("dynamodb:PutItem"),
      );
      assert.deepEqual((scoped as { Condition?: unknown }).Condition, {
        "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["PUSH#*", "PUSHRATE#*"] },
      });
      // The seed is made once and kept: a deploy or a destroy does not replace it.
      const [, secret] = only(t, "AWS::SecretsManager::Secret");
      assert.equal(secret.DeletionPolicy, "Retain");
      assert.ok(secret.Properties!.GenerateSecretString);
    });
  });

  describe("WebDAV-Push on an adopted table", () => {
    it("without tableStreamArn there is no push function and the DAV function offers no push; with it, the mapping reads that stream", () => {
      const without = synth({ existingTableName: "old" });
      assert.equal(
        resources(without, "AWS::Lambda::Function").filter(([, r]) => r.Properties!.Handler === PUSH_HANDLER)
          .length,
        0,
      );
      assert.equal(
        (davFn(without)[1].Properties!.Environment as { Variables: Record<string, unknown> }).Variables
          .DAV_PUSH,
        "off",
      );
      const arn = "arn:aws:dynamodb:us-east-1:123456789012:table/old/stream/2026-01-01T00:00:00.000";
      const withStream = synth({ existingTableName: "old", existingTableStreamArn: arn });
      withStream.hasResourceProperties("AWS::Lambda::EventSourceMapping", { EventSourceArn: arn });
    });
  });

  describe("front doors", () => {
    it("function-url: public URL (the app does Basic auth), buffered, no CORS interception", () => {
      const t = templates.get("function-url")!;
      const [fnId] = davFn(t);
      const [, url] = only(t, "AWS::Lambda::Url");
      assert.equal(url.Properties!.AuthType, "NONE");
      assert.equal(url.Properties!.InvokeMode, "BUFFERED");
      assert.deepEqual(url.Properties!.TargetFunctionArn, { "Fn::GetAtt": [fnId, "Arn"] });
      assert.equal(url.Properties!.Cors, undefined, "CORS config would answer OPTIONS preflights itself");
      t.hasResourceProperties("AWS::Lambda::Permission", {
        Action: "lambda:InvokeFunctionUrl",
        FunctionUrlAuthType: "NONE",
      });
      t.hasOutput("Url", { Value: { "Fn::GetAtt": [Match.anyValue(), "FunctionUrl"] } });
    });

    it("http-api: only the $default route (every method), payload 2.0 to the function", () => {
      const t = templates.get("http-api")!;
      const [fnId] = davFn(t);
      const [apiId, api] = only(t, "AWS::ApiGatewayV2::Api");
      assert.equal(api.Properties!.ProtocolType, "HTTP");
      assert.equal(api.Properties!.CorsConfiguration, undefined);
      const [, route] = only(t, "AWS::ApiGatewayV2::Route");
      assert.equal(route.Properties!.RouteKey, "$default");
      assert.equal(route.Properties!.AuthorizationType, "NONE");
      const [integrationId, integration] = only(t, "AWS::ApiGatewayV2::Integration");
      assert.deepEqual(route.Properties!.Target, {
        "Fn::Join": ["", ["integrations/", { Ref: integrationId }]],
      });
      assert.equal(integration.Properties!.IntegrationType, "AWS_PROXY");
      assert.equal(integration.Properties!.PayloadFormatVersion, "2.0");
      assert.deepEqual(integration.Properties!.IntegrationUri, { "Fn::GetAtt": [fnId, "Arn"] });
      const [, permission] = only(t, "AWS::Lambda::Permission");
      assert.equal(permission.Properties!.Principal, "apigateway.amazonaws.com");
      assert.match(JSON.stringify(permission.Properties!.SourceArn), new RegExp(apiId));
      t.hasResourceProperties("AWS::ApiGatewayV2::Stage", { StageName: "$default", AutoDeploy: true });
    });

    it("alb: every method forwarded to a multi-value-header Lambda target group, in a NAT-free VPC", () => {
      const t = templates.get("alb")!;
      const [fnId] = davFn(t);
      const [tgId, tg] = only(t, "AWS::ElasticLoadBalancingV2::TargetGroup");
      assert.equal(tg.Properties!.TargetType, "lambda");
      assert.deepEqual(tg.Properties!.Targets, [{ Id: { "Fn::GetAtt": [fnId, "Arn"] } }]);
      assert.deepEqual(tg.Properties!.TargetGroupAttributes, [
        { Key: "lambda.multi_value_headers.enabled", Value: "true" },
      ]);
      const [, listener] = only(t, "AWS::ElasticLoadBalancingV2::Listener");
      assert.deepEqual(listener.Properties!.DefaultActions, [
        { TargetGroupArn: { Ref: tgId }, Type: "forward" },
      ]);
      // Any listener rule with a method condition must accept every DAV method.
      for (const [, rule] of resources(t, "AWS::ElasticLoadBalancingV2::ListenerRule")) {
        for (const c of rule.Properties!.Conditions as Array<Record<string, { Values: string[] }>>) {
          const methods = c.HttpRequestMethodConfig?.Values;
          if (methods) for (const m of DAV_METHODS) assert.ok(methods.includes(m), `rule drops ${m}`);
        }
      }
      t.hasResourceProperties("AWS::ElasticLoadBalancingV2::LoadBalancer", { Scheme: "internet-facing" });
      t.resourceCountIs("AWS::EC2::VPC", 1);
      t.resourceCountIs("AWS::EC2::NatGateway", 0);
      const [, permission] = only(t, "AWS::Lambda::Permission");
      assert.equal(permission.Properties!.Principal, "elasticloadbalancing.amazonaws.com");
      assert.deepEqual(permission.Properties!.SourceAccount, { Ref: "AWS::AccountId" });
    });

    it("alb with a custom domain: HTTPS on 443, HTTP redirected, DNS alias in the given zone", () => {
      const t = synth({
        frontDoor: "alb",
        vpcId: "vpc-0123456789abcdef0",
        publicSubnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
        customDomain: {
          domainName: "dav.example.com",
          certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/abc",
          hostedZoneId: "Z0123456789",
          hostedZoneName: "example.com",
        },
      });
      t.resourceCountIs("AWS::EC2::VPC", 0);
      t.hasResourceProperties("AWS::ElasticLoadBalancingV2::LoadBalancer", {
        Subnets: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
      });
      t.hasResourceProperties("AWS::ElasticLoadBalancingV2::Listener", {
        Port: 443,
        Protocol: "HTTPS",
        Certificates: [{ CertificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/abc" }],
      });
      t.hasResourceProperties("AWS::ElasticLoadBalancingV2::Listener", {
        Port: 80,
        DefaultActions: [Match.objectLike({ Type: "redirect" })],
      });
      t.hasResourceProperties("AWS::Route53::RecordSet", {
        Name: "dav.example.com.",
        HostedZoneId: "Z0123456789",
      });
      t.hasOutput("Url", { Value: "https://dav.example.com/" });
    });

    it("http-api with a custom domain maps the API and says where to point DNS", () => {
      const t = synth({
        frontDoor: "http-api",
        customDomain: {
          domainName: "dav.example.com",
          certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/abc",
        },
      });
      t.hasResourceProperties("AWS::ApiGatewayV2::DomainName", { DomainName: "dav.example.com" });
      t.resourceCountIs("AWS::ApiGatewayV2::ApiMapping", 1);
      t.hasOutput("DnsTarget", {});
      t.hasOutput("Url", { Value: "https://dav.example.com/" });
    });

    it("the deployed bundle answers every DAV method in each front door's event shape", async () => {
      process.env.DAV_ACCESS_LOG = "0";
      const mod = (await import(pathToFileURL(sharedHandlerBundle().file).href)) as {
        handler: (e: unknown) => Promise<Record<string, unknown>>;
      };
      for (const method of DAV_METHODS) {
        const v2 = {
          version: "2.0",
          routeKey: "$default",
          rawPath: "/__probe__/",
          rawQueryString: "",
          headers: { host: "example.com" },
          requestContext: { http: { method, path: "/__probe__/", sourceIp: "192.0.2.1" } },
          isBase64Encoded: false,
        } as unknown as APIGatewayProxyEventV2;
        const v2Result = await mod.handler(v2);
        assert.equal(
          (v2Result.headers as Record<string, string>)[SERVER_HEADER],
          SERVER_NAME,
          `v2 ${method}`,
        );

        const alb = {
          requestContext: { elb: { targetGroupArn: "arn:aws:elasticloadbalancing:::targetgroup/x/y" } },
          httpMethod: method,
          path: "/__probe__/",
          multiValueQueryStringParameters: {},
          multiValueHeaders: { host: ["example.com"] },
          body: "",
          isBase64Encoded: false,
        } as unknown as ALBEvent;
        const albResult = await mod.handler(alb);
        const multi = albResult.multiValueHeaders as Record<string, string[]>;
        assert.deepEqual(multi[SERVER_HEADER], [SERVER_NAME], `alb ${method}`);
        assert.match(String(albResult.statusDescription), /^\d{3} /, "ALB needs a status description");
      }
    });
  });

  describe("operations", () => {
    const metricNames = (t: Template) =>
      resources(t, "AWS::CloudWatch::Alarm").map(([, a]) => {
        const p = a.Properties!;
        const names = [
          p.MetricName,
          ...((p.Metrics as Array<Record<string, never>>) ?? []).map((m) => m.MetricStat),
        ]
          .filter(Boolean)
          .map((x) =>
            typeof x === "string" ? x : (x as { Metric: { MetricName: string } }).Metric.MetricName,
          );
        return names.sort().join("+");
      });

    it("alarms on function and worker errors, throttles, front-door 5xx rate and table throttling", () => {
      const expected5xx: Record<string, string> = {
        "function-url": "Url5xxCount+UrlRequestCount",
        "http-api": "5xx+Count",
        alb: "HTTPCode_ELB_5XX_Count+HTTPCode_Target_5XX_Count+RequestCount",
      };
      for (const [name, t] of templates) {
        assert.deepEqual(
          metricNames(t).sort(),
          [
            "Errors",
            "Errors",
            "Errors",
            "Throttles",
            expected5xx[name],
            "ReadThrottleEvents+WriteThrottleEvents",
          ].sort(),
          name,
        );
      }
    });

    it("notifies an e-mail address when one is given", () => {
      const t = synth({ alarmEmail: "ops@example.com" });
      t.hasResourceProperties("AWS::SNS::Subscription", { Protocol: "email", Endpoint: "ops@example.com" });
      const [topicId] = only(t, "AWS::SNS::Topic");
      for (const [, a] of resources(t, "AWS::CloudWatch::Alarm")) {
        assert.deepEqual(a.Properties!.AlarmActions, [{ Ref: topicId }]);
      }
      for (const [, a] of resources(templates.get("function-url")!, "AWS::CloudWatch::Alarm")) {
        assert.equal(a.Properties!.AlarmActions, undefined);
      }
    });

    it("outputs the URL and the table name", () => {
      for (const t of templates.values()) {
        const [tableId] = only(t, "AWS::DynamoDB::Table");
        t.hasOutput("TableName", { Value: { Ref: tableId } });
        t.hasOutput("Url", {});
      }
    });
  });
});

describe("stack parameters (CDK context)", () => {
  const ctx = (values: Record<string, unknown>) => (key: string) => values[key];

  it("defaults to a Function URL with sane sizes", () => {
    assert.deepEqual(configFromContext(ctx({})), { ...DEFAULT_CONFIG, ...configFromContext(ctx({})) });
    const c = configFromContext(ctx({}));
    assert.equal(c.frontDoor, "function-url");
    assert.equal(c.encryption, "aws-owned");
    assert.equal(c.reservedConcurrency, undefined);
  });

  it("mail: mailFrom alone uses the address as its SES identity; mailIdentity may name its domain", () => {
    assert.deepEqual(configFromContext(ctx({ mailFrom: "cal@example.com" })).mail, {
      from: "cal@example.com",
      identity: "cal@example.com",
      perHour: undefined,
    });
    assert.equal(
      configFromContext(ctx({ mailFrom: "cal@example.com", mailIdentity: "example.com" })).mail?.identity,
      "example.com",
    );
    assert.equal(configFromContext(ctx({})).mail, undefined);
  });

  it("parses the string values `-c key=value` gives", () => {
    const c = configFromContext(
      ctx({
        frontDoor: "alb",
        memoryMb: "1024",
        timeoutSeconds: "30",
        reservedConcurrency: "3",
        logRetentionDays: "14",
        vpcId: "vpc-0123456789abcdef0",
        publicSubnetIds: "subnet-0123456789abcdef0, subnet-0123456789abcdef1",
      }),
    );
    assert.equal(c.frontDoor, "alb");
    assert.equal(c.memoryMb, 1024);
    assert.equal(c.timeoutSeconds, 30);
    assert.equal(c.reservedConcurrency, 3);
    assert.equal(c.logRetentionDays, 14);
    assert.deepEqual(c.publicSubnetIds, ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]);
  });

  it("rejects what would deploy something unexpected", () => {
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ frontDoor: "cloudfront" }, /frontDoor must be one of/],
      [{ memoryMb: "64" }, /memoryMb/],
      [{ frontDoor: "http-api", timeoutSeconds: "60" }, /timeoutSeconds.*29/],
      [{ logRetentionDays: "10" }, /logRetentionDays must be one of/],
      [{ domainName: "dav.example.com", certificateArn: "arn:x" }, /CloudFront/],
      [{ frontDoor: "http-api", domainName: "dav.example.com" }, /certificateArn/],
      [{ kmsKeyArn: "arn:aws:kms:x" }, /customer-managed/],
      [{ tableName: "old", encryption: "customer-managed" }, /kmsKeyArn/],
      [{ vpcId: "vpc-0123456789abcdef0", publicSubnetIds: "subnet-0123456789abcdef0" }, /only apply to/],
      [
        { frontDoor: "alb", vpcId: "vpc-0123456789abcdef0", publicSubnetIds: "subnet-0123456789abcdef0" },
        /two/,
      ],
      [
        {
          frontDoor: "alb",
          vpcId: "vpc-1",
          publicSubnetIds: "subnet-0123456789abcdef0,subnet-0123456789abcdef1",
        },
        /vpcId/,
      ],
    ];
    bad.push(
      [{ mailFrom: "not-an-address" }, /mailFrom must be an e-mail address/],
      [{ mailFrom: "a@example.com", mailIdentity: "other.example" }, /mailIdentity/],
      [{ mailIdentity: "example.com" }, /need mailFrom/],
    );
    for (const [values, message] of bad) {
      assert.throws(() => configFromContext(ctx(values)), message, JSON.stringify(values));
    }
  });
});
