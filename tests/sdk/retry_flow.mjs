// Sends 40 requests at once through one official SDK and prints each exchange's status and
// whether every call resolved: against `--rate-limits vendor`, some are answered 429 and the SDK's
// own retry (after `attempt * retryDelay` ms) must get them through.
//
//   node retry_flow.mjs SDK HOST:PORT CLIENT_ID CLIENT_SECRET

console.log = console.info = console.warn = console.error;
const [sdkName, host, clientId, clientSecret] = process.argv.slice(2);
const { gateway, MemoryStorageFactory } = await import(sdkName);

const statuses = [];
async function recordingFetch(url, init = {}) {
  const response = await fetch(url, init);
  statuses.push(response.status);
  return response;
}
const sdk = gateway({ client_id: clientId, client_secret: clientSecret, host, protocol: 'http', storage: new MemoryStorageFactory(), custom_fetch: recordingFetch });
await sdk.Authenticate();
const results = await Promise.allSettled(Array.from({ length: 40 }, () => sdk.Promotions.All()));
process.stdout.write(`${JSON.stringify({ statuses, resolved: results.filter((r) => r.status === 'fulfilled').length })}\n`);
