import type { MigrationInterface, QueryRunner } from 'typeorm';

// uuid primary keys use gen_random_uuid() (TypeORM's uuidExtension: 'pgcrypto').
export class EnablePgcrypto1795741114979 implements MigrationInterface {
  name = 'EnablePgcrypto1795741114979';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('CREATE EXTENSION IF NOT EXISTS pgcrypto');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP EXTENSION IF EXISTS pgcrypto');
  }
}
