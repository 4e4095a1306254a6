// Drives the official Moltin JavaScript SDK through one promotion-codes flow and prints what it saw.
//
//   node moltin_flow.mjs HOST:PORT [CLIENT_ID [CLIENT_SECRET]]
//
// Falls back to MOLTIN_HOST, MOLTIN_CLIENT_ID, MOLTIN_CLIENT_SECRET; MOLTIN_PROTOCOL defaults to http.
// Prints one JSON document on stdout: for each step, the value the SDK resolved with and the HTTP
// exchanges it made (method, path with query, status). On an SDK error it still prints the document,
// with the failing step's `error`, then says which step failed on stderr and exits 1.

import { gateway, MemoryStorageFactory } from '@moltin/sdk';

// The SDK logs its token checks with console.info, which goes to stdout; stdout is for the document.
console.log = console.info = console.warn = console.error;

const host = process.argv[2] || process.env.MOLTIN_HOST;
const clientId = process.argv[3] || process.env.MOLTIN_CLIENT_ID || 'codestand-client';
const clientSecret = process.argv[4] || process.env.MOLTIN_CLIENT_SECRET || 'codestand-secret';
const protocol = process.env.MOLTIN_PROTOCOL || 'http';
if (!host) {
  console.error('usage: node moltin_flow.mjs HOST:PORT [CLIENT_ID [CLIENT_SECRET]] (or set MOLTIN_HOST)');
  process.exit(2);
}

let exchanges = [];
async function recordingFetch(url, init = {}) {
  const { pathname, search } = new URL(url);
  const exchange = { method: init.method || 'GET', path: pathname + search, status: null };
  exchanges.push(exchange);
  const response = await fetch(url, init);
  exchange.status = response.status;
  return response;
}

const Moltin = gateway({
  client_id: clientId,
  client_secret: clientSecret,
  host,
  protocol,
  // The default storage writes ./localStorage and reuses its token in the next run, against a new server.
  storage: new MemoryStorageFactory(),
  custom_fetch: recordingFetch,
});

const PROMOTION = {
  name: 'Promo #1',
  description: 'Initial Promotion',
  enabled: true,
  promotion_type: 'fixed_discount',
  schema: {
    currencies: [
      { currency: 'USD', amount: 900 },
      { currency: 'GBP', amount: 1100 },
    ],
  },
  start: '2017-11-13T00:00:00Z',
  end: '2099-11-13T00:00:00Z',
};
const CODES = [{ code: 'ZXY_CBA' }, { code: 'ABC_XYZ' }];
const DELETED = 'ZXY_CBA';

const report = { sdk: { name: '@moltin/sdk', version: Moltin.config.sdk.version }, host, steps: {} };

async function step(name, call) {
  exchanges = [];
  const entry = { exchanges };
  report.steps[name] = entry;
  try {
    entry.result = await call();
    return entry.result;
  } catch (error) {
    // The SDK rejects with the parsed error body; a network failure is an Error.
    entry.error = error instanceof Error ? `${error.message}${error.cause ? `: ${error.cause.message}` : ''}` : error;
    const last = exchanges.at(-1);
    const where = last ? ` (${last.method} ${last.path} answered ${last.status})` : '';
    return fail(`step "${name}" failed${where}: ${JSON.stringify(entry.error)}`);
  }
}

function fail(message) {
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  console.error(`moltin_flow: ${message}`);
  process.exit(1);
}

await step('authenticate', () => Moltin.Authenticate());
const created = await step('create_promotion', () => Moltin.Promotions.Create(PROMOTION));
const id = created?.data?.id;
if (typeof id !== 'string' || !id) fail(`step "create_promotion" resolved without data.id: ${JSON.stringify(created)}`);
await step('add_codes', () => Moltin.Promotions.AddCodes(id, CODES));
await step('list_codes', () => Moltin.Promotions.Codes(id));
await step('delete_code', () => Moltin.Promotions.DeleteCode(id, DELETED));
await step('list_codes_after_delete', () => Moltin.Promotions.Codes(id));

process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
