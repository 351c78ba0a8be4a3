import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

/** Keys live 24 h (Stripe's rule); an unfinished claim older than a minute was abandoned. */
const KEY_TTL = '24 hours';
const ABANDONED_AFTER = '60 seconds';

export type IdempotencyClaim =
  | { kind: 'new' }
  | { kind: 'replay'; status: number; body: unknown }
  | { kind: 'reused' }
  | { kind: 'in-flight' };

/** Idempotency-Key records, per user, in Postgres (so every replica sees them). */
@Injectable()
export class IdempotencyRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Claims the key for this request, or says what the first request with it did. */
  async claim(userId: string, key: string, requestHash: string): Promise<IdempotencyClaim> {
    for (let round = 0; round < 2; round += 1) {
      const inserted = await this.dataSource.query<unknown[]>(
        `INSERT INTO idempotency_keys (user_id, key, request_hash) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, key) DO NOTHING RETURNING key`,
        [userId, key, requestHash],
      );
      if (inserted.length > 0) return { kind: 'new' };
      const [existing] = await this.dataSource.query<
        {
          request_hash: string;
          response_status: number | null;
          response_body: unknown;
          expired: boolean;
          abandoned: boolean;
        }[]
      >(
        `SELECT request_hash, response_status, response_body,
                created_at < now() - interval '${KEY_TTL}' AS expired,
                response_status IS NULL AND created_at < now() - interval '${ABANDONED_AFTER}' AS abandoned
           FROM idempotency_keys WHERE user_id = $1 AND key = $2`,
        [userId, key],
      );
      if (!existing) continue; // deleted meanwhile: try to insert again
      if (existing.expired || existing.abandoned) {
        await this.release(userId, key, existing.expired);
        continue;
      }
      if (existing.request_hash !== requestHash) return { kind: 'reused' };
      if (existing.response_status === null) return { kind: 'in-flight' };
      return { kind: 'replay', status: existing.response_status, body: existing.response_body };
    }
    return { kind: 'in-flight' };
  }

  /** Stores the response, in the same transaction as the message it answers for. */
  async complete(
    manager: EntityManager,
    userId: string,
    key: string,
    status: number,
    body: unknown,
  ): Promise<void> {
    await manager.query(
      'UPDATE idempotency_keys SET response_status = $3, response_body = $4 WHERE user_id = $1 AND key = $2',
      [userId, key, status, JSON.stringify(body)],
    );
  }

  /** Frees a claim whose request produced nothing (refused, or failed), so the key can be used again. */
  async release(userId: string, key: string, evenCompleted = false): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 ${evenCompleted ? '' : 'AND response_status IS NULL'}`,
      [userId, key],
    );
  }

  /** Deletes up to `batch` keys older than 24 h (their replay window); how many it deleted. */
  async deleteExpired(batch: number): Promise<number> {
    const result = await this.dataSource.query<[unknown, number]>(
      `DELETE FROM idempotency_keys
        WHERE (user_id, key) IN (SELECT user_id, key FROM idempotency_keys
                                  WHERE created_at < now() - interval '24 hours' LIMIT $1)`,
      [batch],
    );
    return result[1];
  }
}
