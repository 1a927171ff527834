/**
 * Thrown by parsePolicy (and withPublicRead when its result would be invalid). `message` is the
 * reason S3 gives in a MalformedPolicy error, e.g. 'Policy has invalid action'.
 */
export class PolicyError extends Error {
  override name = 'PolicyError';
}
