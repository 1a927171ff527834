import assert from 'node:assert/strict';

/** Asserts that an SDK call fails with the given S3 error code and HTTP status. */
export async function expectS3Error(promise: Promise<unknown>, code: string, status?: number, note?: string): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (err) {
    const e = err as Error & { Code?: string; $metadata?: { httpStatusCode?: number } };
    assert.equal(e.name, code, `${note ?? ''} expected ${code}, got ${e.name}: ${e.message}`);
    if (status !== undefined) assert.equal(e.$metadata?.httpStatusCode, status, `${note ?? ''} status`);
    return e;
  }
  assert.fail(`${note ?? ''} expected ${code}, but the call succeeded`);
}

/** Asserts that an SDK call fails with the given HTTP status (for bodiless answers such as 304). */
export async function expectStatus(promise: Promise<unknown>, status: number): Promise<void> {
  try {
    await promise;
  } catch (err) {
    assert.equal((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, status);
    return;
  }
  assert.fail(`expected HTTP ${status}, but the call succeeded`);
}
