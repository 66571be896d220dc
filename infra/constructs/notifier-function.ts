import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../functions/telemetry.js';

export interface NotifierFunctionProps
  extends Omit<
    NodejsFunctionProps,
    'runtime' | 'architecture' | 'logGroup' | 'logRetention' | 'logRemovalPolicy'
  > {
  entry: string;
  logGroupRetention?: RetentionDays;
  logGroupRemovalPolicy?: RemovalPolicy;
}

/**
 * The project's Lambda defaults in one place: Node 22 on arm64 (cheaper per ms than x86), an ESM bundle
 * made by esbuild, minified with source maps, X-Ray tracing and an explicit log group with retention.
 */
export class NotifierFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: NotifierFunctionProps) {
    const { logGroupRetention, logGroupRemovalPolicy, ...functionProps } = props;
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: logGroupRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: logGroupRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    super(scope, id, {
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      tracing: Tracing.ACTIVE,
      logGroup,
      ...functionProps,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ...functionProps.environment,
      },
      bundling: {
        minify: true,
        sourceMap: true,
        format: OutputFormat.ESM,
        target: 'node22',
        mainFields: ['module', 'main'],
        // The Node 22 runtime ships AWS SDK v3: leave it out of the bundle.
        externalModules: ['@aws-sdk/*'],
        // ESM bundles of CommonJS dependencies still call require().
        banner:
          "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
        ...functionProps.bundling,
      },
      timeout: functionProps.timeout ?? Duration.seconds(30),
    });
  }
}
