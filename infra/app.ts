/**
 * The CDK app: `npm run synth` / `npm run deploy` (infra/cdk.json runs this file with tsx).
 * Parameters are CDK context values, e.g. `npm run deploy -- -c frontDoor=http-api`; see
 * infra/config.ts and the README's "Deploying to AWS" section.
 */
import { App } from "aws-cdk-lib";
import { ConfigError, configFromContext } from "./config.js";
import { DavStack } from "./stack.js";

const app = new App();
let config;
try {
  config = configFromContext((key) => app.node.tryGetContext(key));
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`lambda-dav: ${err.message}`);
    process.exit(1);
  }
  throw err;
}

const stackName = (app.node.tryGetContext("stackName") as string | undefined) ?? "LambdaDav";
new DavStack(app, stackName, {
  config,
  description: `lambda-dav CalDAV/CardDAV server (${config.frontDoor})`,
  // Region and account from the CLI's credentials when there are any; synth without them stays
  // environment-agnostic and works offline.
  env:
    process.env.CDK_DEFAULT_ACCOUNT && process.env.CDK_DEFAULT_REGION
      ? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION }
      : undefined,
});
app.synth();
