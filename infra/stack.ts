/**
 * The whole deployment: one DynamoDB table, one Lambda function (the DAV handler), one front door
 * (Function URL, API Gateway HTTP API or Application Load Balancer), and the alarms to notice when
 * it misbehaves. Parameters come from infra/config.ts.
 */
import {
  Annotations,
  ArnFormat,
  CfnOutput,
  Duration,
  Fn,
  RemovalPolicy,
  Stack,
  type StackProps,
} from "aws-cdk-lib";
import * as apigw from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import * as acm from "aws-cdk-lib/aws-certificatemanager";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as cwActions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as elbv2 from "aws-cdk-lib/aws-elasticloadbalancingv2";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import * as route53 from "aws-cdk-lib/aws-route53";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import * as targets from "aws-cdk-lib/aws-route53-targets";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import type { Construct } from "constructs";
import { TTL_ATTRIBUTE } from "../lib/store/table.js";
import { LAMBDA_HANDLER, sharedHandlerBundle } from "./bundle.js";
import type { DavStackConfig } from "./config.js";
import { tableShape } from "./table.js";

/**
 * Exactly the DynamoDB actions the handler calls. TransactWriteItems has no IAM action of its own:
 * DynamoDB authorizes each Put/Update/Delete inside a transaction as PutItem/UpdateItem/DeleteItem
 * and each ConditionCheck as ConditionCheckItem. DescribeTable/CreateTable are local-mode only.
 */
export const DYNAMODB_ACTIONS = [
  "dynamodb:GetItem",
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
  "dynamodb:ConditionCheckItem",
  "dynamodb:Query",
  "dynamodb:BatchGetItem",
  "dynamodb:BatchWriteItem",
] as const;

/** What applying an e-mailed reply needs of the table. */
export const INBOUND_DYNAMODB_ACTIONS = DYNAMODB_ACTIONS.filter((a) => !a.startsWith("dynamodb:Batch"));

export { DAV_METHODS } from "../lib/http/methods.js";

/**
 * The largest body the server answers behind an ALB: its Lambda limit is 1 MB of response JSON,
 * in which every CRLF of a calendar takes four characters, so about a tenth more than the body.
 */
export const ALB_MAX_RESPONSE_BYTES = 768 * 1024;

/** The push function's entry point (functions/dav.ts `push`): batches of the table's stream. */
export const PUSH_HANDLER = "index.push";

/** What push delivery needs of the table: subscriptions read, counted and removed. */
export const PUSH_DYNAMODB_ACTIONS = ["dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:DeleteItem"];

/** The inbound iMIP function's entry point (functions/dav.ts `imip`): SES receiving → SNS → it. */
export const IMIP_HANDLER = "index.imip";

/** The worker function's entry point in the same bundle (functions/dav.ts `worker`). */
export const WORKER_HANDLER = "index.worker";
/** A worker's turn at a task: Lambda's longest; near its end the task stops at a checkpoint and the worker invokes itself. */
export const WORKER_TIMEOUT_SECONDS = 900;

export interface DavStackProps extends StackProps {
  config: DavStackConfig;
  /** The handler code; defaults to the esbuild bundle of functions/dav.ts (see infra/bundle.ts). */
  code?: lambda.Code;
}

interface FrontDoorParts {
  url: string;
  /** Requests and 5xx answers as the client saw them, for the error-rate alarm. */
  requests: cloudwatch.IMetric;
  serverErrors: cloudwatch.IMetric;
}

export class DavStack extends Stack {
  readonly table: dynamodb.ITable;
  readonly fn: lambda.Function;
  /** Runs bulk tasks (imports) on its own time, invoked asynchronously by `fn`. */
  readonly worker: lambda.Function;
  /** Sends WebDAV-Push messages from the table's stream (absent for an adopted table without a stream). */
  readonly pushFn?: lambda.Function;
  readonly url: string;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: DavStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.table = this.createTable(config);
    this.fn = this.createFunction(config, props.code ?? lambda.Code.fromAsset(sharedHandlerBundle().dir));
    this.table.grant(this.fn, ...DYNAMODB_ACTIONS);
    this.table.encryptionKey?.grantEncryptDecrypt(this.fn);
    this.worker = this.createWorker(config, props.code ?? lambda.Code.fromAsset(sharedHandlerBundle().dir));
    this.table.grant(this.worker, ...DYNAMODB_ACTIONS);
    this.table.encryptionKey?.grantEncryptDecrypt(this.worker);
    // The DAV function hands a started import to the worker (an asynchronous invocation) and returns.
    this.fn.addEnvironment("DAV_TASK_WORKER", this.worker.functionName);
    this.worker.grantInvoke(this.fn);
    if (config.mail)
      this.scheduleMail(config, config.mail, props.code ?? lambda.Code.fromAsset(sharedHandlerBundle().dir));
    this.pushFn = this.webdavPush(config, props.code ?? lambda.Code.fromAsset(sharedHandlerBundle().dir));

