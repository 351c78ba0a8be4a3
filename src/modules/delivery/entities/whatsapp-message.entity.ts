import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity({ name: 'whatsapp_messages' })
export class WhatsappMessageEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'text' })
  direction!: 'outbound' | 'inbound';

  @Column({ name: 'twilio_sid', type: 'text', nullable: true })
  twilioSid!: string | null;

  @Column({ type: 'text', nullable: true })
  from!: string | null;

  @Column({ type: 'text' })
  to!: string;

  @Column({ type: 'text', nullable: true })
  body!: string | null;

  @Column({ name: 'content_sid', type: 'text', nullable: true })
  contentSid!: string | null;

  @Column({ name: 'content_variables', type: 'jsonb', nullable: true })
  contentVariables!: Record<string, string> | null;

  @Column({ name: 'media_urls', type: 'jsonb' })
  mediaUrls!: string[];

  @Column({ type: 'text', nullable: true })
  reference!: string | null;

  @Column({ type: 'jsonb', nullable: true })
  metadata!: Record<string, unknown> | null;

  @Column({ type: 'text' })
  status!: string;

  @Column({ name: 'error_code', type: 'integer', nullable: true })
  errorCode!: number | null;

  @Column({ name: 'error_message', type: 'text', nullable: true })
  errorMessage!: string | null;

  @Column({ type: 'integer' })
  attempts!: number;

  @Column({ name: 'max_attempts', type: 'integer' })
  maxAttempts!: number;

  @Column({ name: 'created_by', type: 'uuid', nullable: true })
  createdBy!: string | null;

  @Column({ name: 'idempotency_key', type: 'text', nullable: true })
  idempotencyKey!: string | null;

  @Column({ name: 'accepted_at', type: 'timestamptz', nullable: true })
  acceptedAt!: Date | null;

  @Column({ name: 'sent_at', type: 'timestamptz', nullable: true })
  sentAt!: Date | null;

  @Column({ name: 'delivered_at', type: 'timestamptz', nullable: true })
  deliveredAt!: Date | null;

  @Column({ name: 'read_at', type: 'timestamptz', nullable: true })
  readAt!: Date | null;

  @Column({ name: 'failed_at', type: 'timestamptz', nullable: true })
  failedAt!: Date | null;

  /** When the current holder claimed it (the takeover clock). */
  @Column({ name: 'dispatch_started_at', type: 'timestamptz', nullable: true })
  dispatchStartedAt!: Date | null;

  /** When an attempt may first have reached Twilio unseen: later attempts look before sending. */
  @Column({ name: 'uncertain_since', type: 'timestamptz', nullable: true })
  uncertainSince!: Date | null;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', nullable: true })
  nextAttemptAt!: Date | null;

  @Column({ name: 'last_error_retryable', type: 'boolean' })
  lastErrorRetryable!: boolean;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
