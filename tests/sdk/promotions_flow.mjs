// Drives one official JavaScript SDK through every Promotions method it has and prints what it saw.
//
//   node promotions_flow.mjs SDK HOST:PORT CLIENT_ID CLIENT_SECRET
//
// SDK is `@moltin/sdk` or `@elasticpath/js-sdk` (their PromotionsEndpoint is the same code). Prints one
// JSON document on stdout: for each step, the value the SDK resolved with (or rejected with, as
// `error`) and the HTTP exchanges it made (method, path with query, status). Every step runs, so a
// test sees every answer; the test asserts what each should be.

console.log = console.info = console.warn = console.error;

const [sdkName, host, clientId, clientSecret] = process.argv.slice(2);
const { gateway, MemoryStorageFactory } = await import(sdkName);

let exchanges = [];
async function recordingFetch(url, init = {}) {
  const { pathname, search } = new URL(url);
  const exchange = { method: init.method || 'GET', path: pathname + decodeURIComponent(search), status: null };
  exchanges.push(exchange);
  const response = await fetch(url, init);
  exchange.status = response.status;
  return response;
}

const sdk = gateway({
  client_id: clientId,
  client_secret: clientSecret,
  host,
  protocol: 'http',
  storage: new MemoryStorageFactory(),
  custom_fetch: recordingFetch,
});
const P = sdk.Promotions;
const report = { sdk: sdkName, steps: {} };

async function step(name, call) {
  exchanges = [];
  const entry = { exchanges };
  report.steps[name] = entry;
  try {
    entry.result = await call();
  } catch (error) {
    entry.error = error instanceof Error ? error.message : error;
  }
  // The endpoint keeps Filter/Limit/Offset for its next call: start every step without them.
  P.filter = P.limit = P.offset = undefined;
  return entry.result;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const base = {
  type: 'promotion', description: 'from the SDK', enabled: true, automatic: false,
  start: '2020-01-01T00:00:00Z', end: '2099-01-01T00:00:00Z',
};
const gift = {
  ...base, name: 'Gift', promotion_type: 'bundle_gift',
  schema: { requirements: [{ targets: ['sku-1'], quantity: 1 }], gifts: ['gift-1'], auto_add_free_gift: false },
};
const fixed = { ...base, name: 'Fixed', promotion_type: 'fixed_discount', schema: { currencies: [{ currency: 'USD', amount: 900 }] } };

await step('authenticate', () => sdk.Authenticate());
const created = await step('create', () => P.Create(gift));
await step('create_second', () => P.Create(fixed));
const id = created && created.data && created.data.id;
await step('all_page', () => P.Limit(1).Offset(1).All());
await step('get', () => P.Get(id));
await step('update', () => P.Update(id, { type: 'promotion', name: 'Gift 2' }));
await step('add_codes', () => P.AddCodes(id, [{ code: 'ZXY_CBA' }, { code: 'ABC_XYZ', uses: 2, user: ['cust-1', 'cust-2'] }]));
await step('all_filtered', () => P.Filter({ eq: { code: 'ZXY_CBA' } }).All());
await step('codes', () => P.Codes(id));
await step('codes_filtered', () => P.Filter({ eq: { code: 'ABC_XYZ' } }).Codes(id));
await step('attributes', () => P.Attributes());
await step('history', () => P.History(id));
const job = await step('add_codes_job', () => P.AddCodesJob(id, { type: 'promotion_job', job_type: 'code_export', name: 'Export' }));
await step('promotion_jobs', () => P.PromotionJobs(id));
await sleep(1200); // a job takes a second of the stand-in's clock
await step('promotion_jobs_filtered', () => P.Filter({ eq: { job_type: 'code_export', status: 'completed' } }).PromotionJobs(id));
await step('code_export_file', () => P.GetCodeExportFile(id, job && job.data && job.data.id));
await step('delete_code', () => P.DeleteCode(id, 'ZXY_CBA'));
await step('delete_codes', () => P.DeleteCodes(id, [{ code: 'ABC_XYZ' }]));
await step('codes_after_delete', () => P.Codes(id));
await step('delete', () => P.Delete(id));
await step('get_deleted', () => P.Get(id));

process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
