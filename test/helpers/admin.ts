import { AdminClient } from '../../src/cli/admin-client.ts';
import type { TestServer } from './server.ts';

/** An admin API client signed with the test server's root key. */
export function adminClient(server: TestServer, caFile?: string): AdminClient {
  return new AdminClient({ endpoint: server.url, accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey, region: 'us-east-1', caFile });
}

/** A new account with one access key, made through the admin API. */
export async function newAccount(server: TestServer, name: string): Promise<{ id: string; accessKeyId: string; secretAccessKey: string }> {
  const admin = adminClient(server);
  const created = await admin.call('POST', 'accounts', { displayName: name, email: `${name}@example.com` });
  if (created.status !== 201) throw new Error(`account create: ${created.status} ${JSON.stringify(created.body)}`);
  const id = (created.body as { account: { id: string } }).account.id;
  const key = await admin.call('POST', `accounts/${id}/keys`);
  if (key.status !== 201) throw new Error(`key create: ${key.status} ${JSON.stringify(key.body)}`);
  const k = key.body as { key: { accessKeyId: string }; secretAccessKey: string };
  return { id, accessKeyId: k.key.accessKeyId, secretAccessKey: k.secretAccessKey };
}
