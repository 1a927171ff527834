// Public face of auth/: verify a request's signature (SigV4, SigV2, presigned) and hand back
// a verified payload stream. Handlers never think about signatures.
export type { Credentials, CredentialLookup, AuthInput, AuthOptions, AuthResult } from './types.ts';
export { authenticate } from './authenticate.ts';
