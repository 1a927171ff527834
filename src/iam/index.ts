// Public face of iam/: who a request's access key belongs to.
import type { Credentials } from '../auth/index.ts';
import type { Principal } from '../s3/index.ts';
import type { RootCredentials } from './root-credentials.ts';
export { loadRootCredentials, type RootCredentials } from './root-credentials.ts';

/** Access keys and the accounts they belong to. Today: the root account's one key. */
export class Identity {
  private readonly keys = new Map<string, { credentials: Credentials; principal: Principal }>();

  constructor(root: RootCredentials) {
    this.keys.set(root.accessKeyId, {
      credentials: { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey },
      principal: { accountId: root.accountId, displayName: root.displayName, accessKeyId: root.accessKeyId },
    });
  }

  readonly lookup = async (accessKeyId: string): Promise<Credentials | undefined> => this.keys.get(accessKeyId)?.credentials;

  principal(accessKeyId: string): Principal | undefined {
    return this.keys.get(accessKeyId)?.principal;
  }
}
