/**
 * Every AWS client the notifier makes, built here with the same request timeouts: a call that hangs
 * fails (and is retried by the SDK) within seconds, so that a run's deadline holds instead of the Lambda
 * timeout cutting it. The SDK's own settings still apply (region, credentials, AWS_ENDPOINT_URL_<SERVICE>).
 */
const REQUEST_TIMEOUTS = { requestTimeout: 10_000, connectionTimeout: 3_000 };

/**
 * A client of an AWS service (the SDK's class: `awsClient(DynamoDBClient)`) with the timeouts; `config`
 * adds to them (a local endpoint and credentials, fewer attempts). Each service's SDK is loaded by its
 * caller only, so that a command that needs one client does not load them all.
 */
export const awsClient = <Client, Config extends object>(
  Service: new (config: Config) => Client,
  config?: Config,
): Client => new Service({ requestHandler: { ...REQUEST_TIMEOUTS }, ...config } as Config);
