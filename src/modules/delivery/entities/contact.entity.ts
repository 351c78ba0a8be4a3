import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity({ name: 'contacts' })
export class ContactEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** E.164 (`+14155550100`), without the `whatsapp:` prefix. */
  @Column({ type: 'text' })
  phone!: string;

  @Column({ name: 'wa_id', type: 'text', nullable: true })
  waId!: string | null;

  @Column({ name: 'profile_name', type: 'text', nullable: true })
  profileName!: string | null;

  /** The customer-service window is open for 24 h after this. */
  @Column({ name: 'last_inbound_at', type: 'timestamptz', nullable: true })
  lastInboundAt!: Date | null;

  @Column({ name: 'opted_out_at', type: 'timestamptz', nullable: true })
  optedOutAt!: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
