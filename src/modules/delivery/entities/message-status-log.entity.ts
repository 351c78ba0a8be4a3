import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type EventSource = 'api' | 'worker' | 'callback' | 'reconciler';

@Entity({ name: 'message_status_logs' })
export class MessageStatusLogEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'message_id', type: 'uuid', nullable: true })
  messageId!: string | null;

  @Column({ name: 'twilio_sid', type: 'text', nullable: true })
  twilioSid!: string | null;

  @Column({ type: 'text' })
  status!: string;

  @Column({ name: 'error_code', type: 'integer', nullable: true })
  errorCode!: number | null;

  @Column({ name: 'error_message', type: 'text', nullable: true })
  errorMessage!: string | null;

  @Column({ type: 'text' })
  source!: EventSource;

  @Column({ type: 'boolean' })
  applied!: boolean;

  /** The attempt a worker's or the API's own move belongs to; null for Twilio's events. */
  @Column({ type: 'integer', nullable: true })
  attempt!: number | null;

  @Column({ type: 'jsonb', nullable: true })
  payload!: Record<string, unknown> | null;

  @Column({ name: 'idempotency_token', type: 'text', nullable: true })
  idempotencyToken!: string | null;

  @Column({ name: 'received_at', type: 'timestamptz' })
  receivedAt!: Date;
}
