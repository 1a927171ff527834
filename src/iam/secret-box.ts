import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { KeyRing } from '../security/master-key.ts';

/**
 * Seals access-key secrets under the master key (AES-256-GCM, the key id kept beside the
 * ciphertext so the master key can be rotated). The access key id is bound as associated data,
 * so a sealed secret copied onto another key's row does not open.
 */
export class SecretBox {
  private readonly keys: KeyRing;

  constructor(keys: KeyRing) {
    this.keys = keys;
  }

  seal(accessKeyId: string, secret: string): string {
    const master = this.keys.current;
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', master.key, nonce);
    cipher.setAAD(Buffer.from(`oort-secret:${accessKeyId}`));
    const ct = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `v1:${master.id}:${nonce.toString('base64url')}:${ct.toString('base64url')}`;
  }

  /** The master key id a sealed secret was sealed under. */
  static keyIdOf(sealed: string): string | undefined {
    return sealed.split(':')[1];
  }

  open(accessKeyId: string, sealed: string): string {
    const [version, keyId, nonce, ct] = sealed.split(':');
    if (version !== 'v1' || !nonce || !ct) throw new Error('unknown sealed secret format');
    const bytes = Buffer.from(ct, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', this.keys.get(keyId!).key, Buffer.from(nonce, 'base64url'));
    decipher.setAAD(Buffer.from(`oort-secret:${accessKeyId}`));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - 16)), decipher.final()]).toString('utf8');
  }
}