    const door =
      config.frontDoor === "http-api"
        ? this.httpApi(config)
        : config.frontDoor === "alb"
          ? this.loadBalancer(config)
          : this.functionUrl();
    this.url = door.url;
    // An ALB hands a Lambda answer of at most 1 MB on: a larger export is refused with a reason instead.
    if (config.frontDoor === "alb")
      this.fn.addEnvironment("DAV_MAX_RESPONSE_BYTES", String(ALB_MAX_RESPONSE_BYTES));
    this.createAlarms(config, door);

    new CfnOutput(this, "Url", { value: door.url, description: "The DAV server: give this URL to clients" });
    new CfnOutput(this, "TableName", {
      value: this.table.tableName,
      description: "TABLE_NAME for `npm run admin`",
    });
    new CfnOutput(this, "FunctionName", { value: this.fn.functionName });
    new CfnOutput(this, "WorkerName", { value: this.worker.functionName });
    new CfnOutput(this, "LogGroupName", { value: this.fn.logGroup.logGroupName });
    new CfnOutput(this, "FrontDoor", { value: config.frontDoor });
  }

  private createTable(config: DavStackConfig): dynamodb.ITable {
    const shape = tableShape();
    if (config.existingTableName) {
      return dynamodb.Table.fromTableAttributes(this, "Table", {
        tableName: config.existingTableName,
        tableStreamArn: config.existingTableStreamArn,
        globalIndexes: shape.globalSecondaryIndexes.map((g) => g.indexName),
        encryptionKey:
          config.encryption === "customer-managed" && config.kmsKeyArn
            ? kms.Key.fromKeyArn(this, "TableKey", config.kmsKeyArn)
            : undefined,
      });
    }
    let encryption = dynamodb.TableEncryption.DEFAULT;
    let encryptionKey: kms.IKey | undefined;
    if (config.encryption === "aws-managed") encryption = dynamodb.TableEncryption.AWS_MANAGED;
    if (config.encryption === "customer-managed") {
      encryption = dynamodb.TableEncryption.CUSTOMER_MANAGED;
      encryptionKey = config.kmsKeyArn
        ? kms.Key.fromKeyArn(this, "TableKey", config.kmsKeyArn)
        : new kms.Key(this, "TableKey", {
            description: "lambda-dav table encryption",
            enableKeyRotation: true,
            // A retained table is unreadable without its key, so the key outlives the stack too.
            removalPolicy: RemovalPolicy.RETAIN,
          });
    }
    const table = new dynamodb.Table(this, "Table", {
      billingMode: shape.billingMode,
      partitionKey: shape.partitionKey,
      sortKey: shape.sortKey,
      timeToLiveAttribute: TTL_ATTRIBUTE,
      stream: shape.stream,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      // The table holds every user's calendars and contacts: `cdk destroy` must never take it along.
      removalPolicy: RemovalPolicy.RETAIN,
      encryption,
      encryptionKey,
    });
    for (const gsi of shape.globalSecondaryIndexes) table.addGlobalSecondaryIndex(gsi);
    return table;
  }

  /**
   * WebDAV-Push: a VAPID seed generated once by CloudFormation into a retained secret (no deploy
   * replaces it, so subscriptions stay valid), read by the DAV function (the `transports`
   * property) and the push function; the push function reads the table's stream (keys only)
   * through an event source mapping whose batching window collapses a burst of changes.
   */
  private webdavPush(config: DavStackConfig, code: lambda.Code): lambda.Function | undefined {
    const streamArn = this.table.tableStreamArn;
    if (!streamArn) {
      // Nothing would deliver: the DAV function then offers no push.
      this.fn.addEnvironment("DAV_PUSH", "off");
      Annotations.of(this).addWarning(
        "the adopted table has no stream: give -c tableStreamArn=… (with the stream enabled) for WebDAV-Push",
      );
      return undefined;
    }
    const seed = new secretsmanager.Secret(this, "VapidSeed", {
      description:
        "lambda-dav: the seed of the WebDAV-Push VAPID key (never rotate: subscriptions would stop)",
      // Generated once, when the secret is created. Changing these settings makes CloudFormation
      // generate a new seed, a new VAPID key, and every phone's subscription stops: leave them.
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const { fn, role } = this.sideFunction(config, code, {
      id: "Push",
      handler: PUSH_HANDLER,
      description: "lambda-dav: WebDAV-Push messages from the table's stream",
      roleDescription:
        "lambda-dav push delivery: its log group, the table's stream and subscriptions, the VAPID seed",
      timeoutSeconds: 60,
      environment: {
        TABLE_NAME: this.table.tableName,
        DAV_VAPID_SECRET_ARN: seed.secretArn,
        // The VAPID contact push services see (RFC 8292 §2.1).
        ...(config.mail ? { DAV_PUSH_SUBJECT: `mailto:${config.mail.from}` } : {}),
      },
    });
    // Subscriptions are queried, rate counters updated, dead subscriptions deleted, and nothing
    // else: the leading-keys condition keeps it to the push partitions (it can touch no calendar).
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: [...PUSH_DYNAMODB_ACTIONS],
        resources: [this.table.tableArn],
        conditions: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["PUSH#*", "PUSHRATE#*"] } },
      }),
    );
    this.table.encryptionKey?.grantEncryptDecrypt(fn);
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
        resources: [streamArn],
      }),
    );
    // Lambda's poller lists streams before reading one; ListStreams has no resource-level permission.
    role.addToPolicy(new iam.PolicyStatement({ actions: ["dynamodb:ListStreams"], resources: ["*"] }));
    seed.grantRead(fn);
    seed.grantRead(this.fn);
    this.fn.addEnvironment("DAV_VAPID_SECRET_ARN", seed.secretArn);
    new lambda.EventSourceMapping(this, "PushStream", {
      target: fn,
      eventSourceArn: streamArn,
      startingPosition: lambda.StartingPosition.LATEST,
      batchSize: 1000,
      // Changes within two seconds become one message per collection.
      maxBatchingWindow: Duration.seconds(2),
      retryAttempts: 2,
      bisectBatchOnError: true,
      maxRecordAge: Duration.minutes(15),
    });
    new CfnOutput(this, "PushFunctionName", { value: fn.functionName });
    return fn;
  }

  /**
   * iMIP: the DAV function sends invitations through SES v2 with exactly `ses:SendEmail` on the
   * verified identity; replies come back through an SES receipt rule the operator points at the
   * topic this makes (README), whose messages a function of their own applies to the organizer's copy.
   */
  private scheduleMail(config: DavStackConfig, mail: NonNullable<DavStackConfig["mail"]>, code: lambda.Code) {
    this.fn.addEnvironment("DAV_MAIL_FROM", mail.from);
    this.fn.addEnvironment("DAV_MAIL_TRANSPORT", "ses");
    if (mail.perHour) this.fn.addEnvironment("DAV_MAIL_PER_HOUR", String(mail.perHour));
    this.fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ["ses:SendEmail"],
        resources: [this.formatArn({ service: "ses", resource: "identity", resourceName: mail.identity })],
        // A domain identity covers every address in it: only the configured one may send.
        conditions: { StringEquals: { "ses:FromAddress": mail.from } },
      }),
    );
    const { fn: inbound } = this.sideFunction(config, code, {
      id: "Imip",
      handler: IMIP_HANDLER,
      description: "lambda-dav: e-mailed replies to invitations (from SES receiving)",
      roleDescription: "lambda-dav inbound iMIP replies: its log group and its table only",
      timeoutSeconds: 30,
      environment: { TABLE_NAME: this.table.tableName },
    });
    // It reads and writes single items and transactions; no batches.
    this.table.grant(inbound, ...INBOUND_DYNAMODB_ACTIONS);
    this.table.encryptionKey?.grantEncryptDecrypt(inbound);
    const topic = new sns.Topic(this, "ImipInbound", { displayName: "lambda-dav inbound iMIP" });
    // SES publishes received mail to the topic (the receipt rule's SNS action).
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        actions: ["sns:Publish"],
        principals: [new iam.ServicePrincipal("ses.amazonaws.com")],
        resources: [topic.topicArn],
        conditions: { StringEquals: { "AWS:SourceAccount": this.account } },
      }),
    );
    topic.addSubscription(new subscriptions.LambdaSubscription(inbound));
    new CfnOutput(this, "ImipTopicArn", {
      value: topic.topicArn,
      description: "Point an SES receipt rule's SNS action (Base64 encoding) here for e-mailed replies",
    });
  }

  /**
   * A function beside the DAV handler from the same bundle (push, inbound iMIP): arm64, Node 22,
   * 256 MB, JSON logs to its own log group, its own role (granted what it needs by the caller).
   */
  private sideFunction(
    config: DavStackConfig,
    code: lambda.Code,
    o: {
      id: string;
      handler: string;
      description: string;
      roleDescription: string;
      timeoutSeconds: number;
      environment: Record<string, string>;
    },
  ) {
    const { logGroup, role } = this.ownLogsAndRole(config, `${o.id}Logs`, `${o.id}Role`, o.roleDescription);
    const fn = new lambda.Function(this, o.id, {
      role,
      description: o.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      code,
      handler: o.handler,
      memorySize: 256,
      timeout: Duration.seconds(o.timeoutSeconds),
      environment: o.environment,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.INFO,
    });
    return { fn, role };
  }

  /**
   * A function's own log group and role. An own role instead of AWSLambdaBasicExecutionRole, whose
   * log permissions cover every log group ("*"): this one may write to its own log group, and
   * what the caller grants besides (its table). Nothing else.
   */
  private ownLogsAndRole(config: DavStackConfig, logsId: string, roleId: string, description: string) {
    const logGroup = new logs.LogGroup(this, logsId, {
      retention: config.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(this, roleId, {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description,
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [logGroup.logGroupArn],
      }),
    );
    return { logGroup, role };
  }

  private createFunction(config: DavStackConfig, code: lambda.Code): lambda.Function {
    const { logGroup, role } = this.ownLogsAndRole(
      config,
      "Logs",
      "HandlerRole",
      "lambda-dav handler: its log group and its table only",
    );
    return new lambda.Function(this, "Handler", {
      role,
      description: "lambda-dav: CalDAV/CardDAV",
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      code,
      handler: LAMBDA_HANDLER,
      memorySize: config.memoryMb,
      timeout: Duration.seconds(config.timeoutSeconds),
      reservedConcurrentExecutions: config.reservedConcurrency,
      environment: { TABLE_NAME: this.table.tableName },
      logGroup,
      // The handler prints one JSON object per request; JSON format keeps Lambda's own lines JSON too.
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.INFO,
    });
  }

  /**
   * The task worker: the same bundle, entry point `worker`, with its own log group and role (its
   * log group, the table, and invoking itself to resume a task from its checkpoint; nothing else).
   */
  private createWorker(config: DavStackConfig, code: lambda.Code): lambda.Function {
    const { logGroup, role } = this.ownLogsAndRole(
      config,
      "WorkerLogs",
      "WorkerRole",
      "lambda-dav task worker: its log group, its table and itself only",
    );
    // A fixed name lets the role name the function it may invoke without a dependency cycle.
    const functionName = `${this.stackName.slice(0, 48)}-task-worker`;
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ["lambda:InvokeFunction"],
        resources: [
          this.formatArn({
            service: "lambda",
            resource: "function",
            resourceName: functionName,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    return new lambda.Function(this, "Worker", {
      functionName,
      role,
      description: "lambda-dav: bulk import tasks",
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      code,
      handler: WORKER_HANDLER,
      memorySize: config.memoryMb,
      timeout: Duration.seconds(WORKER_TIMEOUT_SECONDS),
      environment: { TABLE_NAME: this.table.tableName },
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.INFO,
      // A failed asynchronous invocation is not retried: the task's lease and checkpoint take care of it.
      retryAttempts: 0,
    });
  }

  private functionUrl(): FrontDoorParts {
    // Auth NONE: the server does HTTP Basic itself, and IAM auth would need SigV4-signing clients.
    const fnUrl = this.fn.addFunctionUrl({
      authType: lambda.FunctionUrlAuthType.NONE,
      invokeMode: lambda.InvokeMode.BUFFERED,
    });
    const m = (metricName: string) =>
      this.fn.metric(metricName, { statistic: "Sum", period: Duration.minutes(5) });
    return { url: fnUrl.url, requests: m("UrlRequestCount"), serverErrors: m("Url5xxCount") };
  }

  private httpApi(config: DavStackConfig): FrontDoorParts {
    const integration = new HttpLambdaIntegration("Dav", this.fn, {
      payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
    });
    let defaultDomainMapping: apigw.DomainMappingOptions | undefined;
    let domain: apigw.DomainName | undefined;
    if (config.customDomain) {
      domain = new apigw.DomainName(this, "Domain", {
        domainName: config.customDomain.domainName,
        certificate: acm.Certificate.fromCertificateArn(this, "Cert", config.customDomain.certificateArn),
      });
      defaultDomainMapping = { domainName: domain };
    }
    // The `$default` route takes every method and path, WebDAV's included, to the function.
    const api = new apigw.HttpApi(this, "Api", {
      apiName: this.stackName,
      description: "lambda-dav front door",
      defaultIntegration: integration,
      defaultDomainMapping,
    });
    let url = api.apiEndpoint + "/";
    if (config.customDomain && domain) {
      url = `https://${config.customDomain.domainName}/`;
      this.dnsRecord(
        config,
        new targets.ApiGatewayv2DomainProperties(domain.regionalDomainName, domain.regionalHostedZoneId),
        domain.regionalDomainName,
      );
    }
    const period = Duration.minutes(5);
    return {
      url,
      requests: api.metricCount({ period, statistic: "Sum" }),
      serverErrors: api.metricServerError({ period, statistic: "Sum" }),
    };
  }

  private loadBalancer(config: DavStackConfig): FrontDoorParts {
    let vpc: ec2.IVpc;
    let vpcSubnets: ec2.SubnetSelection;
    if (config.vpcId && config.publicSubnetIds) {
      const subnets = config.publicSubnetIds.map((id) => {
        const subnet = ec2.Subnet.fromSubnetId(this, `Subnet-${id}`, id);
        // The load balancer never reads the route table; only an internet gateway route matters.
        Annotations.of(subnet).acknowledgeWarning(
          "@aws-cdk/aws-ec2:noSubnetRouteTableId",
          "the ALB only needs the subnet ids",
        );
        return subnet;
      });
      // Only the VPC id is used (for the load balancer's security group); subnets are passed explicitly.
      vpc = ec2.Vpc.fromVpcAttributes(this, "Vpc", { vpcId: config.vpcId, availabilityZones: Fn.getAzs() });
      Annotations.of(vpc).acknowledgeWarning(
        "@aws-cdk/aws-ec2:vpcAttributeIsListTokenavailabilityZones",
        "subnets are passed explicitly",
      );
      vpcSubnets = { subnets };
    } else {
      // Public subnets only: the function is not in the VPC, so no NAT gateway (and its bill) is needed.
      vpc = new ec2.Vpc(this, "Vpc", {
        maxAzs: 2,
        natGateways: 0,
        // Its default security group stays unused; restricting it would add a custom-resource Lambda.
        restrictDefaultSecurityGroup: false,
        subnetConfiguration: [{ name: "public", subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }],
      });
      vpcSubnets = { subnetType: ec2.SubnetType.PUBLIC };
    }
    const alb = new elbv2.ApplicationLoadBalancer(this, "Alb", { vpc, vpcSubnets, internetFacing: true });
    // Like elbv2-targets' LambdaTarget, but the invoke permission is limited to this account's load
    // balancers (LambdaTarget allows any account's; a target-group ARN would be a circular reference).
    const permission = new lambda.CfnPermission(this, "AlbInvoke", {
      action: "lambda:InvokeFunction",
      functionName: this.fn.functionArn,
      principal: "elasticloadbalancing.amazonaws.com",
      sourceAccount: this.account,
    });
    const fnArn = this.fn.functionArn;
    const targetGroup = new elbv2.ApplicationTargetGroup(this, "Target", {
      targetType: elbv2.TargetType.LAMBDA,
      targets: [
        {
          attachToApplicationTargetGroup: () => ({
            targetType: elbv2.TargetType.LAMBDA,
            targetJson: { id: fnArn },
          }),
        },
      ],
      // Repeated headers (e.g. two Cookie or Set-Cookie lines) reach the handler as they were sent.
      multiValueHeadersEnabled: true,
    });
    // Lambda refuses to register a target group that may not invoke it yet.
    targetGroup.node.addDependency(permission);
    // The default action has no method condition, so every method (PROPFIND, REPORT, …) is forwarded.
    let url: string;
    if (config.customDomain) {
      const certificate = acm.Certificate.fromCertificateArn(
        this,
        "Cert",
        config.customDomain.certificateArn,
      );
      alb.addListener("Https", {
        port: 443,
        certificates: [certificate],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        defaultAction: elbv2.ListenerAction.forward([targetGroup]),
      });
      alb.addRedirect({ sourcePort: 80, targetPort: 443 });
      url = `https://${config.customDomain.domainName}/`;
      this.dnsRecord(config, new targets.LoadBalancerTarget(alb), alb.loadBalancerDnsName);
    } else {
      alb.addListener("Http", { port: 80, defaultAction: elbv2.ListenerAction.forward([targetGroup]) });
      url = `http://${alb.loadBalancerDnsName}/`;
      Annotations.of(this).addWarning(
        "frontDoor=alb without domainName/certificateArn serves plain HTTP: passwords cross the network in " +
          "clear text and Apple clients refuse Basic auth. Use it for testing only.",
      );
    }
    const period = Duration.minutes(5);
    const serverErrors = new cloudwatch.MathExpression({
      expression: "elb + target",
      usingMetrics: {
        elb: alb.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period, statistic: "Sum" }),
        target: alb.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, {
          period,
          statistic: "Sum",
        }),
      },
      period,
    });
    return { url, requests: alb.metrics.requestCount({ period, statistic: "Sum" }), serverErrors };
  }

  private dnsRecord(config: DavStackConfig, target: route53.IAliasRecordTarget, dnsTarget: string): void {
    const domain = config.customDomain!;
    if (domain.hostedZoneId && domain.hostedZoneName) {
      const zone = route53.HostedZone.fromHostedZoneAttributes(this, "Zone", {
        hostedZoneId: domain.hostedZoneId,
        zoneName: domain.hostedZoneName,
      });
      new route53.ARecord(this, "Alias", {
        zone,
        recordName: domain.domainName,
        target: route53.RecordTarget.fromAlias(target),
      });
    } else {
      new CfnOutput(this, "DnsTarget", {
        value: dnsTarget,
        description: `Point a CNAME (or alias) record for ${domain.domainName} at this name`,
      });
    }
  }

  private createAlarms(config: DavStackConfig, door: FrontDoorParts): void {
    const period = Duration.minutes(5);
    const alarm = (id: string, props: cloudwatch.AlarmProps) => {
      const a = new cloudwatch.Alarm(this, id, {
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...props,
      });
      this.alarms.push(a);
      return a;
    };
    alarm("FunctionErrors", {
      alarmDescription: "The DAV function threw, crashed or timed out (the handler answers errors itself).",
      metric: this.fn.metricErrors({ period, statistic: "Sum" }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    alarm("WorkerErrors", {
      alarmDescription: "The task worker threw, crashed or timed out (an import may have stopped early).",
      metric: this.worker.metricErrors({ period, statistic: "Sum" }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    if (this.pushFn) {
      alarm("PushErrors", {
        alarmDescription:
          "The push function threw, crashed or timed out (messages to phones may be late or lost).",
        metric: this.pushFn.metricErrors({ period, statistic: "Sum" }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
    }
    alarm("FunctionThrottles", {
      alarmDescription:
        "Requests were refused for lack of concurrency (reserved concurrency or account limit).",
      metric: this.fn.metricThrottles({ period, statistic: "Sum" }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    alarm("ServerErrorRate", {
      alarmDescription:
        `More than 5% of requests through the ${config.frontDoor} front door got a 5xx answer ` +
        "(periods with fewer than 20 requests are ignored).",
      metric: new cloudwatch.MathExpression({
        expression: "IF(requests >= 20, 100 * errors / requests, 0)",
        usingMetrics: { requests: door.requests, errors: door.serverErrors },
        label: "5xx %",
        period,
      }),
      threshold: 5,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    alarm("TableThrottles", {
      alarmDescription: "DynamoDB throttled reads or writes on the DAV table.",
      metric: new cloudwatch.MathExpression({
        expression: "reads + writes",
        usingMetrics: {
          reads: this.table.metric("ReadThrottleEvents", { period, statistic: "Sum" }),
          writes: this.table.metric("WriteThrottleEvents", { period, statistic: "Sum" }),
        },
        label: "throttle events",
        period,
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });

    if (config.alarmEmail) {
      const topic = new sns.Topic(this, "AlarmTopic", { displayName: "lambda-dav alarms" });
      topic.addSubscription(new subscriptions.EmailSubscription(config.alarmEmail));
      for (const a of this.alarms) a.addAlarmAction(new cwActions.SnsAction(topic));
      new CfnOutput(this, "AlarmTopicArn", { value: topic.topicArn });
    }
  }
}
