import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { propsFromContext } from './context.js';
import { NotifierStack } from './notifier-stack.js';

const app = new App();
new NotifierStack(app, app.node.tryGetContext('stackName') ?? 'UphanceNotifier', {
  ...propsFromContext((key) => app.node.tryGetContext(key)),
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  description: 'Uphance production-order change notifier (uphance-notifier)',
});
// Every synth is checked against the AWS Solutions rules; findings fail the synth.
Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
