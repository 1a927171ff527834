// Public face of iam/: accounts, access keys and who a request's key belongs to.
export { Identity } from './identity.ts';
export { Accounts, AccountError, accountInfo, keyInfo, resealSecrets, type KeyInfo } from './accounts.ts';
export { SecretBox } from './secret-box.ts';
export { hashPassword, verifyPassword } from './password.ts';
