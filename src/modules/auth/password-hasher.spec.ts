import { PasswordHasher } from './password-hasher';

describe('PasswordHasher', () => {
  const hasher = new PasswordHasher();

  it('should hash with argon2id and verify only the right password', async () => {
    const hash = await hasher.hash('a long enough password');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    await expect(hasher.verify(hash, 'a long enough password')).resolves.toBe(true);
    await expect(hasher.verify(hash, 'another password!!')).resolves.toBe(false);
  });

  it('should answer false, not throw, for a malformed hash', async () => {
    await expect(hasher.verify('not-a-hash', 'x')).resolves.toBe(false);
  });

  it('should answer false from the dummy verification', async () => {
    await expect(hasher.verifyDummy('anything')).resolves.toBe(false);
  });
});
