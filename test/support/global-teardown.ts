import { dropDatabase } from '../../src/database/database-setup';

export default async function globalTeardown(): Promise<void> {
  const url = process.env.TEST_DATABASE_URL;
  if (url) await dropDatabase(url);
}
