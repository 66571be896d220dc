import { parseArgs } from 'node:util';
import { vendorExampleOrders } from './fixtures.js';
import { generateOrders } from './generator.js';
import { LiveActivity } from './live.js';
import { startSimulator } from './server.js';

/** `npm run sim`: the Uphance simulator on its own. */
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4010' },
    orders: { type: 'string', default: '200' },
    seed: { type: 'string', default: '1' },
    latency: { type: 'string', default: '0' },
    live: { type: 'boolean', default: false },
    'tick-seconds': { type: 'string', default: '3' },
    token: { type: 'string', default: 'sim-token' },
  },
});

const sim = await startSimulator({
  port: Number(values.port),
  tokens: [values.token as string],
  users: [{ email: 'demo@example.com', password: 'demo-password' }],
  latencyMs: Number(values.latency),
  orders: [
    ...vendorExampleOrders(),
    ...generateOrders({ count: Number(values.orders), seed: Number(values.seed) }),
  ],
});
process.stderr.write(
  `Uphance simulator on ${sim.url} with ${sim.state.orders.size} orders\n` +
    `  token: ${values.token}  (or POST /oauth/token with demo@example.com / demo-password)\n` +
    `  try: curl -H 'Authorization: Bearer ${values.token}' '${sim.url}/production_orders?include_stages=true'\n`,
);
if (values.live) {
  const live = new LiveActivity(sim.state);
  setInterval(() => live.tick(), Number(values['tick-seconds']) * 1000);
  process.stderr.write('  orders move on their own (--live)\n');
}
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => void sim.close().then(() => process.exit(0)));
